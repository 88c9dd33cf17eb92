"""Liveness: the process answers and its cadastre is open."""

from __future__ import annotations

from fastapi import APIRouter

from app.dependencies import AddressIndexDep, CoverageDep
from app.models import Health

router = APIRouter(tags=["health"])


@router.get("/health", summary="Liveness check")
def health(summary: CoverageDep, index: AddressIndexDep) -> Health:
    """`ok`, the version, and what is served."""
    return Health(
        version=summary.api_version, buildings=summary.counts.buildings, addresses=len(index)
    )
