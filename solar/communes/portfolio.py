"""A commune's portfolio: which municipal buildings it studies, retains or rules out."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal, get_args

Status = Literal["a_etudier", "retenu", "ecarte"]
#: Why a building is ruled out of the collective operation.
Reason = Literal["structure", "etat_toiture", "patrimoine_abf", "ombrage", "autre"]
Usage = Literal["mairie", "ecole", "salle_de_sport", "atelier", "eglise", "autre"]

STATUSES: tuple[str, ...] = get_args(Status)
REASONS: tuple[str, ...] = get_args(Reason)
USAGES: tuple[str, ...] = get_args(Usage)


@dataclass(frozen=True)
class PortfolioEntry:
    """One building of a commune's portfolio, as its agent qualified it.

    Parameters
    ----------
    commune_insee : str
        INSEE code of the commune the building belongs to.
    building_id : str
        The cadastre's building id.
    status : str
        ``a_etudier`` (to study), ``retenu`` (retained) or ``ecarte`` (ruled out).
    reason : str or None
        Why it was ruled out (one of :data:`REASONS`); None unless ``ecarte``.
    usage : str or None
        What the commune uses it for (one of :data:`USAGES`).
    annual_consumption_kwh : float or None
        The building's own annual electricity consumption, when the commune knows it. [kWh]
    note : str or None
        Free text of the commune's agent.
    updated_at : datetime.datetime
        Time of the last change, timezone-aware (UTC).
    updated_by : str
        Label of the key that made the last change (never the key itself).
    """

    commune_insee: str
    building_id: str
    status: Status
    reason: Reason | None
    usage: Usage | None
    annual_consumption_kwh: float | None
    note: str | None
    updated_at: dt.datetime
    updated_by: str
