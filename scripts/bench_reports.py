"""Benchmark of a commune's reports: 1,000 buildings, CSV, XLSX, GeoJSON and PDF.

Targets: CSV and XLSX within 2 s, the PDF within 10 s, for a 1,000-building commune.

The commune is the grid of gable roofs of ``tests/communes/synthetic.py`` (two faces per
building, hourly profiles), written as a real cadastre GeoPackage, with a real store
(SQLite) holding a portfolio: ``--retained`` buildings retained (one PDF page each), and
``--consumers`` of the portfolio with an annual consumption (sized for self-consumption
hour by hour). Each case times what a request does: read the buildings, the portfolio and
the addresses, assess every building, write the file (``app.routers.reports``), on one
core. It prints the median of ``--repeat`` runs, its ratio to the target, and its ratio
to a baseline measured in the same run: writing the same 1,000 buildings' cadastre
columns with the csv module, the least any report can cost.

    .venv/bin/python scripts/bench_reports.py
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from rasterio.crs import CRS

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.communes.store import Store  # noqa: E402
from app.routers.reports import WRITERS, commune_report  # noqa: E402
from solar import profiles, pv  # noqa: E402
from solar.cadastre import (  # noqa: E402
    BUILDING_FIELDS,
    BuildingRecord,
    Cadastre,
    FaceProfiles,
    FaceRecord,
    GeoTable,
    write_cadastre,
)
from solar.resources import DEFAULT_WEATHER  # noqa: E402
from solar.weather import read_weather  # noqa: E402
from tests.communes import synthetic  # noqa: E402

TARGETS_S = {"csv": 2.0, "xlsx": 2.0, "geojson": 2.0, "pdf": 10.0}
TARIFF_DATE = dt.date(2026, 1, 15)


def write_commune(folder: Path, n_buildings: int) -> Path:
    """The synthetic commune as a cadastre GeoPackage."""
    fake, records = synthetic.commune(n_buildings)
    faces: list[FaceRecord] = [f for r in records for f in fake.faces(r.building_id)]
    monthly = {
        "face_id": np.repeat([f.face_id for f in faces], 12).astype(object),
        "month": np.tile(np.arange(1, 13), len(faces)),
        "irradiation_kwh_m2": np.repeat([f.irradiation_kwh_m2_yr / 12 for f in faces], 12),
        "production_kwh": np.repeat([f.production_kwh_yr / 12 for f in faces], 12),
    }
    # every face open to the sun: its hours follow its module plane and the Artois weather
    open_sky = profiles.encode_light(np.ones(8760), 1.0, 1.0)
    light = FaceProfiles([f.face_id for f in faces], [open_sky] * len(faces))
    return write_cadastre(
        folder / "commune.gpkg",
        crs=CRS.from_epsg(2154),
        buildings=GeoTable.from_records(records, BuildingRecord, "MultiPolygon"),
        faces=GeoTable.from_records(faces, FaceRecord, "MultiPolygon"),
        monthly=monthly,
        profiles=light,
        provenance={"source": "scripts/bench_reports.py"},
        site=profiles.ProductionSite(
            read_weather(DEFAULT_WEATHER), pv.load_module(None), pv.SYSTEM_LOSSES, 0.2
        ),
    )


def fill_portfolio(store: Store, records: list[BuildingRecord], retained: int, consumers: int):
    key_id, _ = store.create_key("bench", [synthetic.LENS_INSEE])
    entries = []
    for i, record in enumerate(records[: max(retained, consumers) * 2]):
        status = "retenu" if i < retained else "a_etudier"
        usage = ("ecole", "mairie", "salle_de_sport")[i % 3]
        consumption = 40_000.0 if i < consumers else None
        entries.append(synthetic.entry(record.building_id, status, usage, consumption))
    store.import_entries(entries, key_id=key_id)


def baseline(cadastre: Cadastre) -> bytes:
    """The commune's buildings as a plain CSV of their cadastre columns."""
    records, _ = cadastre.buildings_in_commune(synthetic.LENS_INSEE, limit=100_000)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(BUILDING_FIELDS)
    for r in records:
        writer.writerow([getattr(r, name) for name in BUILDING_FIELDS])
    return out.getvalue().encode("utf-8-sig")


def median_s(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buildings", type=int, default=1000)
    parser.add_argument("--retained", type=int, default=50)
    parser.add_argument("--consumers", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = write_commune(folder, args.buildings)
        cadastre = Cadastre(path)
        store = Store(folder / "communes.sqlite")
        records, _ = cadastre.buildings_in_commune(synthetic.LENS_INSEE, limit=100_000)
        fill_portfolio(store, records, args.retained, args.consumers)
        base = median_s(lambda: baseline(cadastre), args.repeat)
        print(
            f"{args.buildings} buildings, {args.retained} retained, {args.consumers} with a "
            f"consumption; median of {args.repeat} runs"
        )
        print(f"baseline (plain CSV of the cadastre columns): {base * 1000:.1f} ms")
        for fmt, target in TARGETS_S.items():

            def run(fmt: str = fmt) -> bytes:
                report = commune_report(cadastre, store, synthetic.LENS_INSEE, "all", TARIFF_DATE)
                return WRITERS[fmt](report)

            size = len(run())
            elapsed = median_s(run, args.repeat)
            print(
                f"{fmt:8s} {elapsed:6.2f} s  ({elapsed / target:.2f} of the {target:g} s target, "
                f"{elapsed / base:.0f} x baseline)  {size / 1e6:.2f} MB"
            )
        store.close()
        cadastre.close()


if __name__ == "__main__":
    main()
