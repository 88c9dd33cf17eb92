"""A synthetic commune for the report tests and the benchmark: a grid of gable roofs.

Each building is a 12 x 10 m rectangle in Lambert-93 near Lens, with two faces (south and
north halves). A face's hourly production per kWc is a half-sine over the daylight hours
of each UTC day, scaled to the face's specific yield; the building totals are the sums
of its faces, as a build writes them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import shapely
from pyproj import CRS

from solar.cadastre import BuildingRecord, FaceRecord
from solar.communes.portfolio import PortfolioEntry
from solar.communes.reports import ReportBuilding

LENS_INSEE = "62498"
ORIGIN = (687_000.0, 7_037_000.0)
MODULE_KWC = 0.425
SPACING_M = 30.0


def daylight_profile(specific_yield: float) -> np.ndarray:
    """(8760,) hourly production per kWc: a half-sine from 06 to 18 UTC. [kWh kWc-1]"""
    hour = np.arange(8760) % 24
    shape = np.where((hour >= 6) & (hour < 18), np.sin(np.pi * (hour - 6 + 0.5) / 12), 0.0)
    return shape * specific_yield / shape.sum()


@dataclass
class FakeCadastre:
    """What :func:`solar.communes.reports.assess` reads of a cadastre, in memory."""

    crs: CRS = field(default_factory=lambda: CRS.from_epsg(2154))
    face_records: dict[str, list[FaceRecord]] = field(default_factory=dict)
    face_profiles: dict[str, np.ndarray] = field(default_factory=dict)

    def faces(self, building_id: str) -> list[FaceRecord]:
        return self.face_records.get(building_id, [])

    def profiles(self, face_ids: list[str]) -> dict[str, np.ndarray]:
        return {f: self.face_profiles[f] for f in face_ids if f in self.face_profiles}


def _face(
    building_id: str, n: int, polygon: shapely.Polygon, south: bool, panels: int, yield_: float
) -> FaceRecord:
    kwc = panels * MODULE_KWC
    return FaceRecord(
        building_id=building_id,
        face_id=f"{building_id}-{n}",
        tilt_deg=35.0,
        azimuth_deg=180.0 if south else 0.0,
        is_flat=False,
        area_m2=polygon.area / np.cos(np.radians(35.0)),
        usable_area_m2=0.8 * polygon.area,
        irradiation_kwh_m2_yr=1200.0 if south else 700.0,
        shading_loss_pct=3.0,
        panels=panels,
        kwc=kwc,
        production_kwh_yr=kwc * yield_,
        specific_yield_kwh_kwc=yield_,
        suitability="excellent" if south else "fair",
        geometry=polygon,
    )


def commune(
    n_buildings: int, *, panels: tuple[int, int] = (20, 10)
) -> tuple[FakeCadastre, list[BuildingRecord]]:
    """``n_buildings`` gable roofs on a square grid; building ``i`` holds ``panels`` modules
    on its south and north faces, times ``1 + i % 5`` so that the sizes differ."""
    cadastre = FakeCadastre()
    records = []
    side = int(np.ceil(np.sqrt(n_buildings)))
    for i in range(n_buildings):
        building_id = f"BAT{i:05d}"
        x = ORIGIN[0] + SPACING_M * (i % side)
        y = ORIGIN[1] + SPACING_M * (i // side)
        footprint = shapely.box(x, y, x + 12.0, y + 10.0)
        factor = 1 + i % 5
        south = _face(
            building_id, 1, shapely.box(x, y, x + 12.0, y + 5.0), True, panels[0] * factor, 1000.0
        )
        north = _face(
            building_id,
            2,
            shapely.box(x, y + 5.0, x + 12.0, y + 10.0),
            False,
            panels[1] * factor,
            700.0,
        )
        faces = [south, north]
        cadastre.face_records[building_id] = faces
        for face in faces:
            cadastre.face_profiles[face.face_id] = daylight_profile(face.specific_yield_kwh_kwc)
        kwc = sum(f.kwc for f in faces)
        production = sum(f.production_kwh_yr for f in faces)
        records.append(
            BuildingRecord(
                building_id=building_id,
                commune_insee=LENS_INSEE,
                n_faces=2,
                usable_area_m2=sum(f.usable_area_m2 for f in faces),
                panels=sum(f.panels for f in faces),
                kwc=kwc,
                production_kwh_yr=production,
                specific_yield_kwh_kwc=production / kwc,
                irradiation_kwh_m2_yr=950.0,
                shading_loss_pct=3.0,
                suitability="good",
                footprint_check="ok",
                footprint_shift_m=None,
                geometry=footprint,
            )
        )
    return cadastre, records


def entry(
    building_id: str, status: str, usage: str | None = None, annual_kwh: float | None = None
) -> PortfolioEntry:
    return PortfolioEntry(
        commune_insee=LENS_INSEE,
        building_id=building_id,
        status=status,  # type: ignore[arg-type]
        reason="autre" if status == "ecarte" else None,
        usage=usage,  # type: ignore[arg-type]
        annual_consumption_kwh=annual_kwh,
        note=None,
        updated_at=dt.datetime(2026, 1, 5, tzinfo=dt.UTC),
        updated_by="test",
    )


def report_buildings(
    records: list[BuildingRecord], entries: dict[str, PortfolioEntry]
) -> list[ReportBuilding]:
    return [
        ReportBuilding(r, f"{i + 1} Rue de la Mairie 62300 Lens", entries.get(r.building_id))
        for i, r in enumerate(records)
    ]
