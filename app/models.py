"""Response models of the API, named for what they are.

Field names follow the cadastre's layers (``solar.cadastre.BUILDING_FIELDS``,
``FACE_FIELDS``, ``ADDRESS_FIELDS``); angles use pvlib's conventions: ``tilt_deg`` from
horizontal, ``azimuth_deg`` clockwise from north (null on a flat face). Geometry is
RFC 7946 GeoJSON in WGS84, longitude first.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from solar.household.loadcurves import ELECTRIC_VEHICLE_KWH
from solar.suitability import Suitability

Position = Annotated[list[float], Field(min_length=2, max_length=3)]


def _rounded(digits: int) -> AfterValidator:
    """Round a validated figure to ``digits`` decimals; null stays null."""
    return AfterValidator(lambda value: value if value is None else round(value, digits))


#: A non-finite figure (a payback never reached, an undefined IRR) becomes null: JSON has
#: no infinity and no NaN.
_FINITE_OR_NULL = BeforeValidator(
    lambda value: value if value is None or math.isfinite(value) else None
)

# Figures of a simulation are rounded to what they mean, each on its own: energies to
# 0.1 kWh, money to the cent, kWc to the watt, rates and fractions to 0.01 %.
Round0 = Annotated[float, _rounded(0)]
Round1 = Annotated[float, _rounded(1)]
Round2 = Annotated[float, _rounded(2)]
Round3 = Annotated[float, _rounded(3)]
Round4 = Annotated[float, _rounded(4)]
Round2OrNull = Annotated[float | None, _FINITE_OR_NULL, _rounded(2)]
Round4OrNull = Annotated[float | None, _FINITE_OR_NULL, _rounded(4)]

#: A face id as the cadastre writes it: ``<building_id>-<n>``, n counting from 1.
FACE_ID_EXAMPLE = "BATIMENT0000000241234567-1"

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
    part_id: str | None = Field(
        default=None,
        description="The dwelling's part of a building shared by several houses (a terraced "
        "row drawn as one footprint): its faces carry the same part_id. Null when the "
        "building is the address's alone.",
        examples=["62498_0540_00012"],
    )


class ProductionBand(BaseModel):
    """The uncertainty band of an annual production, from the build's Monte Carlo."""

    production_p10_kwh_yr: float | None = Field(
        default=None,
        description="10th percentile of the annual AC energy over year-to-year weather, "
        "orientation, area and loss uncertainty [kWh]: 9 years in 10 do better.",
        examples=[5120.0],
    )
    production_p50_kwh_yr: float | None = Field(
        default=None, description="Median of the same samples [kWh].", examples=[5610.0]
    )
    production_p90_kwh_yr: float | None = Field(
        default=None,
        description="90th percentile of the same samples [kWh]: 1 year in 10 does better.",
        examples=[6080.0],
    )


