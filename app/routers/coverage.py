"""What the cadastre covers, and where its data comes from."""

from __future__ import annotations

from fastapi import APIRouter

from app.dependencies import ServicesDep
from app.models import Coverage

router = APIRouter(prefix="/api/v1/coverage", tags=["coverage"])


@router.get("", summary="Extent, communes, counts and provenance")
def coverage(services: ServicesDep) -> Coverage:
    """The WGS84 bounding box, the communes, the counts, and the provenance: data sources
    and their dates, the weather file and the code version."""
    return services.coverage
