"""Response models of the API, named for what they are.

Field names follow the cadastre's layers (``solar.cadastre.BUILDING_FIELDS``,
``FACE_FIELDS``, ``ADDRESS_FIELDS``); angles use pvlib's conventions: ``tilt_deg`` from
horizontal, ``azimuth_deg`` clockwise from north (null on a flat face). Geometry is
RFC 7946 GeoJSON in WGS84, longitude first.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Position = Annotated[list[float], Field(min_length=2, max_length=3)]

_RING: list[Any] = [[2.8311, 50.4322], [2.8312, 50.4322], [2.8312, 50.4323], [2.8311, 50.4322]]


class PolygonGeometry(BaseModel):
    """A GeoJSON Polygon (exterior ring counter-clockwise, then holes)."""

    type: Literal["Polygon"]
    coordinates: list[list[Position]]


class MultiPolygonGeometry(BaseModel):
    """A GeoJSON MultiPolygon."""

    type: Literal["MultiPolygon"]
    coordinates: list[list[list[Position]]]


Geometry = Annotated[PolygonGeometry | MultiPolygonGeometry, Field(discriminator="type")]


class ErrorBody(BaseModel):
    """Every error response."""

    detail: str = Field(description="What went wrong, naming the parameter at fault.")
    code: str = Field(
        description="Machine-readable: not_found, no_building_at_address, invalid_parameter, "
        "payload_too_large, internal_error, or the HTTP reason (method_not_allowed, …).",
        examples=["no_building_at_address"],
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"detail": "no building at this address", "code": "no_building_at_address"}
            ]
        }
    )


class AddressHit(BaseModel):
    """One autocomplete suggestion."""

    address_id: str = Field(examples=["62498_0540_00012_bis"])
    label: str = Field(examples=["12 bis Rue Jean Jaurès 62300 Lens"])
    lon: float = Field(description="Longitude [°], WGS84.", examples=[2.8311])
    lat: float = Field(description="Latitude [°], WGS84.", examples=[50.4322])
    building_id: str | None = Field(
        description="The building under the address point; null when there is none.",
        examples=["BATIMENT0000000241234567"],
    )


class AddressSearch(BaseModel):
    """Autocomplete results, best first."""

    results: list[AddressHit]


class Address(AddressHit):
    """An address with its parts, as the BAN gives them."""

    numero: int | None = Field(description="House number.", examples=[12])
    nom_voie: str | None = Field(description="Street name.", examples=["Rue Jean Jaurès"])
    code_postal: str | None = Field(examples=["62300"])
    code_insee: str | None = Field(description="INSEE code of the commune.", examples=["62498"])
    nom_commune: str | None = Field(examples=["Lens"])


class RoofFace(BaseModel):
    """One roof face with its orientation, sun, shading and production."""

    face_id: str = Field(examples=["BATIMENT0000000241234567-f1"])
    building_id: str = Field(examples=["BATIMENT0000000241234567"])
    tilt_deg: float | None = Field(description="Tilt from horizontal [°].", examples=[35.2])
    azimuth_deg: float | None = Field(
        description="Azimuth clockwise from north [°] (180 = south); null when flat.",
        examples=[181.5],
    )
    is_flat: bool
    area_m2: float | None = Field(description="True (sloped) area [m²].", examples=[42.3])
    usable_area_m2: float | None = Field(
        description="Area that can host modules, setbacks and shaded parts removed [m²].",
        examples=[30.1],
    )
    irradiation_kwh_m2_yr: float | None = Field(
        description="Annual irradiation received, shading included [kWh m-2 yr-1].",
        examples=[1050.4],
    )
    shading_loss_pct: float | None = Field(
        description="Annual loss against the same face with nothing around it [%].",
        examples=[6.3],
    )
    panels: int | None = Field(description="Modules that fit.", examples=[14])
    kwc: float | None = Field(description="Peak power [kWc].", examples=[5.95])
    production_kwh_yr: float | None = Field(
        description="Annual AC energy [kWh].", examples=[5630.0]
    )
    specific_yield_kwh_kwc: float | None = Field(
        description="Annual AC energy per kWc [kWh kWc-1].", examples=[946.2]
    )
    suitability: str | None = Field(examples=["good"])
    production_monthly_kwh: list[float] = Field(
        description="AC energy of each month, January first [kWh].",
        min_length=12,
        max_length=12,
    )
    irradiation_monthly_kwh_m2: list[float] = Field(
        description="Irradiation of each month, January first [kWh m-2].",
        min_length=12,
        max_length=12,
    )
    geometry: Geometry = Field(description="The face outline in plan, WGS84.")


class BuildingSolar(BaseModel):
    """A building, its footprint and its roof faces."""

    building_id: str = Field(examples=["BATIMENT0000000241234567"])
    commune_insee: str | None = Field(examples=["62498"])
    n_faces: int | None = Field(examples=[2])
    usable_area_m2: float | None = Field(examples=[60.2])
    panels: int | None = Field(examples=[28])
    kwc: float | None = Field(description="Peak power of all faces [kWc].", examples=[11.9])
    production_kwh_yr: float | None = Field(
        description="Annual AC energy [kWh].", examples=[10450.0]
    )
    specific_yield_kwh_kwc: float | None = Field(examples=[878.2])
    irradiation_kwh_m2_yr: float | None = Field(examples=[980.5])
    shading_loss_pct: float | None = Field(examples=[4.1])
    suitability: str | None = Field(examples=["good"])
    footprint: Geometry = Field(description="The building footprint, WGS84.")
    faces: list[RoofFace]


class AddressSolar(BaseModel):
    """What a resident asks for: the address and the roof under it."""

    address: Address
    building: BuildingSolar


class RoofProperties(BaseModel):
    """The map properties of one roof face."""

    face_id: str
    building_id: str
    suitability: str | None
    irradiation_kwh_m2_yr: float | None
    kwc: float | None
    tilt_deg: float | None
    azimuth_deg: float | None
    production_kwh_yr: float | None
    shading_loss_pct: float | None


class RoofFeature(BaseModel):
    """One roof face as a GeoJSON Feature."""

    type: Literal["Feature"] = "Feature"
    id: str = Field(description="The face id.")
    geometry: Geometry
    properties: RoofProperties


class RoofCollection(BaseModel):
    """Roof faces in a box, as an RFC 7946 FeatureCollection."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[RoofFeature]
    truncated: bool = Field(
        description="True when the limit was reached: zoom in or raise the limit to see all."
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "FeatureCollection",
                    "truncated": False,
                    "features": [
                        {
                            "type": "Feature",
                            "id": "BATIMENT0000000241234567-f1",
                            "geometry": {"type": "Polygon", "coordinates": [_RING]},
                            "properties": {
                                "face_id": "BATIMENT0000000241234567-f1",
                                "building_id": "BATIMENT0000000241234567",
                                "suitability": "good",
                                "irradiation_kwh_m2_yr": 1050.4,
                                "kwc": 5.95,
                                "tilt_deg": 35.2,
                                "azimuth_deg": 181.5,
                                "production_kwh_yr": 5630.0,
                                "shading_loss_pct": 6.3,
                            },
                        }
                    ],
                }
            ]
        }
    )


class Counts(BaseModel):
    """What the cadastre holds."""

    buildings: int
    faces: int
    addresses: int
    kwc: float = Field(description="Peak power of all roofs [kWc].")
    production_kwh_yr: float = Field(description="Annual AC energy of all roofs [kWh].")


class Coverage(BaseModel):
    """Where the cadastre has data, and where the data comes from."""

    bbox: list[float] = Field(
        description="minlon, minlat, maxlon, maxlat [°], WGS84.",
        min_length=4,
        max_length=4,
        examples=[[2.80, 50.40, 2.86, 50.45]],
    )
    crs: str = Field(description="The cadastre's projected CRS.", examples=["EPSG:2154"])
    communes: list[str] = Field(description="INSEE codes.", examples=[["62498"]])
    counts: Counts
    provenance: dict[str, Any] = Field(
        description="Data sources and their dates, weather file, code version.",
        examples=[{"code_version": "0.1.0", "weather": "tmy_50.911_3.192_2005_2020.csv"}],
    )
    api_version: str = Field(examples=["0.1.0"])


class Health(BaseModel):
    """The service is up and its cadastre is open."""

    status: Literal["ok"] = "ok"
    version: str = Field(examples=["0.1.0"])
    buildings: int
    addresses: int
