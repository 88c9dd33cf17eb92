"""The app's shared state as one typed object, and request parameters as dependencies.

:class:`Services` is opened once per process by the app's lifespan and closed with it;
endpoints take it as ``services: ServicesDep``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request

from app import views
from app.geo import Projector
from app.models import Address, Coverage
from app.settings import Settings
from solar.addresses import AddressIndex
from solar.cadastre import Cadastre
from solar.errors import InputError, NoBuildingAtAddress, NotFound
from solar.household.project import Site
from solar.household.uncertainty import orientation_factors


@dataclass(frozen=True)
class Services:
    """What every request reads: the cadastre and what is derived from it at start-up.

    Attributes
    ----------
    settings : Settings
        The settings the app was created with.
    cadastre : solar.cadastre.Cadastre
        Read-only, one SQLite connection per thread.
    projector : app.geo.Projector
        Between the cadastre's CRS and WGS84.
    address_index : solar.addresses.AddressIndex
        Every address, in memory, for the search.
    coverage : app.models.Coverage
        The coverage summary.
    site : solar.household.project.Site
        Tariffs and climate of the cadastre, for the simulations.
    documents : app.views.BuildingDocuments
        The cache of rendered building documents.
    """

    settings: Settings
    cadastre: Cadastre
    projector: Projector
    address_index: AddressIndex
    coverage: Coverage
    site: Site
    documents: views.BuildingDocuments

    @classmethod
    def open(cls, settings: Settings) -> Services:
        """Open the cadastre of ``settings`` and derive the rest from it."""
        cadastre = Cadastre(settings.path)
        projector = Projector(cadastre.crs)
        # Computed on first use (about 0.3 s): at start-up rather than in a resident's request.
        orientation_factors()
        return cls(
            settings=settings,
            cadastre=cadastre,
            projector=projector,
            address_index=AddressIndex(views.address_records(cadastre, projector)),
            coverage=views.coverage(cadastre, projector),
            site=Site.for_cadastre(cadastre),
            documents=views.BuildingDocuments(cadastre, projector),
        )

    def close(self) -> None:
        """Close the cadastre's connection of the calling thread (the one that opened it)."""
        self.cadastre.close()

    def address(self, address_id: str) -> tuple[Address, str]:
        """The address of ``address_id`` and the id of the building under it.

        Raises
        ------
        solar.errors.NotFound
            When no address has this id.
        solar.errors.NoBuildingAtAddress
            When the address has no building under it.
        """
        record = self.address_index.get(address_id)
        if record is None:
            raise NotFound(f"no address with id {address_id!r}")
        if record["building_id"] is None:
            raise NoBuildingAtAddress("no building at this address")
        return Address.model_validate(record), str(record["building_id"])


async def get_services(request: Request) -> Services:
    """The services the lifespan opened.

    ``async`` on purpose: it only reads the request's state, so running it on the event
    loop avoids a thread-pool round trip.
    """
    services: Services = request.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


@dataclass(frozen=True)
class BBox:
    """A WGS84 box. [°]"""

    minlon: float
    minlat: float
    maxlon: float
    maxlat: float

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.minlon, self.minlat, self.maxlon, self.maxlat)


BBOX_DESCRIPTION = (
    "minlon,minlat,maxlon,maxlat in WGS84 degrees, min ≤ max, at most CADASTRE_MAX_BBOX_DEG "
    "(0.05° by default) on a side."
)


async def bbox_query(
    bbox: Annotated[
        str,
        Query(
            description=BBOX_DESCRIPTION,
            max_length=200,
            examples=["2.8200,50.4250,2.8350,50.4350"],
        ),
    ],
    services: ServicesDep,
) -> BBox:
    """Parse and check the ``bbox`` query parameter; every failure names ``bbox``."""
    parts = bbox.split(",")
    if len(parts) != 4:
        raise InputError(
            f"expected 4 comma-separated numbers minlon,minlat,maxlon,maxlat, got {len(parts)}",
            source="bbox",
        )
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise InputError(
            "expected 4 comma-separated numbers minlon,minlat,maxlon,maxlat", source="bbox"
        ) from None
    if not all(math.isfinite(v) for v in values):
        raise InputError("coordinates must be finite numbers", source="bbox")
    box = BBox(*values)
    if not (-180 <= box.minlon <= 180 and -180 <= box.maxlon <= 180):
        raise InputError("longitudes must lie in [-180, 180]", source="bbox")
    if not (-90 <= box.minlat <= 90 and -90 <= box.maxlat <= 90):
        raise InputError("latitudes must lie in [-90, 90]", source="bbox")
    if box.minlon > box.maxlon or box.minlat > box.maxlat:
        raise InputError("min must not exceed max (minlon,minlat,maxlon,maxlat)", source="bbox")
    side = max(box.maxlon - box.minlon, box.maxlat - box.minlat)
    largest = services.settings.max_bbox_deg
    if side > largest:
        raise InputError(
            f"too large: {side:.4g}° on a side, at most {largest:g}°; zoom in",
            source="bbox",
        )
    return box


BBoxDep = Annotated[BBox, Depends(bbox_query)]
