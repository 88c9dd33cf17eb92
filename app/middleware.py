"""ASGI middleware that bounds and records every request.

- :class:`AccessLog`: one structured line per request (request id, method, path, status,
  duration), the request id echoed in ``X-Request-ID``;
- :class:`SecurityHeaders`: a Content-Security-Policy allowing the service itself and the
  configured basemap only, ``nosniff``, a referrer policy, no framing;
- :class:`RateLimit`: requests per second per client, 429 with ``Retry-After``;
- :class:`BodyLimit`: 413 as soon as a body passes its cap, without reading the rest;
- :class:`RequestTimeout`: 408 when the body arrives too slowly, 503 when the answer
  takes too long;
- :class:`Compression`: gzip for the clients that accept it, nothing for the others.

Every request goes through all of them, so each costs a few microseconds: pure ASGI,
nothing computed that the request does not need.

Each answers with the API's error body ``{"detail": ..., "code": ...}``. The header size
cap (431) and the slow-header timeout live in the HTTP server: :mod:`app.protocol`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import math
import random
import re
import time
from collections.abc import Iterable, Sequence
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network
from urllib.parse import parse_qsl, urlsplit

from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_logger = logging.getLogger("app.access")

#: A request id a client or a proxy may set: short, and safe to write in a log line.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


async def send_error(
    send: Send,
    status: int,
    detail: str,
    code: str,
    *,
    headers: Iterable[tuple[bytes, bytes]] = (),
    close: bool = False,
) -> None:
    """Answer with the API's error body; ``close`` asks the server to drop the connection,
    so that it reads no more of a body it refused."""
    body = json.dumps({"detail": detail, "code": code}).encode()
    head = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *headers,
    ]
    if close:
        head.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


class AccessLog:
    """One line per request on the ``app.access`` logger, at INFO.

    The line carries the request id (``X-Request-ID`` when the client or the proxy sent a
    well-formed one, else a new one, echoed in the response), the method, the path, the
    names of the query parameters (not their values: a searched address is personal),
    the status and the duration. Nothing of the body, no header value. A client gone
    before its answer is logged with status 499, as nginx does, in that one line.
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = (_header(scope, b"x-request-id") or b"").decode("latin-1")
        # an id tells requests apart, it guards nothing: no system entropy per request
        request_id = given if _REQUEST_ID.fullmatch(given) else f"{random.getrandbits(128):032x}"
        start = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if access_logger.isEnabledFor(logging.INFO):
                self._log(scope, request_id, status, start)

    @staticmethod
    def _log(scope: Scope, request_id: str, status: int, start: float) -> None:
        query = scope.get("query_string", b"").decode("latin-1")
        fields = {
            "request_id": request_id,
            "method": scope["method"],
            "path": scope["path"],
            "query_keys": sorted({k for k, _ in parse_qsl(query, keep_blank_values=True)}),
            "status": status,
            "duration_ms": round((time.perf_counter() - start) * 1000, 1),
        }
        access_logger.info(
            "%s %s %s", scope["method"], scope["path"], status, extra={"access": fields}
        )


