"""A multipart form with one uploaded file, read in memory under a hard cap.

The cap is the largest file accepted (``CADASTRE_UPLOAD_LIMIT_BYTES``) plus room for the
form fields and the framing. A Content-Length above it is refused before reading, and
reading stops as soon as the body passes it (413). The file never reaches the disk: the
multipart parser's spool is kept larger than the cap, so it never rolls over to a
temporary file. It is never logged: no handler logs request bodies, 4xx errors are not
logged, and python-multipart's framing warnings (which quote body bytes) are silenced in
:func:`app.main.create_app`. The raw fields are dropped once validated.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData, Headers, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from solar.errors import InputError, PayloadTooLarge
from solar.household.loadcurves import LinkyCurve, read_linky

M = TypeVar("M", bound=BaseModel)

#: Room for the form fields and the multipart framing around the file. [bytes]
FORM_OVERHEAD_BYTES = 64 * 1024
#: Form fields an upload may carry besides the file.
MAX_FORM_FIELDS = 20


class _InMemoryMultiPartParser(MultiPartParser):
    """Starlette's multipart parser with a spool as large as the body cap.

    A spooled file moves to disk only when it outgrows its ``max_size``; the body is cut
    off at ``spool_max_size``, so the uploaded file always stays in memory.
    """

    def __init__(
        self, headers: Headers, stream: AsyncGenerator[bytes, None], *, spool_max_size: int
    ):
        super().__init__(
            headers,
            stream,
            max_files=1,
            max_fields=MAX_FORM_FIELDS,
            max_part_size=FORM_OVERHEAD_BYTES,
        )
        self.spool_max_size = spool_max_size


async def capped(
    stream: AsyncIterator[bytes], cap: int, limit: int, *, source: str = "file"
) -> AsyncGenerator[bytes, None]:
    """The request body, stopped with a 413 as soon as it passes ``cap`` bytes.

    Parameters
    ----------
    stream : async iterator of bytes
        The request body.
    cap : int
        Bytes read at most. [bytes]
    limit : int
        The largest file accepted, for the message. [bytes]
    source : str
        The form field the message names.
    """
    received = 0
    async for chunk in stream:
        received += len(chunk)
        if received > cap:
            raise PayloadTooLarge(
                f"the upload is larger than {limit} bytes, the largest file accepted",
                source=source,
            )
        yield chunk


@contextmanager
def form_errors() -> Iterator[None]:
    """Report a pydantic error in a form's values as FastAPI reports an invalid request:
    a 422 naming the field, without the value."""
    try:
        yield
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False, include_input=False)) from None


async def _read_fields(request: Request, limit: int, file_field: str) -> dict[str, Any]:
    """The form's fields, and the file's bytes under ``file_field``, read under the cap."""
    cap = limit + FORM_OVERHEAD_BYTES
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > cap:
        raise PayloadTooLarge(
            f"the upload is {int(length)} bytes; the file may have at most {limit}",
            source=file_field,
        )
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise InputError(
            f"expected a multipart/form-data upload with the file in {file_field!r}",
            source=file_field,
        )
    parser = _InMemoryMultiPartParser(
        request.headers,
        capped(request.stream(), cap, limit, source=file_field),
        spool_max_size=cap,
    )
    try:
        form: FormData = await parser.parse()
    except MultiPartException as exc:
        raise InputError(f"malformed upload: {exc.message}", source=file_field) from None
    values: dict[str, Any] = {}
    try:
        for name, value in form.multi_items():
            if name in values:
                raise InputError("given more than once", source=name)
            if isinstance(value, UploadFile):
                values[name] = await value.read()
            elif value != "":  # a blank form field is an absent one
                values[name] = value
    finally:
        await form.close()
    file = values.get(file_field)
    if isinstance(file, str):
        values[file_field] = file = file.encode("utf-8")
    if isinstance(file, bytes) and len(file) > limit:
        raise PayloadTooLarge(
            f"the file is larger than {limit} bytes, the largest accepted", source=file_field
        )
    return values


def form_request_body(model: type[BaseModel]) -> dict[str, Any]:
    """The ``openapi_extra`` of an endpoint that reads ``model`` with :func:`read_form`.

    The form is read from the request itself, not declared as parameters, so FastAPI
    cannot document it: this says it is a required multipart body of ``model``'s fields.
    """
    schema = model.model_json_schema()
    return {
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": schema}}}
    }


async def read_form(request: Request, model: type[M], *, limit: int, file_field: str = "file") -> M:
    """The multipart form of ``request``, its file read in memory, validated as ``model``.

    Parameters
    ----------
    request : fastapi.Request
    model : type of pydantic.BaseModel
        The form's fields; the file's bytes go to its ``file_field``.
    limit : int
        The largest file accepted. [bytes]
    file_field : str
        The form field that holds the file.

    Raises
    ------
    solar.errors.PayloadTooLarge
        When the body or the file passes its cap (413).
    solar.errors.InputError
        When the body is not a well-formed multipart form, or repeats a field.
    fastapi.exceptions.RequestValidationError
        When a field is invalid (422 naming it).
    """
    values = await _read_fields(request, limit, file_field)
    try:
        with form_errors():
            return model.model_validate(values)
    finally:
        values.clear()


def read_load_curve(data: bytes) -> LinkyCurve:
    """An uploaded Enedis load curve export (the form's ``file``), read for one request.

    Raises
    ------
    solar.errors.InputError
        Naming ``file`` (and the line): not the export, or not text.
    """
    try:
        return read_linky(data, source="file")
    except UnicodeDecodeError:
        # read_linky falls back to Windows-1252, which leaves five byte values undefined
        raise InputError(
            "not a text file: expected the Enedis CSV export (UTF-8 or Windows-1252)",
            source="file",
        ) from None
