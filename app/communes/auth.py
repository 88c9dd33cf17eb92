"""Who may read and write a commune: ``Authorization: Bearer KEY`` and the key's scope.

Answers, in this order:

- 401, with ``WWW-Authenticate: Bearer``, without a key, or with an unknown or revoked one;
- 403 for a commune outside the key's scope (or, for territory endpoints, a key of
  communes only);
- 404 for a commune the key may reach but the cadastre does not cover (or a malformed
  INSEE code): it has no building to list.

The key is never logged: it is read from the header, hashed, and dropped.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.communes.keys import INSEE_PATTERN, KeyScope
from app.communes.store import Store
from app.dependencies import ServicesDep
from app.models import ErrorBody
from solar.errors import NotFound

__all__ = [
    "ACCESS_RESPONSES",
    "CommuneAccessDep",
    "KeyScope",
    "KeyScopeDep",
    "StoreDep",
    "TerritoryAccessDep",
]

ACCESS_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "No API key, or an unknown or revoked one."},
    403: {"model": ErrorBody, "description": "The commune is outside the key's scope."},
    404: {"model": ErrorBody, "description": "The cadastre covers no such commune."},
    422: {"model": ErrorBody, "description": "A parameter is invalid."},
}
"""The answers every endpoint behind a commune key documents, for its router."""

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="CommuneKey",
    description="A commune's API key (or the PMA's territory key), made by "
    "`cadastre keys create`: `Authorization: Bearer KEY`.",
)


async def get_store(request: Request) -> Store:
    """The store the app's lifespan opened."""
    store: Store = request.state.store
    return store


StoreDep = Annotated[Store, Depends(get_store)]


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


async def key_scope(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    store: StoreDep,
) -> KeyScope:
    """The scope of the request's key; 401 without a valid one.

    A key checked a moment ago is trusted from memory (:meth:`Store.trusted_scope`);
    otherwise the store is read in a worker thread, since PostgreSQL answers over the network.
    """
    if credentials is None:
        raise _unauthorized("an API key is needed: Authorization: Bearer KEY")
    scope = store.trusted_scope(credentials.credentials)
    if scope is None:
        scope = await run_in_threadpool(store.authenticate, credentials.credentials)
    if scope is None:
        raise _unauthorized("unknown or revoked API key")
    return scope


KeyScopeDep = Annotated[KeyScope, Depends(key_scope)]


async def commune_access(
    insee: Annotated[str, Path(max_length=10, description="INSEE code of the commune.")],
    scope: KeyScopeDep,
    services: ServicesDep,
) -> KeyScope:
    """The key's scope when it reaches the commune ``insee`` of the path; 403, 404 else.

    Run in the event loop: the cadastre's check is one indexed read of a local file, far
    cheaper than a hop to a worker thread.
    """
    if not scope.covers(insee):
        raise HTTPException(403, f"this key does not reach the commune {insee}")
    if not INSEE_PATTERN.match(insee) or not services.cadastre.has_commune(insee):
        raise NotFound(f"the cadastre covers no commune {insee!r}")
    return scope


async def territory_access(scope: KeyScopeDep) -> KeyScope:
    """The key's scope when it reaches the whole territory; 403 else."""
    if not scope.territory:
        raise HTTPException(403, "this endpoint needs a territory key (the PMA's)")
    return scope


CommuneAccessDep = Annotated[KeyScope, Depends(commune_access)]
TerritoryAccessDep = Annotated[KeyScope, Depends(territory_access)]
