"""Each terraced house its own answer: a row drawn as one footprint, split per dwelling."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import shapely

from solar import build, dwellings
from solar.addresses import Address
from solar.cadastre import Cadastre
from solar.footprints import Attributes
from tests import scenes

HOUSES = 6
WIDTH = 6.0  # each house's frontage along the row [m]


def _doors(scene: scenes.Scene) -> list[Address]:
    """One BAN point per house, on the street (north) side, 0.5 m inside the footprint."""
    xmin, _, _, ymax = scene.footprint.geometry.bounds
    return [
        Address(
            address_id=f"62498_0540_{k:05d}",
            label=f"{k} Rue des Corons 62300 Lens",
            numero=k,
            rep="",
            nom_voie="Rue des Corons",
            code_postal="62300",
            code_insee="62498",
            nom_commune="Lens",
            x=xmin + (k - 0.5) * WIDTH,
            y=ymax - 0.5,
            lon=0.0,
            lat=0.0,
        )
        for k in range(1, HOUSES + 1)
    ]


def test_parts_are_the_houses_cut_at_the_party_walls() -> None:
    scene = scenes.terrace(HOUSES, house_width=WIDTH)
    doors = _doors(scene)
    split = dwellings.split_footprints([scene.footprint], doors)
    (row,) = split.footprints
    assert [p.part_id for p in row.parts] == [a.address_id for a in doors]
    xmin = scene.footprint.geometry.bounds[0]
    for k, part in enumerate(row.parts):
        # the Voronoi edge between two doors of one street is the party wall between them
        assert part.geometry.bounds[0] == pytest.approx(xmin + k * WIDTH, abs=1e-6)
        assert part.geometry.area == pytest.approx(WIDTH * 8.0, rel=1e-6)
    assert split.address_parts == [a.address_id for a in doors]


def test_a_footprint_with_one_address_stays_whole() -> None:
    scene = scenes.gable()
    door = _doors(scene)[0]
    split = dwellings.split_footprints([scene.footprint], [door])
    assert split.footprints[0].parts == () and split.address_parts == [None]
    assert shapely.equals(split.footprints[0].geometry, scene.footprint.geometry)


def test_parcels_split_the_row_when_given() -> None:
    scene = scenes.terrace(2, house_width=WIDTH)
    xmin, ymin, xmax, ymax = scene.footprint.geometry.bounds
    middle = xmin + WIDTH + 0.3  # the cadastre's line, 0.3 m off the wall
    parcels = [
        dwellings.Parcel("62498000AB0001", shapely.box(xmin - 5, ymin - 20, middle, ymax - 0.2)),
        dwellings.Parcel("62498000AB0002", shapely.box(middle, ymin - 20, xmax + 5, ymax - 0.2)),
        # the parcel across the street, which the row's footprint overlaps by a drawing offset
        dwellings.Parcel("62498000AB0003", shapely.box(xmin - 5, ymax - 0.2, xmax + 5, ymax + 9)),
    ]
    split = dwellings.split_footprints([scene.footprint], _doors(scene)[:2], parcels=parcels)
    (row,) = split.footprints
    assert [p.part_id for p in row.parts] == ["62498000AB0001", "62498000AB0002"]
    assert sum(p.geometry.area for p in row.parts) == pytest.approx(row.geometry.area, rel=1e-6)
    assert split.address_parts == ["62498000AB0001", "62498000AB0002"]


def test_each_house_of_the_row_gets_its_own_roof(tmp_path: Path) -> None:
    scene = scenes.terrace(HOUSES, house_width=WIDTH)
    doors = _doors(scene)
    summary = build.build_from_surface(
        build.Territory(scene.surface, [scene.footprint], addresses=doors, communes=None),
        out=tmp_path / "row.gpkg",
    )
    store = Cadastre(summary.path)
    faces = store.faces("row")
    assert {f.part_id for f in faces} == {a.address_id for a in doors}
    by_part: dict[str, list] = {}
    for face in faces:
        by_part.setdefault(face.part_id, []).append(face)
    # every house has its two slopes, south and north, each within 8 % of its share of the truth
    for own in by_part.values():
        south = [f for f in own if f.azimuth_deg is not None and abs(f.azimuth_deg - 180) < 10]
        north = [
            f
            for f in own
            if f.azimuth_deg is not None and min(f.azimuth_deg, 360 - f.azimuth_deg) < 10
        ]
        for found, truth in zip((south, north), scene.faces, strict=True):
            assert sum(f.area_m2 for f in found) == pytest.approx(truth.area_m2 / HOUSES, rel=0.08)
    production = {p: sum(f.production_kwh_yr for f in own) for p, own in by_part.items()}
    west, *middle, east = (production[a.address_id] for a in doors)
    # the tree in the west garden shades the west house most, its neighbour a little
    assert west < 0.9 * east
    assert west < middle[0] < middle[1]
    np.testing.assert_allclose(middle[1:], east, rtol=0.03)
    # the whole row is still one building, its totals the sum of the houses' counted faces
    row = store.building("row")
    assert row.n_faces == len(faces)
    assert {a.address_id: a.part_id for a in store.addresses()} == {
        a.address_id: a.address_id for a in doors
    }


def test_a_corner_house_with_an_address_on_each_street_stays_whole() -> None:
    scene = scenes.gable()
    front, side = _doors(scenes.terrace(2, house_width=WIDTH))[:2]
    xmin, ymin, xmax, ymax = scene.footprint.geometry.bounds
    corner = [
        dataclasses.replace(front, x=xmin + 2.0, y=ymax - 0.5),
        dataclasses.replace(side, nom_voie="Rue Pasteur", numero=3, x=xmax - 0.5, y=ymin + 2.0),
    ]
    split = dwellings.split_footprints([scene.footprint], corner)
    assert split.footprints[0].parts == () and split.address_parts == [None, None]


def test_one_dwelling_by_bd_topo_stays_whole() -> None:
    scene = scenes.terrace(2, house_width=WIDTH)
    single = dataclasses.replace(scene.footprint, attributes=Attributes(nombre_de_logements=1))
    split = dwellings.split_footprints([single], _doors(scene)[:2])
    assert split.footprints[0].parts == ()
