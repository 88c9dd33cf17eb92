"""Domain exceptions mapped to HTTP responses, in one place.

Every error response has the body ``{"detail": "<message>", "code": "<machine code>"}``.
Routine client errors (4xx) are not logged; an unexpected error is logged with its
traceback and answered with a 500 that shows no internal message. A client that goes
away before the end of its request (an upload cancelled) is a routine event: its
request ends with status 499 (nginx's "client closed request"), which only the access
log records, in one line.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from solar.errors import CadastreError, InputError, NoBuildingAtAddress, NotFound, PayloadTooLarge

logger = logging.getLogger("app")

#: Domain exception → (HTTP status, machine-readable code). Subclasses come first in the
#: lookup: the most specific class in the exception's MRO wins.
ERRORS: dict[type[CadastreError], tuple[int, str]] = {
    NoBuildingAtAddress: (404, "no_building_at_address"),
    NotFound: (404, "not_found"),
    PayloadTooLarge: (413, "payload_too_large"),
    InputError: (422, "invalid_parameter"),
}


def _body(
    status: int, detail: str, code: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"detail": detail, "code": code}, status_code=status, headers=headers)


def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    logger.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return _body(500, "internal server error", "internal_error")


async def _domain_error(request: Request, exc: Exception) -> JSONResponse:
    for cls in type(exc).__mro__:
        if cls in ERRORS:
            status, code = ERRORS[cls]
            return _body(status, str(exc), code)
    return _internal_error(request, exc)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    messages = []
    for error in exc.errors():
        # loc is ("query", "bbox") or ("path", "building_id"): name the parameter, not its place
        where = [str(p) for p in error.get("loc", ()) if p not in ("query", "path", "body")]
        messages.append(f"{'.'.join(where) or 'request'}: {error.get('msg', 'invalid')}")
    return _body(422, "; ".join(messages), "invalid_parameter")


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    try:
        code = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        code = f"http_{exc.status_code}"
    return _body(exc.status_code, str(exc.detail), code, headers=exc.headers)


#: Status of a request whose client went away before sending all of it; never sent.
CLIENT_CLOSED_REQUEST = 499


async def _client_gone(request: Request, exc: Exception) -> JSONResponse:
    return _body(CLIENT_CLOSED_REQUEST, "the client closed the request", "client_closed_request")


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    return _internal_error(request, exc)


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers once on ``app``."""
    app.add_exception_handler(CadastreError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(ClientDisconnect, _client_gone)
    app.add_exception_handler(Exception, _unexpected_error)
