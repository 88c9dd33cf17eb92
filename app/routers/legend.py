"""The map's legend: suitability classes and the irradiation ramp."""

from __future__ import annotations

from fastapi import APIRouter, Response

from app import views
from app.models import IrradiationRamp, Legend, SuitabilityClassOut
from solar import suitability

router = APIRouter(prefix="/api/v1/legend", tags=["map"])

LEGEND = Legend(
    suitability=[
        SuitabilityClassOut(
            code=c.code, label=c.label, colour=c.colour, min_relative=c.min_relative
        )
        for c in suitability.CLASSES
    ],
    irradiation=IrradiationRamp(
        unit=suitability.IRRADIATION_UNIT, stops=list(suitability.IRRADIATION_STOPS)
    ),
)
"""The legend never changes while the code does not: made once."""


@router.get("", response_model=Legend, summary="Classes, labels and colours of the map")
async def legend() -> Response:
    """The suitability classes (code, French label, colour, lower bound on the relative
    irradiation), best first, and the colour ramp of the irradiation tiles in kWh/m²/an.
    The page, the vector tiles' `suitability` codes and the QGIS style all use these."""
    return views.json_response(LEGEND)