def _origin(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def content_security_policy(basemap_style: str | None, script_hashes: Sequence[str] = ()) -> str:
    """The Content-Security-Policy of the service's pages.

    Everything comes from the service itself, except the basemap's style, tiles, sprites
    and glyphs, from the origin of ``basemap_style``. MapLibre draws in web workers that
    it starts from ``blob:`` URLs, and decodes images as ``data:`` and ``blob:`` URLs.

    Parameters
    ----------
    basemap_style : str or None
        The MapLibre style URL of the basemap (``CADASTRE_BASEMAP_STYLE``).
    script_hashes : sequence of str
        SHA-256 (base64) of inline scripts a page may run, as ``sha256-…``.
    """
    basemap = _origin(basemap_style)
    extra = f" {basemap}" if basemap else ""
    scripts = "".join(f" '{h}'" for h in script_hashes)
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self'{scripts}",
            f"style-src 'self'{extra}",
            f"img-src 'self' data: blob:{extra}",
            f"font-src 'self'{extra}",
            f"connect-src 'self'{extra}",
            "worker-src 'self' blob:",
            "child-src 'self' blob:",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def script_hash(script: str) -> str:
    """The CSP source that allows one inline script: ``sha256-<base64>``."""
    digest = hashlib.sha256(script.encode()).digest()
    return f"sha256-{base64.b64encode(digest).decode()}"


class SecurityHeaders:
    """Security headers on every response; a response that sets its own CSP keeps it."""

    def __init__(self, app: ASGIApp, *, basemap_style: str | None):
        self.app = app
        self.headers = [
            (b"content-security-policy", content_security_policy(basemap_style).encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"strict-origin-when-cross-origin"),
            (b"x-frame-options", b"DENY"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [
                    *message.get("headers", []),
                    *((n, v) for n, v in self.headers if n not in present),
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


IPAddress = IPv4Address | IPv6Address


class RateLimit:
    """At most ``per_second`` requests per client over any moving one-second window.

    The client is the peer address, or, when the peer is a trusted proxy, the last
    address of ``X-Forwarded-For`` that is not a trusted proxy (each proxy appends the
    address it received the request from). A peer that has no IP address (a Unix
    socket, an in-process test client) names no client: its requests are not limited.
    The counts live in this worker process; ``/health`` is never limited. A refused
    request gets 429 and ``Retry-After``.
    """

    def __init__(self, app: ASGIApp, *, per_second: int, trusted_proxies: Sequence[str]):
        self.app = app
        self.item = RateLimitItemPerSecond(per_second)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        self.proxies = [ip_network(p, strict=False) for p in trusted_proxies]

    def _trusted(self, address: IPAddress) -> bool:
        return any(address in network for network in self.proxies)

    def client(self, scope: Scope) -> str | None:
        """The client's address, as the rate limit counts it; None without an IP peer."""
        peer = (scope.get("client") or ("", 0))[0]
        try:
            address = ip_address(peer)
        except ValueError:
            return None
        if not self._trusted(address):
            return str(address)
        forwarded = (_header(scope, b"x-forwarded-for") or b"").decode("latin-1")
        for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
            try:
                address = ip_address(hop)
            except ValueError:
                break  # a malformed hop: trust nothing beyond it
            if not self._trusted(address):
                break
        return str(address)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == "/health":
            await self.app(scope, receive, send)
            return
        client = self.client(scope)
        if client is None or self.limiter.hit(self.item, client):
            await self.app(scope, receive, send)
            return
        reset, _ = self.limiter.get_window_stats(self.item, client)
        retry_after = max(1, math.ceil(reset - time.time()))
        await send_error(
            send,
            429,
            f"more than {self.item.amount} requests per second from this client; "
            f"retry in {retry_after} s",
            "too_many_requests",
            headers=[(b"retry-after", str(retry_after).encode())],
        )


class BodyLimit:
    """413 as soon as a request body passes its cap, without reading the rest of it.

    A ``Content-Length`` above the cap is refused before any byte of the body is read;
    a body sent without one (chunked) is counted as it arrives. The cap of a multipart
    upload is ``file_bytes`` plus ``form_bytes`` for the fields and framing, that of any
    other body ``json_bytes``. The answer asks the server to close the connection, so
    the rest of the body is never read.

    Parameters
    ----------
    json_bytes : int
        Largest body that is not a multipart upload. [bytes]
    file_bytes, form_bytes : int
        Largest uploaded file, and room for the rest of the form. [bytes]
    file_field : str
        The form field that holds the file, which the 413 of an upload names.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        json_bytes: int,
        file_bytes: int,
        form_bytes: int,
        file_field: str = "file",
    ):
        self.app = app
        self.json_bytes = json_bytes
        self.upload_bytes = file_bytes + form_bytes
        self.upload_detail = (
            f"{file_field}: the upload is larger than {file_bytes} bytes, the largest file accepted"
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        content_type = (_header(scope, b"content-type") or b"").lower()
        upload = content_type.startswith(b"multipart/form-data")
        cap = self.upload_bytes if upload else self.json_bytes
        detail = (
            self.upload_detail
            if upload
            else f"the request body is larger than {cap} bytes, the largest accepted"
        )
        length = _header(scope, b"content-length")
        if length is not None and length.isdigit() and int(length) > cap:
            await send_error(send, 413, detail, "payload_too_large", close=True)
            return
        received = 0
        refused = False
        started = False

        async def counted_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    refused = True
                    if not started:
                        await send_error(send, 413, detail, "payload_too_large", close=True)
                    # the app stops reading as if the client had gone
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 is the answer
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counted_receive, guarded_send)


class RequestTimeout:
    """Bound the time of a request, its body included.

    Past ``seconds``, a request whose body is still arriving gets 408 (a slow client)
    and any other 503 (a slow answer), and the connection is closed. A response already
    started is left to finish its body. Work running in a thread is not interrupted
    (Python cannot), but its answer is dropped; :mod:`app.routers.simulate` bounds how
    much such work runs at once.
    """

    def __init__(self, app: ASGIApp, *, seconds: float):
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        body_complete = scope["method"] in ("GET", "HEAD", "OPTIONS")

        async def watched_receive() -> Message:
            nonlocal body_complete
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_complete = True
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            # a deadline on this task, not wait_for's second task: one timer per request
            async with asyncio.timeout(self.seconds):
                await self.app(scope, watched_receive, watched_send)
        except TimeoutError:
            if started:
                return
            if not body_complete:
                await send_error(
                    send,
                    408,
                    f"the request body did not arrive within {self.seconds:g} s",
                    "request_timeout",
                    close=True,
                )
            else:
                await send_error(
                    send,
                    503,
                    f"the answer took longer than {self.seconds:g} s; try again later",
                    "timeout",
                    close=True,
                )


class Compression:
    """Starlette's gzip for the requests that accept it; the others pass straight through.

    Starlette's middleware inspects every response, compressed or not; most API clients
    here (scripts, other services) ask for no compression. ``Vary: Accept-Encoding`` is
    set on every response, so that a shared cache keeps the two versions apart.

    Parameters
    ----------
    minimum_size : int
        Smallest body compressed. [bytes]
    compresslevel : int
        zlib level, 1 to 9.
    """

    def __init__(self, app: ASGIApp, *, minimum_size: int, compresslevel: int):
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=minimum_size, compresslevel=compresslevel)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        accepted = _header(scope, b"accept-encoding") or b""
        if b"gzip" in accepted.lower():
            await self.gzip(scope, receive, send)
            return

        async def send_with_vary(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                if not any(name.lower() == b"vary" for name, _ in headers):
                    message["headers"] = [*headers, (b"vary", b"Accept-Encoding")]
            await send(message)

        await self.app(scope, receive, send_with_vary)