class RoofFace(ProductionBand):
    """One roof face with its orientation, sun, shading and production."""

    face_id: str = Field(examples=[FACE_ID_EXAMPLE])
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
        description="Annual irradiation received by the modules' plane (module_tilt_deg, "
        "module_azimuth_deg), shading included [kWh m-2 yr-1]; the production is for the "
        "same plane.",
        examples=[1050.4],
    )
    module_tilt_deg: float | None = Field(
        default=None,
        description="Tilt of the modules' plane [°]: the roof's own, but 10° racks on a flat roof.",
        examples=[35.2],
    )
    module_azimuth_deg: float | None = Field(
        default=None,
        description="Azimuth of the modules' plane, clockwise from north [°]: the roof's own, "
        "but 180 (south) on a flat roof.",
        examples=[181.5],
    )
    roof_irradiation_kwh_m2_yr: float | None = Field(
        default=None,
        description="Annual irradiation received by the roof's own plane (the horizontal for a "
        "flat roof), shading included [kWh m-2 yr-1]; the suitability rates it.",
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
    suitability: Suitability | None = Field(
        description="Suitability class: the roof's own irradiation, shading included, "
        "against the best plane of the site (classes in /api/v1/legend).",
        examples=["good"],
    )
    suitability_label: str | None = Field(
        description="The suitability class in French.", examples=["Bon"]
    )
    orientation: str = Field(
        description="Where the face looks, in French: nord, nord-est, est, sud-est, sud, "
        "sud-ouest, ouest, nord-ouest, or plat for a flat roof (its modules are then tilted "
        "10° facing south).",
        examples=["sud-est"],
    )
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
    part_id: str | None = Field(
        default=None,
        description="The house whose part of a shared building holds the face (see "
        "`Address.part_id`); null when the building is whole.",
        examples=["62498_0540_00012"],
    )
    geometry: Geometry = Field(description="The face outline in plan, WGS84.")


class BuildingSolar(ProductionBand):
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
    suitability: Suitability | None = Field(
        description="Suitability class: the roof's own irradiation, shading included, "
        "against the best plane of the site (classes in /api/v1/legend).",
        examples=["good"],
    )
    suitability_label: str | None = Field(
        description="The suitability class in French.", examples=["Bon"]
    )
    centre: list[float] = Field(
        description="Centre of the footprint: longitude, latitude [°], WGS84.",
        min_length=2,
        max_length=2,
        examples=[[2.8311, 50.4322]],
    )
    bbox: list[float] = Field(
        description="Box of the footprint: west, south, east, north [°], WGS84.",
        min_length=4,
        max_length=4,
        examples=[[2.8310, 50.4321, 2.8312, 50.4323]],
    )
    production_monthly_kwh: list[float] = Field(
        description="AC energy of each month, January first, summed over the faces counted "
        "in production_kwh_yr (those worth equipping) [kWh].",
        min_length=12,
        max_length=12,
    )
    footprint_check: str | None = Field(
        description="How the footprint agrees with the LiDAR surface model: ok, shifted "
        "(moved onto the roof before the faces were found), absent (over bare ground, no "
        "face) or lidar_only (a building of the surface model that no footprint holds, "
        "its outline traced from the surface; its id starts with LIDAR-).",
        examples=["shifted"],
    )
    footprint_shift_m: float | None = Field(
        description="Length of the shift of a shifted footprint [m].", examples=[0.9]
    )
    footprint_note: str | None = Field(
        description="The footprint check for residents, in French; null when ok.",
        examples=["emprise recalée de 0,9 m"],
    )
    usage_1: str | None = Field(
        default=None,
        description="BD TOPO's main use of the building, as BD TOPO writes it; null when "
        "the footprints did not come from BD TOPO.",
        examples=["Résidentiel"],
    )
    nature: str | None = Field(
        default=None, description="BD TOPO's nature of the building.", examples=["Indifférenciée"]
    )
    hauteur: float | None = Field(
        default=None, description="BD TOPO's height of the building [m].", examples=[7.5]
    )
    nombre_de_logements: float | None = Field(
        default=None, description="BD TOPO's number of dwellings.", examples=[1]
    )
    footprint: Geometry = Field(description="The building footprint, WGS84.")
    faces: list[RoofFace]


class Dwelling(BaseModel):
    """One house's part of a building shared by several: its own faces and totals."""

    part_id: str = Field(examples=["62498_0540_00012"])
    face_ids: list[str] = Field(description="The faces on this house's part of the roof.")
    panels: int = Field(description="Modules on its faces worth equipping.", examples=[12])
    kwc: float = Field(description="Their peak power [kWc].", examples=[5.1])
    production_kwh_yr: float = Field(description="Their annual AC energy [kWh].", examples=[4820.0])
    production_monthly_kwh: list[float] = Field(
        description="Their AC energy of each month, January first [kWh].",
        min_length=12,
        max_length=12,
    )


class AddressSolar(BaseModel):
    """What a resident asks for: the address and the roof under it."""

    address: Address
    building: BuildingSolar
    dwelling: Dwelling | None = Field(
        default=None,
        description="The address's own house when the building is shared by several (a "
        "terraced row drawn as one footprint): its part of the roof. Null when the building "
        "is the address's alone; `building` always holds the whole building.",
    )


class RoofProperties(BaseModel):
    """The map properties of one roof face."""

    face_id: str
    building_id: str
    suitability: Suitability | None
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
                            "id": FACE_ID_EXAMPLE,
                            "geometry": {"type": "Polygon", "coordinates": [_RING]},
                            "properties": {
                                "face_id": FACE_ID_EXAMPLE,
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


class VectorLayer(BaseModel):
    """One layer of a vector tile source, as TileJSON 3.0 describes it."""

    id: str = Field(examples=["faces"])
    fields: dict[str, str] = Field(
        description="Property name and type (String, Number, Boolean).",
        examples=[{"face_id": "String", "kwc": "Number"}],
    )
    minzoom: int
    maxzoom: int
    description: str = ""


class TileJSON(BaseModel):
    """A TileJSON 3.0.0 document: where a map reads a tile source."""

    tilejson: Literal["3.0.0"] = "3.0.0"
    name: str
    tiles: list[str] = Field(
        description="URL templates of the tiles, {z}/{x}/{y} in XYZ (Web Mercator).",
        examples=[["http://127.0.0.1:8000/api/v1/tiles/roofs/{z}/{x}/{y}.mvt"]],
    )
    minzoom: int
    maxzoom: int = Field(description="Past it, a map enlarges the tiles of this zoom.")
    bounds: list[float] = Field(
        description="west, south, east, north [°], WGS84.", min_length=4, max_length=4
    )
    center: list[float] | None = Field(
        default=None, description="longitude, latitude [°] and zoom.", min_length=3, max_length=3
    )
    attribution: str | None = None
    vector_layers: list[VectorLayer] | None = Field(
        default=None, description="The layers of a vector source; absent for a raster one."
    )


class SuitabilityClassOut(BaseModel):
    """One suitability class of the legend."""

    code: Suitability
    label: str = Field(description="In French.", examples=["Excellent"])
    colour: str = Field(pattern=r"^#[0-9a-f]{6}$", examples=["#bd0026"])
    min_relative: float | None = Field(
        description="Lower bound on the face's irradiation over the best orientation's at "
        "the site [unitless]; null for unsuitable (too steep, or too small for modules).",
        examples=[0.9],
    )


class IrradiationRamp(BaseModel):
    """The colour ramp of the irradiation tiles: linear in RGB between stops."""

    unit: str = Field(examples=["kWh/m²/an"])
    stops: list[tuple[float, str]] = Field(
        description="[value, colour] pairs, increasing; values outside are clamped.",
        examples=[[[500.0, "#313695"], [1350.0, "#a50026"]]],
    )


class Legend(BaseModel):
    """Classes, labels and colours of the map, from the one source the build and the
    QGIS style use too."""

    suitability: list[SuitabilityClassOut]
    irradiation: IrradiationRamp


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


class CadastreFile(BaseModel):
    """Which cadastre file the service answers from."""

    sha256: str = Field(
        description="SHA-256 of the file, in hex: it names the file's content.",
        examples=["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"],
    )
    verified: bool = Field(
        description="Whether the checksum its build wrote beside it (``.sha256``) matched; "
        "false when there was none."
    )
    built_at: str | None = Field(
        description="When it was built (its provenance), ISO 8601.",
        examples=["2026-11-30T08:12:44+00:00"],
    )


class Health(BaseModel):
    """The service is up (``status``), and whether it serves the file at its path
    (``readiness``)."""

    status: Literal["ok"] = "ok"
    version: str = Field(examples=["0.1.0"])
    buildings: int
    addresses: int
    readiness: Literal["ok", "degraded"] = Field(
        description="``degraded`` when the cadastre file at the path is missing or was "
        "refused (damaged, not a cadastre): the file opened before is still served.",
    )
    reason: str | None = Field(
        default=None, description="Why the readiness is degraded, in one sentence."
    )
    cadastre: CadastreFile


class SiteConfig(BaseModel):
    """What the residents' page needs from the service's settings."""

    basemap_style: str | None = Field(
        description="MapLibre style URL of the basemap; null: the page draws its own layers only.",
        examples=[None],
    )
    advice_url: str = Field(
        description="Free, independent advice on the project (France Rénov').",
        examples=["https://france-renov.gouv.fr/preparer-projet/trouver-conseiller"],
    )
    installers_url: str = Field(
        description="Search for RGE-certified installers.",
        examples=["https://france-renov.gouv.fr/annuaire-rge"],
    )
    roof_tiles: str | None = Field(
        description="TileJSON of the roofs' vector tiles; null when this cadastre has none "
        "(the page then asks /api/v1/roofs for the faces in view).",
        examples=["/api/v1/tiles/roofs.json"],
    )
    irradiation_tiles: str | None = Field(
        description="TileJSON of the irradiation raster tiles; null when this cadastre has "
        "no irradiation raster.",
        examples=["/api/v1/tiles/irradiation.json"],
    )


# --------------------------------------------------------------------------- simulate

#: Bounds of the request fields: far beyond any household, tight enough that no value
#: can overflow the simulation.
MAX_ID_LENGTH = 200
MAX_FACES = 100
MAX_KWH_YR = 100_000.0
#: Latest tariff date a simulation takes, after today [days]: 30 years, the longest
#: horizon of the economics. A later date is flagged stale (the table's last tariffs are
#: used); one past this is no project date at all.
MAX_TARIFF_DAYS_AHEAD = 30 * 365


def _tariff_date_ahead(value: date | None) -> date | None:
    if value is not None and (value - date.today()).days > MAX_TARIFF_DAYS_AHEAD:
        raise ValueError(
            f"at most {MAX_TARIFF_DAYS_AHEAD // 365} years after today, the longest horizon"
        )
    return value


TariffDate = Annotated[date | None, AfterValidator(_tariff_date_ahead)]


class HouseholdOptionsIn(BaseModel):
    """Equipment and habits that reshape the standard profile (``solar.household.loadcurves``)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    electric_heating_kwh: float = Field(
        default=0.0,
        ge=0.0,
        le=MAX_KWH_YR,
        description="Resistive electric heating, on top of annual_kwh [kWh yr-1].",
    )
    heat_pump_kwh: float = Field(
        default=0.0,
        ge=0.0,
        le=MAX_KWH_YR,
        description="Heat-pump electricity for space heating, on top of annual_kwh [kWh yr-1].",
    )
    electric_vehicle: Literal["night", "day"] | None = Field(
        default=None,
        description="Home charging of an electric vehicle: at night (22:00-06:00) or in the "
        "day (10:00-16:00); null for none.",
    )
    electric_vehicle_kwh: float = Field(
        default=ELECTRIC_VEHICLE_KWH,
        ge=0.0,
        le=MAX_KWH_YR,
        description="Energy charged at home when electric_vehicle is set [kWh yr-1].",
    )
    daytime_presence: bool = Field(
        default=False,
        description="Someone is at home on weekdays (home office, retired): weekdays look "
        "like weekend days.",
    )


class ConsumptionIn(BaseModel):
    """The household's consumption, as an Enedis standard profile."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    annual_kwh: float = Field(
        default=4500.0,
        ge=0.0,
        le=MAX_KWH_YR,
        description="Yearly consumption of the household without the options [kWh].",
        examples=[4500.0],
    )
    profile: Literal["RES1", "RES2"] = Field(
        default="RES1",
        description="Enedis profile: RES1 (residential, base), RES2 (electric heating).",
    )
    options: HouseholdOptionsIn = Field(default_factory=HouseholdOptionsIn)


class ProjectIn(BaseModel):
    """What to install, where and when: the fields both simulate endpoints share."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    building_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_ID_LENGTH,
        description="The building; give this or address_id.",
        examples=["BATIMENT0000000241234567"],
    )
    address_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_ID_LENGTH,
        description="A BAN address id, for the building under it; give this or building_id.",
    )
    face_ids: list[Annotated[str, Field(min_length=1, max_length=MAX_ID_LENGTH)]] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_FACES,
        description="Faces to equip, all of the building. By default its faces worth "
        "equipping (suitability excellent, good or fair).",
    )
    n_modules: int | None = Field(
        default=None,
        ge=0,
        le=10_000,
        description="Modules to install, on the best faces first. By default all the "
        "faces hold (up to 100 kWc). At most one of n_modules and kwc.",
    )
    kwc: float | None = Field(
        default=None,
        ge=0.0,
        le=10_000.0,
        description="Peak power to install, rounded to whole modules [kWc].",
    )
    battery_kwh: float = Field(
        default=0.0,
        ge=0.0,
        le=100.0,
        description="Usable capacity of a home battery, 0 for none [kWh]; its power is half "
        "its capacity per hour, its round-trip efficiency 90 %.",
    )
    tariff_date: TariffDate = Field(
        default=None,
        description="Date of the connection request, which sets the tariffs; today by default, "
        "at most 30 years ahead.",
        examples=["2025-06-15"],
    )
    years: int = Field(default=20, ge=10, le=30, description="Horizon of the economics [yr].")
    persons: int = Field(
        default=3, ge=1, le=12, description="Household size, for the solar water heater."
    )


class SimulationRequest(ProjectIn):
    """A project and the household's consumption as a standard profile."""

    consumption: ConsumptionIn = Field(default_factory=ConsumptionIn)

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "address_id": "62498_0540_00012_bis",
                    "consumption": {
                        "annual_kwh": 4500,
                        "profile": "RES1",
                        "options": {"daytime_presence": True},
                    },
                    "battery_kwh": 0,
                    "tariff_date": "2025-06-15",
                    "years": 20,
                }
            ]
        }
    )


