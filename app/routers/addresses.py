"""Address search and the per-address solar result."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from app import views
from app.dependencies import ServicesDep
from app.models import AddressHit, AddressSearch, AddressSolar, ErrorBody

router = APIRouter(
    prefix="/api/v1/addresses",
    tags=["addresses"],
    responses={422: {"model": ErrorBody, "description": "A parameter is invalid."}},
)

MAX_QUERY_LENGTH = 200


@router.get("", response_model=AddressSearch, summary="Search addresses (autocomplete)")
def search_addresses(
    q: Annotated[
        str,
        Query(
            min_length=1,
            max_length=MAX_QUERY_LENGTH,
            # not blank: a query of spaces is an empty query
            pattern=r"\S",
            description="What the resident typed. Accents, case, typos and the usual "
            "abbreviations (av, bd, st, r, pl, ch, imp…) do not matter.",
            examples=["12 av jean jaures lens"],
        ),
    ],
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=50, description="Most results returned.")] = 10,
) -> Response:
    """Addresses matching `q`, best first: exact number and street, then prefixes, then typos."""
    hits = services.address_index.search(q, limit=limit)
    return views.json_response(
        AddressSearch(results=[AddressHit.model_validate(h.address) for h in hits])
    )


@router.get(
    "/{address_id}/solar",
    response_model=AddressSolar,
    summary="The solar potential of the roof at an address",
    responses={
        404: {
            "model": ErrorBody,
            "description": "Unknown address (`code` not_found), or no building under it "
            "(`code` no_building_at_address).",
        }
    },
)
async def address_solar(
    address_id: Annotated[
        str, Path(max_length=200, description="A BAN id.", examples=["62498_0540_00012_bis"])
    ],
    services: ServicesDep,
) -> Response:
    """The address, and the building under it with every roof face."""
    # On the event loop, not in the thread pool: the work is two to four indexed reads of
    # a file in the page cache and a document rendered in under a millisecond, less than
    # the pool's round trip costs under load (scripts/bench_api.py --territory).
    address, building_id = services.address(address_id)
    return services.documents.address_response(address, building_id)
