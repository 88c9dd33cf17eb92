"""Collective self-consumption (autoconsommation collective) of a commune's buildings.

The retained buildings of a commune produce; the commune's buildings whose load is known
consume. In a collective operation (code de l'énergie art. L315-2) the production is
pooled and shared among the consumers, hour by hour, by an allocation key.

Perimeter
---------
The two furthest participants, producers and consumers alike, must be within 2 km of each
other (arrêté du 21 novembre 2019, "critère de proximité géographique"); a derogation raises
it to 10 km, and to 20 km in rural and peri-urban communes (arrêté du 19 septembre 2023).
Distances are measured in EPSG:2154 metres between the buildings' centroids. When the
whole set is wider, the operation keeps the participants within half the perimeter of one
participant, the centre that keeps the most production (then the most participants): any
two of them are then within the perimeter. That is a choice, not the largest possible
set (which is a harder geometric problem); the participants left out are named.

Balance, each hour ``h``
------------------------
``P(h)`` pooled production, ``C_j(h)`` the load of consumer ``j``, ``C(h) = sum_j C_j(h)``.

- **dynamic** key (Enedis' default key: pro rata of the consumption of the hour): consumer
  ``j`` gets ``a_j(h) = min(P(h), C(h)) x C_j(h) / C(h)``; the pooled production is used
  up to the pooled load.
- **static** key: fixed shares ``s_j`` (by default pro rata of each consumer's annual
  consumption): ``a_j(h) = min(s_j P(h), C_j(h))``; a share a consumer cannot use that
  hour is not passed on to another ("clé statique simple").

Self-consumed energy ``sum_h sum_j a_j(h)``; surplus = production - self-consumed; the
self-consumed share is self-consumed / production, the self-sufficiency self-consumed /
consumption. Each building on its own: a producer uses its own production for its own
load only, ``min(P_i(h), C_i(h))``, the individual self-consumption the collective
operation is compared with.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from solar.cadastre import BuildingRecord
from solar.communes.loadshapes import building_load
from solar.communes.portfolio import PortfolioEntry
from solar.communes.sizing import RoofSource, read_roof
from solar.errors import InputError

Allocation = Literal["dynamic", "static"]
#: The legal perimeter by default, and the derogations. [km]
PERIMETER_KM = 2.0
DEROGATION_PERIMETERS_KM = (10.0, 20.0)


@dataclass(frozen=True, eq=False)
class Participant:
    """A building of the operation.

    Attributes
    ----------
    building_id : str
    x, y : float
        Centroid in EPSG:2154. [m]
    production_kwh : numpy.ndarray or None
        (n_hours,) hourly production [kWh]; None for a building that only consumes.
    load_kwh : numpy.ndarray or None
        (n_hours,) hourly consumption [kWh]; None for a building whose load is unknown.
    """

    building_id: str
    x: float
    y: float
    production_kwh: np.ndarray | None
    load_kwh: np.ndarray | None


@dataclass(frozen=True)
class ParticipantBalance:
    """One participant's share of the operation. Energies in [kWh yr-1].

    Attributes
    ----------
    building_id : str
    production_kwh, consumption_kwh : float
    allocated_kwh : float
        Pooled production allocated to its load.
    alone_self_consumed_kwh : float
        Its own production used by its own load, on its own.
    """

    building_id: str
    production_kwh: float
    consumption_kwh: float
    allocated_kwh: float
    alone_self_consumed_kwh: float


@dataclass(frozen=True)
class CollectiveBalance:
    """The balance of a collective operation against each building on its own.

    Attributes
    ----------
    allocation : str
        ``dynamic`` or ``static``.
    perimeter_m, diameter_m : float
        The perimeter asked for, and the largest distance between two participants kept.
        [m]
    participants : tuple of ParticipantBalance
    excluded : tuple of str
        Buildings left out because they lie beyond the perimeter.
    production_kwh, consumption_kwh : float
        Pooled totals. [kWh yr-1]
    self_consumed_kwh, surplus_kwh, grid_import_kwh : float
        Collective: allocated, not allocated, and load not covered. [kWh yr-1]
    alone_self_consumed_kwh : float
        The sum, over the producers, of what each would self-consume on its own. [kWh yr-1]
    """

    allocation: Allocation
    perimeter_m: float
    diameter_m: float
    participants: tuple[ParticipantBalance, ...]
    excluded: tuple[str, ...]
    production_kwh: float
    consumption_kwh: float
    self_consumed_kwh: float
    surplus_kwh: float
    grid_import_kwh: float
    alone_self_consumed_kwh: float

    @property
    def self_consumption_rate(self) -> float:
        """Collective self-consumed share of the production. [-]"""
        return self.self_consumed_kwh / self.production_kwh if self.production_kwh else 0.0

    @property
    def self_sufficiency_rate(self) -> float:
        """Share of the pooled load covered by the pooled production. [-]"""
        return self.self_consumed_kwh / self.consumption_kwh if self.consumption_kwh else 0.0

    @property
    def alone_self_consumption_rate(self) -> float:
        """Self-consumed share of the production, each building on its own. [-]"""
        return self.alone_self_consumed_kwh / self.production_kwh if self.production_kwh else 0.0


def diameter_m(xy: np.ndarray) -> float:
    """Largest distance between two points. [m]

    >>> diameter_m(np.array([[0.0, 0.0], [3.0, 4.0], [1.0, 1.0]]))
    5.0
    """
    if len(xy) < 2:
        return 0.0
    diff = xy[:, None, :] - xy[None, :, :]
    return float(np.sqrt((diff**2).sum(axis=-1)).max())


def within_perimeter(participants: Sequence[Participant], perimeter_m: float) -> np.ndarray:
    """(n,) bool: the participants kept in the perimeter (see the module docstring)."""
    xy = np.array([(p.x, p.y) for p in participants], dtype=np.float64).reshape(-1, 2)
    if diameter_m(xy) <= perimeter_m:
        return np.ones(len(participants), dtype=bool)
    production = np.array(
        [0.0 if p.production_kwh is None else float(np.sum(p.production_kwh)) for p in participants]
    )
    distance = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=-1))
    near = distance <= perimeter_m / 2.0
    scores = [(float(production[row].sum()), int(row.sum())) for row in near]
    centre = max(range(len(participants)), key=lambda i: scores[i])
    kept: np.ndarray = near[centre]
    return kept


def _series(values: np.ndarray | None, n_hours: int, name: str) -> np.ndarray:
    if values is None:
        return np.zeros(n_hours)
    series = np.asarray(values, dtype=np.float64)
    if series.shape != (n_hours,):
        raise InputError(f"expected {n_hours} hourly values, got {series.shape}", source=name)
    if not np.all(np.isfinite(series)) or (series < 0).any():
        raise InputError("values must be finite and >= 0", source=name)
    return series


def balance(
    participants: Sequence[Participant],
    *,
    allocation: Allocation = "dynamic",
    perimeter_km: float = PERIMETER_KM,
    static_shares: Mapping[str, float] | None = None,
) -> CollectiveBalance:
    """Hourly balance of a collective operation (see the module docstring).

    Parameters
    ----------
    participants : sequence of Participant
        Producers and consumers, all series of the same length.
    allocation : {"dynamic", "static"}
    perimeter_km : float
        Largest distance between two participants: 2 km, or 10 or 20 km by derogation.
        [km]
    static_shares : mapping of building id to float, optional
        Shares of the static key, normalised over the consumers kept; by default pro rata
        of their annual consumption.

    Returns
    -------
    CollectiveBalance
    """
    if allocation not in ("dynamic", "static"):
        raise InputError(f"must be 'dynamic' or 'static', got {allocation!r}", source="allocation")
    if not (np.isfinite(perimeter_km) and perimeter_km > 0):
        raise InputError(f"must be > 0, got {perimeter_km!r}", source="perimeter_km")
    if not participants:
        raise InputError("no building takes part", source="participants")
    lengths = {
        len(s) for p in participants for s in (p.production_kwh, p.load_kwh) if s is not None
    }
    if len(lengths) != 1:
        raise InputError("all series must have the same number of hours", source="participants")
    (n_hours,) = lengths
    perimeter_m = perimeter_km * 1000.0
    kept_mask = within_perimeter(participants, perimeter_m)
    kept = [p for p, k in zip(participants, kept_mask, strict=True) if k]
    excluded = tuple(p.building_id for p, k in zip(participants, kept_mask, strict=True) if not k)
    production = np.stack([_series(p.production_kwh, n_hours, p.building_id) for p in kept])
    load = np.stack([_series(p.load_kwh, n_hours, p.building_id) for p in kept])
    pooled_p = production.sum(axis=0)
    pooled_c = load.sum(axis=0)
    if allocation == "dynamic":
        used = np.minimum(pooled_p, pooled_c)
        share = np.divide(load, pooled_c, out=np.zeros_like(load), where=pooled_c > 0)
        allocated = used * share
    else:
        annual = load.sum(axis=1)
        if static_shares is None:
            weights = annual
        else:
            weights = np.array([float(static_shares.get(p.building_id, 0.0)) for p in kept])
            if not np.all(np.isfinite(weights)) or (weights < 0).any():
                raise InputError("shares must be finite and >= 0", source="static_shares")
        total = weights.sum()
        shares = weights / total if total > 0 else np.zeros_like(weights)
        allocated = np.minimum(shares[:, None] * pooled_p, load)
    alone = np.minimum(production, load)
    self_consumed = float(allocated.sum())
    rows = tuple(
        ParticipantBalance(
            building_id=p.building_id,
            production_kwh=float(production[i].sum()),
            consumption_kwh=float(load[i].sum()),
            allocated_kwh=float(allocated[i].sum()),
            alone_self_consumed_kwh=float(alone[i].sum()),
        )
        for i, p in enumerate(kept)
    )
    xy = np.array([(p.x, p.y) for p in kept], dtype=np.float64)
    return CollectiveBalance(
        allocation=allocation,
        perimeter_m=perimeter_m,
        diameter_m=diameter_m(xy),
        participants=rows,
        excluded=excluded,
        production_kwh=float(pooled_p.sum()),
        consumption_kwh=float(pooled_c.sum()),
        self_consumed_kwh=self_consumed,
        surplus_kwh=float(pooled_p.sum()) - self_consumed,
        grid_import_kwh=float(pooled_c.sum()) - self_consumed,
        alone_self_consumed_kwh=float(alone.sum()),
    )


def commune_participants(
    cadastre: RoofSource,
    records: Sequence[BuildingRecord],
    entries: Mapping[str, PortfolioEntry],
) -> list[Participant]:
    """The buildings of a commune's portfolio that can take part in an operation.

    Producers are the retained buildings, with every module of their faces worth
    equipping (the building's totals in the cadastre); consumers are the portfolio's
    buildings whose annual consumption is known, whatever their status, each with the
    load shape of its use (:func:`solar.communes.loadshapes.building_load`). A building
    can be both. Positions are the footprints' centroids in the cadastre's CRS, which must
    be metric (EPSG:2154 for the Artois).

    Parameters
    ----------
    cadastre : RoofSource
    records : sequence of BuildingRecord
        The portfolio's buildings.
    entries : mapping of building id to PortfolioEntry
    """
    participants = []
    for record in records:
        entry = entries.get(record.building_id)
        if entry is None:
            continue
        load = building_load(entry.usage, entry.annual_consumption_kwh)
        production = None
        if entry.status == "retenu":
            roof = read_roof(cadastre, record.building_id)
            if roof.profiles.size:
                production = roof.profiles.sum(axis=0)
        if production is None and load is None:
            continue
        centre = record.geometry.centroid
        participants.append(
            Participant(
                record.building_id,
                float(centre.x),
                float(centre.y),
                production,
                None if load is None else load.hourly_kwh,
            )
        )
    return participants