def _form_schema(schema: dict[str, Any]) -> None:
    """A form field is absent or has a value: drop the JSON ``null`` of optional fields."""
    for field in schema.get("properties", {}).values():
        variants = field.pop("anyOf", None)
        if variants:
            field.update(next(v for v in variants if v.get("type") != "null"))
        if field.get("default", 0) is None:
            del field["default"]


class LinkyForm(BaseModel):
    """The multipart form of ``POST /api/v1/simulate/linky``: the Linky file and the
    project's fields, flattened (``face_ids`` comma-separated)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, json_schema_extra=_form_schema)

    file: bytes = Field(
        description="The Enedis/Linky 'courbe de charge' CSV export (half-hourly, W or Wh). "
        "Used for this request only: never stored, never logged."
    )
    building_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_ID_LENGTH,
        description="The building; give this or address_id.",
    )
    address_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_ID_LENGTH,
        description="A BAN address id, for the building under it.",
    )
    face_ids: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_FACES * (MAX_ID_LENGTH + 1),
        description="Faces to equip, comma-separated; by default those worth equipping.",
    )
    n_modules: int | None = Field(
        default=None, ge=0, le=10_000, description="Modules to install, best faces first."
    )
    kwc: float | None = Field(
        default=None, ge=0.0, le=10_000.0, description="Peak power to install [kWc]."
    )
    battery_kwh: float = Field(
        default=0.0, ge=0.0, le=100.0, description="Home battery, 0 for none [kWh]."
    )
    tariff_date: TariffDate = Field(default=None, description="Today by default.")
    years: int = Field(default=20, ge=10, le=30, description="Horizon [yr].")
    persons: int = Field(default=3, ge=1, le=12, description="Household size.")

    def project(self) -> ProjectIn:
        """The project fields, ``face_ids`` split on commas."""
        fields = self.model_dump(exclude={"file", "face_ids"})
        face_ids = None
        if self.face_ids is not None:
            face_ids = [f.strip() for f in self.face_ids.split(",") if f.strip()]
        return ProjectIn.model_validate({**fields, "face_ids": face_ids or None})


class MonthlyEnergy(BaseModel):
    """One month of the balance, for a chart [kWh]."""

    month: int = Field(ge=1, le=12)
    production_kwh: Round1
    consumption_kwh: Round1
    self_consumed_kwh: Round1
    self_supplied_kwh: Round1
    surplus_kwh: Round1
    grid_import_kwh: Round1


class TariffsUsed(BaseModel):
    """The tariff rows the economics used."""

    tariff_date: date = Field(description="The tariff date asked for.")
    period: str = Field(
        description="The OA surplus row used.", examples=["2025-Q2 (1 Apr - 30 Jun 2025)"]
    )
    valid_from: date = Field(description="First day of that row.")
    valid_to: date = Field(description="Last day of that row.")
    source: str = Field(description="Source of that row.")
    sources: list[str] = Field(description="Sources of every row used.")
    band_max_kwc: float = Field(description="Upper bound of the size band [kWc].")
    surplus_eur_kwh: float = Field(description="OA purchase price of the surplus [€ kWh-1].")
    prime_eur_kwc: float = Field(description="Self-consumption prime [€ kWc-1].")
    electricity_eur_kwh: float = Field(description="Tarif Bleu base price TTC [€ kWh-1].")
    electricity_drift: float = Field(description="Assumed yearly price change [yr-1].")
    vat_rate: float = Field(description="VAT on the installation [-].")
    stale: list[str] = Field(description="Tables whose last row was older than the date.")


class EconomicsOut(BaseModel):
    """Money over the horizon, TTC; every figure 0 (or null) without a module."""

    capex_eur: Round2 = Field(description="Installation cost, battery included [€].")
    prime_eur: Round2 = Field(description="Self-consumption prime, all instalments [€].")
    annual_savings_eur: Round2 = Field(description="Year-1 saving on the bill [€ yr-1].")
    surplus_revenue_eur_yr: Round2 = Field(description="Year-1 sale of the surplus [€ yr-1].")
    payback_years: Round2OrNull = Field(description="Simple payback; null if not reached [yr].")
    npv_eur: Round2 = Field(description="Net present value [€].")
    irr: Round4OrNull = Field(description="Internal rate of return; null if undefined [yr-1].")
    lcoe_eur_kwh: Round4OrNull = Field(
        description="Levelised cost of the energy produced, net of the prime [€ kWh-1]; null "
        "without production."
    )
    co2_avoided_kg_yr: Round1 = Field(description="Year-1 CO2 avoided [kg yr-1].")
    years: int = Field(description="Horizon [yr].")
    discount_rate: float = Field(description="Nominal [yr-1].")
    tariffs: TariffsUsed
    tariffs_stale: bool = Field(
        description="True when the tariff date is past the end of the table: the last known "
        "values are used."
    )
    tariffs_message: str | None = Field(description="Says so in plain words when stale.")


class Percentiles(BaseModel):
    """P10, P50 and P90; null where the payback is not reached within the horizon."""

    p10: float | None
    p50: float | None
    p90: float | None


class UncertaintyOut(BaseModel):
    """Seeded Monte Carlo over weather, tilt and azimuth, system losses and consumption."""

    production_kwh_yr: Percentiles
    annual_savings_eur: Percentiles
    payback_years: Percentiles
    self_consumption_rate: Percentiles
    n_samples: int
    seed: int
    consumption_sd: float = Field(
        description="Relative spread of the consumption: 0 with a measured Linky curve."
    )


class SizingOption(BaseModel):
    """One size on the best faces."""

    n_modules: int
    kwc: Round3
    production_kwh_yr: Round1
    self_consumption_rate: Round4
    self_sufficiency_rate: Round4
    npv_eur: Round2OrNull = Field(description="Set on the size of best NPV only [€].")


class SizingOut(BaseModel):
    """Sizes worth considering on the same faces, load and battery."""

    best_npv: SizingOption = Field(description="Highest NPV; 0 modules when none pays back.")
    largest_mostly_self_consumed: SizingOption | None = Field(
        description="The largest size whose self-consumption rate stays at or above "
        "self_consumption_target: past it, most of each added kWh is sold cheaply."
    )
    smallest_for_self_sufficiency: SizingOption | None = Field(
        description="The smallest size covering self_sufficiency_target of the consumption; "
        "null when the roof cannot."
    )
    self_consumption_target: float
    self_sufficiency_target: float


class SolarWaterHeaterOut(BaseModel):
    """A solar water heater (CESI) for the household, by the f-chart method."""

    face_id: str = Field(description="The face the collector goes on.")
    persons: int
    collector_area_m2: Round2
    tank_l: Round0
    solar_fraction: Round4 = Field(description="Share of the hot-water heat from the sun [-].")
    heat_saved_kwh_yr: Round1 = Field(
        description="Heat the backup no longer gives: electricity saved with a resistive "
        "backup [kWh yr-1]."
    )
    annual_load_kwh: Round1
    monthly_solar_fraction: list[Round4] = Field(min_length=12, max_length=12)


class LinkyCurveInfo(BaseModel):
    """What was read from the Linky file (the file itself is not kept)."""

    measured_hours: int
    filled_hours: int = Field(description="Hours missing from the curve, filled from RES1.")
    measured_kwh: Round1
    step_minutes: int
    unit: str
    start: datetime
    end: datetime


class SimulationResult(BaseModel):
    """A year of production against consumption, and what it is worth.

    Energy identities (kWh per year, exact before rounding):
    ``self_consumed + surplus = production``; ``self_supplied + grid_import =
    consumption``; ``self_consumed = self_supplied + battery_losses + battery_stored``
    (without a battery, self_consumed = self_supplied).
    """

    building_id: str
    face_ids: list[str] = Field(description="Faces that got modules, best first.")
    modules_per_face: dict[str, int]
    n_modules: int
    kwc: Round3 = Field(description="Peak power installed [kWc].", examples=[7.65])
    module_kwc: Round4 = Field(description="Peak power of one module [kWc].")
    battery_kwh: float
    production_kwh_yr: Round1 = Field(
        description="AC production in year 1 [kWh].", examples=[8186.5]
    )
    consumption_kwh_yr: Round1 = Field(description="[kWh].", examples=[4500.0])
    self_consumed_kwh_yr: Round1 = Field(
        description="Production not exported: direct use plus battery charging [kWh].",
        examples=[1925.2],
    )
    self_supplied_kwh_yr: Round1 = Field(
        description="Consumption not imported: direct use plus battery discharge [kWh].",
        examples=[1925.2],
    )
    surplus_kwh_yr: Round1 = Field(
        description="Production sold to the grid [kWh].", examples=[6261.4]
    )
    grid_import_kwh_yr: Round1 = Field(
        description="Consumption bought from the grid [kWh].", examples=[2574.8]
    )
    battery_losses_kwh_yr: Round1 = Field(description="Charging and discharging losses [kWh].")
    battery_stored_kwh_yr: Round1 = Field(
        description="Energy left in the battery at the end of the year minus at the start [kWh]."
    )
    self_consumption_rate: Round4 = Field(
        ge=0.0, le=1.0, description="self_consumed / production.", examples=[0.2352]
    )
    self_sufficiency_rate: Round4 = Field(
        ge=0.0, le=1.0, description="self_supplied / consumption.", examples=[0.4278]
    )
    monthly: list[MonthlyEnergy] = Field(min_length=12, max_length=12)
    economics: EconomicsOut
    uncertainty: UncertaintyOut
    sizing: SizingOut
    solar_water_heater: SolarWaterHeaterOut | None
    linky: LinkyCurveInfo | None = Field(description="Set by /simulate/linky.")
    warnings: list[str] = Field(description="Plain messages: hours filled, a size rounded…")
