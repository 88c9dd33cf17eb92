"""The hourly production served from the compact cadastre is the build's own.

The build computes each face's production hour by hour in full precision, then stores only
the light its modules get (:mod:`solar.profiles`); the service recomputes the hours from it.
For every face with modules, the normalised mean absolute error of the served hours against
the build's, ``sum|served - built| / sum(built)`` over the 8760 hours, and the error of the
annual total must stay within 0.5%.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely

from solar import build, pv
from solar.build import tile
from solar.cadastre import Cadastre, FaceRecord
from solar.footprints import Footprint
from solar.surface import Surface
from tests import scenes

TOLERANCE = 0.005


def _build_and_serve(
    surface: Surface, footprints: Sequence[Footprint], out: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[FaceRecord], np.ndarray, dict[str, np.ndarray]]:
    """The faces a build writes, its full-precision hours per kWc, and the served ones.

    The build sums the hours into months as it computes them
    (:func:`solar.pv.monthly_specific_production`); its full-precision hours are
    :func:`solar.pv.specific_production` of the shading its stage 5 was given.
    """
    built_hours: list[np.ndarray] = []
    records: list[FaceRecord] = []
    rows = tile._rows

    def keep_records(*args: Any, **kwargs: Any) -> tuple[list[FaceRecord], list[bytes]]:
        block, _, _, production_shading, climate, options = args
        tilts, azimuths = tile._module_planes(block)
        hours = pv.specific_production(
            climate.weather,
            climate.solpos,
            tilts,
            azimuths,
            production_shading,
            module=climate.module,
            albedo=options.albedo,
            system_losses=options.system_losses,
        )
        built_hours.append(np.asarray(hours, dtype=np.float64))
        out_rows = rows(*args, **kwargs)
        records.extend(out_rows[0])
        return out_rows

    with monkeypatch.context() as patch:
        patch.setattr(tile, "_rows", keep_records)
        summary = build.build_from_surface(
            build.Territory(surface, list(footprints), communes=None), out=out
        )
    hours = np.concatenate(built_hours)
    assert hours.shape == (len(records), 8760)
    served = Cadastre(summary.path).profiles([r.face_id for r in records])
    return records, hours, served


def _check(records: list[FaceRecord], built: np.ndarray, served: dict[str, np.ndarray]) -> int:
    """Assert the tolerance on every face with modules; return how many were checked."""
    checked = 0
    for record, hours in zip(records, built, strict=True):
        if record.panels == 0:
            continue
        total = hours.sum()
        error = np.abs(served[record.face_id] - hours).sum()
        assert error <= TOLERANCE * total, (record.face_id, error / total)
        assert served[record.face_id].sum() == pytest.approx(total, rel=TOLERANCE)
        checked += 1
    return checked


def test_a_shaded_terrace_serves_the_hours_it_was_built_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # twelve houses in a row, with a tree that shades part of the first south face
    scene = scenes.terrace(12, tree=(4.0, 4.0))
    records, built, served = _build_and_serve(
        scene.surface, [scene.footprint], tmp_path / "t.gpkg", monkeypatch
    )
    assert _check(records, built, served) >= 2
    # the tree's shade makes hours of partial light, which the packing must carry
    partial = (built > 0) & (built < built.max(axis=1, keepdims=True) * 0.99)
    assert partial.any()


def test_casters_around_a_gable_serve_the_hours_they_were_built_with(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a block south of the gable and a tree crown: shade on the south face at low sun
    scene = scenes.gable_with_casters(block=(4.0, 10.0, 4.0, 9.0), crown=(2.0, 3.0, 11.0))
    records, built, served = _build_and_serve(
        scene.surface, [scene.footprint], tmp_path / "g.gpkg", monkeypatch
    )
    assert _check(records, built, served) >= 1
    assert any(r.shading_loss_pct > 5.0 for r in records)


@pytest.mark.slow
def test_real_delft_roofs_serve_the_hours_they_were_built_with(
    delft_surface: tuple[Surface, tuple[Footprint, ...]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    surface, footprints = delft_surface
    # the row houses nearest the centre, every other building of the sample shading them
    centre = shapely.Point(
        (surface.bounds[0] + surface.bounds[2]) / 2, (surface.bounds[1] + surface.bounds[3]) / 2
    )
    nearest = sorted(footprints, key=lambda f: f.geometry.distance(centre))[:30]
    records, built, served = _build_and_serve(surface, nearest, tmp_path / "d.gpkg", monkeypatch)
    assert _check(records, built, served) >= 20
