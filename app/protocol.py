"""uvicorn's httptools protocol with a cap on request headers and a deadline to send them.

uvicorn bounds neither: with httptools, a 10 MB header is read whole and answered, and a
client that sends half a request line keeps its connection for ever. ASGI middleware
cannot help, as it only sees a request once its headers are complete. So the HTTP
protocol itself, per connection:

- counts the bytes of the request line and headers as they are parsed, and answers
  431 (Request Header Fields Too Large) and closes the connection past
  ``CADASTRE_HEADER_LIMIT_BYTES``; the bytes received while headers are still
  incomplete are counted too, so that one endless header is cut as well;
- closes the connection when a request's line and headers have not all arrived
  ``CADASTRE_HEADER_TIMEOUT_S`` seconds after the connection opened or after the
  request's first byte (408 when part of a request had come).

The request body is bounded by :class:`app.middleware.BodyLimit` and
:class:`app.middleware.RequestTimeout`, an idle keep-alive connection by uvicorn's
``timeout_keep_alive``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from app.settings import get_settings

#: Bytes one read may bring past the header cap before the raw count cuts the
#: connection; the exact count in the parser's callbacks answers first in all other cases.
_READ_MARGIN = 64 * 1024


class _HeadersTooLarge(Exception):
    """Raised in a parser callback to stop parsing an oversize request head."""


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """:class:`uvicorn.protocols.http.httptools_impl.HttpToolsProtocol` with header bounds.

    Pass the class as uvicorn's ``http``. The limits are read from
    :func:`app.settings.get_settings` unless a subclass sets the class attributes.
    """

    header_limit_bytes: ClassVar[int | None] = None
    header_timeout_s: ClassVar[float | None] = None

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        limit, timeout = self.header_limit_bytes, self.header_timeout_s
        if limit is None or timeout is None:
            settings = get_settings()
            limit = settings.header_limit_bytes if limit is None else limit
            timeout = settings.header_timeout_s if timeout is None else timeout
        self._limit = limit
        self._timeout = timeout
        self._head_bytes = 0  # parsed bytes of the current request line and headers
        self._raw_bytes = 0  # bytes received while the current head is incomplete
        self._head_pending = True
        self._started = False  # a byte of the current request has been parsed
        self._too_large = False
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._too_large:
            return
        super().data_received(data)
        if self._head_pending and not self.transport.is_closing():
            self._raw_bytes += len(data)
            if self._raw_bytes > self._limit + _READ_MARGIN:
                self._refuse_head()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = 0
        self._head_pending = True
        self._started = True
        if self._head_timer is None:
            self._arm_head_timer()

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)  # ": " and CRLF
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._head_pending = False
        self._started = False
        self._raw_bytes = 0
        self._disarm_head_timer()
        super().on_headers_complete()

    def _count(self, size: int) -> None:
        self._head_bytes += size
        if self._head_bytes > self._limit:
            self._too_large = True
            raise _HeadersTooLarge

    def send_400_response(self, msg: str) -> None:
        # the parser reports an exception raised in a callback as a malformed request
        if self._too_large:
            self._send_and_close(431, "request_header_fields_too_large", self._too_large_detail)
        else:
            super().send_400_response(msg)

    @property
    def _too_large_detail(self) -> str:
        return f"the request line and headers are larger than {self._limit} bytes"

    def _refuse_head(self) -> None:
        self._too_large = True
        self._send_and_close(431, "request_header_fields_too_large", self._too_large_detail)

    def _send_and_close(self, status: int, code: str, detail: str) -> None:
        self._disarm_head_timer()
        if self.transport.is_closing():
            return
        body = json.dumps({"detail": detail, "code": code}).encode()
        self.transport.write(
            STATUS_LINE[status]
            + b"content-type: application/json\r\n"
            + b"content-length: "
            + str(len(body)).encode()
            + b"\r\nconnection: close\r\n\r\n"
            + body
        )
        self.transport.close()

    def _arm_head_timer(self) -> None:
        self._disarm_head_timer()
        self._head_timer = self.loop.call_later(self._timeout, self._head_timed_out)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self._head_pending or self.transport.is_closing():
            return
        if self._started or self._raw_bytes:
            self._send_and_close(
                408,
                "request_timeout",
                f"the request line and headers did not arrive within {self._timeout:g} s",
            )
        else:
            self.transport.close()
