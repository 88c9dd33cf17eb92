"""Liveness: the process answers and its cadastre is open."""

from __future__ import annotations

from fastapi import APIRouter

from app.dependencies import ServicesDep
from app.models import Health

router = APIRouter(tags=["health"])


@router.get("/health", summary="Liveness check")
def health(services: ServicesDep) -> Health:
    """`ok`, the version, and what is served."""
    summary = services.coverage
    return Health(
        version=summary.api_version,
        buildings=summary.counts.buildings,
        addresses=len(services.address_index),
    )
