"""Request and response models of the communes' endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.models import Round0, Round1, Round2OrNull, Round3
from solar.communes.portfolio import PortfolioEntry, Reason, Status, Usage

Note = Annotated[str, Field(max_length=2000)]


class PortfolioIn(BaseModel):
    """How the commune's agent qualifies one building (``PUT …/portfolio/{building_id}``)."""

    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,
        json_schema_extra={
            "examples": [
                {
                    "status": "retenu",
                    "usage": "ecole",
                    "annual_consumption_kwh": 42000,
                    "note": "Toiture refaite en 2019",
                },
                {"status": "ecarte", "reason": "patrimoine_abf", "usage": "eglise"},
            ]
        },
    )

    status: Status = Field(
        description="`a_etudier` (to study), `retenu` (retained for the collective "
        "operation) or `ecarte` (ruled out)."
    )
    reason: Reason | None = Field(
        default=None,
        description="Why it is ruled out: `structure`, `etat_toiture` (roof condition), "
        "`patrimoine_abf` (heritage, Architectes des Bâtiments de France), `ombrage` "
        "(shading) or `autre`. Only with `ecarte` (422 otherwise).",
    )
    usage: Usage | None = Field(
        default=None,
        description="What the commune uses it for: `mairie`, `ecole`, `salle_de_sport`, "
        "`atelier`, `eglise` or `autre`.",
    )
    annual_consumption_kwh: float | None = Field(
        default=None, ge=0, le=1e9, description="The building's own consumption. [kWh/yr]"
    )
    note: Note | None = Field(default=None, description="Free text.")

    @model_validator(mode="after")
    def _reason_with_exclusion(self) -> PortfolioIn:
        if self.reason is not None and self.status != "ecarte":
            raise ValueError("reason: only a building ruled out (status ecarte) has a reason")
        return self


class PortfolioItem(BaseModel):
    """One building of a commune's portfolio."""

    commune_insee: str
    building_id: str
    status: Status
    reason: Reason | None
    usage: Usage | None
    annual_consumption_kwh: float | None = Field(description="[kWh/yr]")
    note: str | None
    updated_at: datetime = Field(description="Last change, UTC.")
    updated_by: str = Field(description="Label of the key that made the last change.")

    @classmethod
    def of(cls, entry: PortfolioEntry) -> PortfolioItem:
        return cls(
            commune_insee=entry.commune_insee,
            building_id=entry.building_id,
            status=entry.status,
            reason=entry.reason,
            usage=entry.usage,
            annual_consumption_kwh=entry.annual_consumption_kwh,
            note=entry.note,
            updated_at=entry.updated_at,
            updated_by=entry.updated_by,
        )


class Portfolio(BaseModel):
    """A commune's portfolio, by building id."""

    items: list[PortfolioItem]


class CommuneBuilding(BaseModel):
    """One building of a commune with its potential and its portfolio entry."""

    building_id: str
    address: str | None = Field(description="The first BAN address on the building.")
    position: list[float] = Field(
        description="A point inside the footprint, [longitude, latitude] WGS84. [°]"
    )
    kwc: Round3 = Field(description="Peak power of the faces worth equipping. [kWc]")
    panels: int = Field(description="Modules on those faces.")
    production_kwh_yr: Round0 = Field(description="Their AC production. [kWh/yr]")
    specific_yield_kwh_kwc: Round1 = Field(description="[kWh/kWc/yr]")
    usable_area_m2: Round1 = Field(description="[m²]")
    suitability: str = Field(description="excellent, good, fair, poor or unsuitable.")
    suitability_label: str | None = Field(description="The class in French.")
    shading_loss_pct: Round2OrNull = Field(description="Annual shading loss. [%]")
    footprint_check: str = Field(
        description="How the footprint agrees with the LiDAR: ok, shifted, absent or "
        "lidar_only (a building found in the LiDAR with no footprint; see /docs)."
    )
    footprint_note: str | None = Field(
        default=None,
        description='The same in French for the agent ("bâtiment détecté par le LiDAR", '
        '"emprise recalée de 0,9 m"…); null when ok.',
    )
    usage_bdtopo: str | None = Field(
        description="BD TOPO usage (`usage_1`) when the build kept it, else null."
    )
    portfolio: PortfolioItem | None = Field(description="The commune's entry, if any.")


class CommuneBuildings(BaseModel):
    """One page of a commune's buildings."""

    items: list[CommuneBuilding]
    next: str | None = Field(
        description="Pass it as `cursor` for the next page; null on the last page."
    )


class CommuneAccess(BaseModel):
    """What the request's key reaches."""

    label: str = Field(description="The key's label.")
    territory: bool = Field(description="True for the PMA's territory key.")
    communes: list[str] = Field(
        description="INSEE codes of the communes it reaches that the cadastre covers."
    )
    names: dict[str, str] = Field(
        description="The name of each of these communes, by INSEE code, when the cadastre's "
        "addresses give it."
    )


class ImportRow(BaseModel):
    """What became of one row of an imported file."""

    row: int = Field(description="Row number in the file, the header being row 1.")
    matched: bool = Field(description="Whether the row gave a building and valid values.")
    building_id: str | None
    address: str | None = Field(description="The BAN address matched, for a row by address.")
    action: Literal["created", "updated"] | None = Field(
        description="What the import does (or did) to the portfolio entry."
    )
    reason: str | None = Field(description="Why the row was refused, in French.")


class ImportReport(BaseModel):
    """The per-row report of an import."""

    imported: int = Field(description="Entries written: every row's, or none.")
    dry_run: bool
    rows: list[ImportRow]


class ImportRefused(BaseModel):
    """An import refused: some rows were (``code`` import_refused, the per-row report in
    ``rows``, nothing written), or the file or a parameter is (``code``
    invalid_parameter, no ``rows``)."""

    detail: str
    code: str = Field(examples=["import_refused"])
    rows: list[ImportRow] = Field(default_factory=list)
