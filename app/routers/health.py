"""Liveness and readiness: the process answers, and which cadastre file it serves."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.dependencies import ServicesDep
from app.models import CadastreFile, Health
from app.swap import ServicesHolder

router = APIRouter(tags=["health"])


@router.get("/health", summary="Liveness and readiness")
def health(request: Request, services: ServicesDep) -> Health:
    """`ok` while the process answers; the version, what is served and from which file.

    `readiness` is `degraded`, with its `reason`, when the cadastre file at the configured
    path is missing or was refused: the file opened before is still served. The answer is
    200 either way, as the service still answers from that file.
    """
    holder: ServicesHolder = request.state.holder
    summary = services.coverage
    identity = services.identity
    return Health(
        version=summary.api_version,
        buildings=summary.counts.buildings,
        addresses=len(services.address_index),
        readiness=holder.readiness.status,
        reason=holder.readiness.reason,
        cadastre=CadastreFile(
            sha256=identity.sha256, verified=identity.verified, built_at=identity.built_at
        ),
    )
