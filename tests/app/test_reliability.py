"""The service under stress: a cadastre swapped under load, damaged files, bounded requests.

The server-level bounds (header cap, slow clients, bodies cut short) are checked against
a real uvicorn on a loopback port, with raw sockets: a test client never sends half a
request. The other checks go through the test client.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import os
import shutil
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.cli import cli
from app.main import create_app
from app.middleware import RateLimit
from app.protocol import BoundedHttpToolsProtocol
from app.settings import Settings
from solar.cadastre import Cadastre, checksum_path

# --------------------------------------------------------------------------- helpers


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _copy(cadastre: Path, target: Path) -> Path:
    """A copy of a cadastre with its checksum file, as a build leaves them."""
    shutil.copyfile(cadastre, target)
    checksum_path(target).write_text(f"{_sha256(target)}  {target.name}\n")
    return target


def _rebuilt(cadastre: Path, target: Path) -> Path:
    """Another build of the territory: its monthly figures blank (read as zeros)."""
    shutil.copyfile(cadastre, target)
    con = sqlite3.connect(target)
    with con:
        con.execute("UPDATE face_series SET monthly = NULL")
    con.close()
    checksum_path(target).write_text(f"{_sha256(target)}  {target.name}\n")
    return target


def _replace(source: Path, target: Path) -> None:
    """Put ``source`` (and its checksum) at ``target`` as ``cadastre build --out`` does:
    the checksum first, then the file, each by an atomic rename."""
    staged = target.with_name(f".{target.name}.staged")
    shutil.copyfile(source, staged)
    shutil.copyfile(checksum_path(source), checksum_path(target).with_suffix(".tmp"))
    os.replace(checksum_path(target).with_suffix(".tmp"), checksum_path(target))
    os.replace(staged, target)


def _damage(path: Path) -> None:
    """Random bytes written in the middle of the file, as a failing disk or copy would."""
    with path.open("r+b") as stream:
        stream.seek(path.stat().st_size // 2)
        stream.write(os.urandom(4096))


def _first_building(path: Path) -> str:
    con = sqlite3.connect(path)
    try:
        row = con.execute(
            "SELECT b.building_id FROM buildings b JOIN roof_faces f USING (building_id)"
            " ORDER BY b.fid LIMIT 1"
        ).fetchone()
    finally:
        con.close()
    return str(row[0])


def _wait_for(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition did not come true in time"
        time.sleep(0.05)


@pytest.fixture
def files(cadastre_path: Path, tmp_path: Path) -> dict[str, Path]:
    """The served path, and two builds to put there: ``a`` (the session's) and ``b``."""
    builds = tmp_path / "builds"
    builds.mkdir()
    a = _copy(cadastre_path, builds / "a.gpkg")
    b = _rebuilt(cadastre_path, builds / "b.gpkg")
    served = tmp_path / "served" / "cadastre.gpkg"
    served.parent.mkdir()
    _replace(a, served)
    return {"served": served, "a": a, "b": b}


def _served_sha256(client: TestClient) -> str:
    return str(client.get("/health").json()["cadastre"]["sha256"])


def _client(path: Path, **settings: object) -> TestClient:
    """A test client that comes from an IP address, as the rate limit counts clients."""
    app = create_app(Settings(path=path, **settings))  # type: ignore[arg-type]
    return TestClient(app, client=("203.0.113.7", 50000))


# --------------------------------------------------------------------------- swap


def test_swap_under_load_never_mixes_files_nor_fails(files: dict[str, Path]) -> None:
    served, a, b = files["served"], files["a"], files["b"]
    building = _first_building(a)
    url = f"/api/v1/buildings/{building}"
    with _client(a, watch_interval_s=15.0) as client:
        documents = {_sha256(a)[:16]: client.get(url).json()}
    with _client(b, watch_interval_s=15.0) as client:
        documents[_sha256(b)[:16]] = client.get(url).json()
    assert len({str(d) for d in documents.values()}) == 2, "the two builds must differ"

    answers: list[tuple[int, str, dict]] = []
    stop = threading.Event()
    with _client(served, watch_interval_s=0.1, rate_limit=0) as client:

        def hammer() -> None:
            while not stop.is_set():
                response = client.get(url)
                etag = response.headers.get("etag", "")
                answers.append((response.status_code, etag, response.json()))

        with ThreadPoolExecutor(4) as pool:
            for _ in range(4):
                pool.submit(hammer)
            for build in (b, a, b):
                _replace(build, served)
                expected = _sha256(build)
                _wait_for(lambda e=expected: _served_sha256(client) == e)
                time.sleep(0.3)
            stop.set()
        health = client.get("/health").json()
    assert health["readiness"] == "ok"
    assert health["cadastre"]["sha256"] == _sha256(b)
    assert health["cadastre"]["verified"] is True
    assert len(answers) > 20
    tags = set()
    for status, etag, document in answers:
        assert status == 200
        content = etag.removeprefix('W/"').split("-")[0]
        # each answer is one whole file's, and its ETag names that file
        assert document == documents[content]
        tags.add(content)
    assert tags == set(documents), "answers came from both files"


def test_etag_follows_the_swapped_file(files: dict[str, Path]) -> None:
    served, b = files["served"], files["b"]
    with _client(served, watch_interval_s=0.1) as client:
        first = client.get("/api/v1/coverage")
        cached = client.get("/api/v1/coverage", headers={"if-none-match": first.headers["etag"]})
        assert cached.status_code == 304
        _replace(b, served)
        _wait_for(lambda: _served_sha256(client) == _sha256(b))
        again = client.get("/api/v1/coverage", headers={"if-none-match": first.headers["etag"]})
    assert again.status_code == 200
    assert again.headers["etag"] != first.headers["etag"]
    assert _sha256(b)[:16] in again.headers["etag"]


@pytest.mark.parametrize("replacement", ["damaged", "not-a-cadastre", "deleted"])
def test_a_bad_replacement_keeps_the_old_file_serving(
    files: dict[str, Path], tmp_path: Path, replacement: str
) -> None:
    served, a = files["served"], files["a"]
    url = f"/api/v1/buildings/{_first_building(a)}"
    with _client(served, watch_interval_s=0.1) as client:
        before = client.get(url).json()
        if replacement == "deleted":
            served.unlink()
        else:
            bad = tmp_path / "bad.gpkg"
            if replacement == "damaged":
                shutil.copyfile(a, bad)  # the checksum beside the path is a's
                _damage(bad)
            else:
                bad.write_bytes(b"PK\x03\x04 not a GeoPackage" * 100)
                checksum_path(served).unlink()
            os.replace(bad, served)
        _wait_for(lambda: client.get("/health").json()["readiness"] == "degraded")
        health = client.get("/health").json()
        responses = [client.get(url) for _ in range(20)]
        assert all(r.status_code == 200 and r.json() == before for r in responses)
        assert health["cadastre"]["sha256"] == _sha256(a)
        assert "still served" in health["reason"]
        if replacement == "damaged":
            assert "damaged" in health["reason"]
        # a sound file put back: ready again
        _replace(a, served)
        _wait_for(lambda: client.get("/health").json()["readiness"] == "ok")


def test_closing_the_cadastre_closes_every_threads_connection(files: dict[str, Path]) -> None:
    store = Cadastre(files["a"], connections=3)
    building = _first_building(files["a"])
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(lambda _: store.building(building), range(30)))
    connections = list(store._opened)
    assert len(connections) == 3, "a bounded cadastre opens no more than it was given"
    store.close()
    for con in connections:
        with pytest.raises(sqlite3.ProgrammingError, match="closed"):
            con.execute("SELECT 1")


def test_a_bounded_cadastre_reads_its_file_after_the_path_changes(
    files: dict[str, Path],
) -> None:
    served, b = files["served"], files["b"]
    store = Cadastre(served, connections=2)
    building = _first_building(served)
    before = [f.production_monthly_kwh for f in store.faces(building)]
    _replace(b, served)
    with ThreadPoolExecutor(4) as pool:
        after = list(pool.map(lambda _: store.faces(building), range(8)))
    store.close()
    assert all([f.production_monthly_kwh for f in faces] == before for faces in after)


# --------------------------------------------------------------------------- integrity


def test_a_damaged_cadastre_is_refused_at_start_with_one_line(files: dict[str, Path]) -> None:
    served = files["served"]
    _damage(served)
    result = CliRunner().invoke(cli, ["serve", "--cadastre", str(served)])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: ") and "damaged" in lines[0] and str(served) in lines[0]


def test_a_cadastre_without_checksum_is_served_unverified(files: dict[str, Path]) -> None:
    checksum_path(files["served"]).unlink()
    with _client(files["served"]) as client:
        identity = client.get("/health").json()["cadastre"]
    assert identity == {
        "sha256": _sha256(files["served"]),
        "verified": False,
        "built_at": identity["built_at"],
    }


# --------------------------------------------------------------------------- real server


class _TightProtocol(BoundedHttpToolsProtocol):
    header_limit_bytes = 8 * 1024
    header_timeout_s = 1.0


@contextmanager
def _serving(app: FastAPI) -> Iterator[int]:
    """``app`` served by uvicorn with the bounded protocol on a free loopback port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, http=_TightProtocol, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        _wait_for(lambda: server.started, timeout=30)
        yield port
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture(scope="module")
def port(cadastre_path: Path) -> Iterator[int]:
    app = create_app(Settings(path=cadastre_path, request_timeout_s=1.0, rate_limit=0))
    with _serving(app) as port:
        yield port


def _exchange(port: int, data: bytes, *, wait: float = 10.0) -> tuple[bytes, float]:
    """Send ``data``, then read until the server closes; the answer and the time taken."""
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.settimeout(wait)
        start = time.monotonic()
        with contextlib.suppress(ConnectionResetError, BrokenPipeError):
            # a server that refuses a request early may close before taking all of it
            conn.sendall(data)
        answer = b""
        try:
            while chunk := conn.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass  # closed with unread bytes: the answer was read before
        return answer, time.monotonic() - start


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def test_a_header_over_the_cap_gets_431(port: int) -> None:
    big = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 1_000_000 + b"\r\n\r\n"
    answer, _ = _exchange(port, big)
    assert _status(answer) == 431
    assert b"request_header_fields_too_large" in answer
    many = b"".join(b"X-H%d: %s\r\n" % (i, b"b" * 100) for i in range(100))
    answer, _ = _exchange(port, b"GET /health HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
    assert _status(answer) == 431
    fits = b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Ok: " + b"a" * 6000
    answer, _ = _exchange(port, fits + b"\r\n\r\n")
    assert _status(answer) == 200


@pytest.mark.parametrize(
    ("data", "status"),
    [(b"", None), (b"GET /health HTTP/1.1\r\nHost: x\r\n", 408), (b"GE", 408)],
    ids=["silent", "half-headers", "half-line"],
)
def test_a_slow_client_is_dropped_within_the_header_timeout(
    port: int, data: bytes, status: int | None
) -> None:
    answer, seconds = _exchange(port, data)
    assert seconds < 5.0  # the timeout is 1 s; 10 s would mean it was never applied
    assert (answer == b"") if status is None else (_status(answer) == status)


def test_a_body_that_stalls_gets_408(port: int) -> None:
    head = (
        b"POST /api/v1/simulate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000\r\n\r\n{"
    )
    answer, seconds = _exchange(port, head)
    assert _status(answer) == 408
    assert seconds < 5.0


def test_a_20_mb_json_body_gets_413_before_it_is_sent(port: int) -> None:
    head = (
        b"POST /api/v1/simulate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 20000000\r\n\r\n"
    )
    # not a byte of the body is sent: the answer cannot come from reading it
    answer, _ = _exchange(port, head)
    assert _status(answer) == 413
    assert b"payload_too_large" in answer


def test_a_chunked_body_is_cut_at_the_cap(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as conn:
        conn.settimeout(10)
        conn.sendall(
            b"POST /api/v1/simulate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"%x\r\n%s\r\n" % (64 * 1024, b"y" * 64 * 1024)
        # the cap (1 MiB) and ten bytes more, and no end of the body: the server answers
        # without waiting for it. Nothing is left unread, so it closes without a reset
        # that could race the answer.
        for _ in range(16):
            conn.sendall(chunk)
        conn.sendall(b"a\r\n0123456789\r\n")
        answer = conn.recv(65536)
    assert _status(answer) == 413


def test_an_upload_dropped_midway_logs_one_line_without_traceback(
    port: int, caplog: pytest.LogCaptureFixture
) -> None:
    boundary = b"b0undary"
    head = (
        b"POST /api/v1/simulate/linky HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: multipart/form-data; boundary=" + boundary + b"\r\n"
        b"Content-Length: 2000000\r\nX-Request-ID: dropped-upload-1\r\n\r\n"
        b"--" + boundary + b'\r\nContent-Disposition: form-data; name="file"; '
        b'filename="conso.csv"\r\nContent-Type: text/csv\r\n\r\n'
    )
    with caplog.at_level(logging.INFO):
        with socket.create_connection(("127.0.0.1", port)) as conn:
            conn.sendall(head + b"MARKER-SECRET;1\n" * 20_000)
        _wait_for(lambda: any("dropped-upload-1" in str(r.__dict__) for r in caplog.records))
        time.sleep(0.3)  # anything else it would log comes now
    ours = [r for r in caplog.records if "dropped-upload-1" in str(r.__dict__)]
    assert len(ours) == 1
    assert ours[0].access["status"] == 499  # type: ignore[attr-defined]
    assert not any(r.exc_info for r in caplog.records)
    assert not any("Traceback" in r.getMessage() for r in caplog.records)
    assert not any("MARKER-SECRET" in str(r.__dict__) for r in caplog.records)


# --------------------------------------------------------------------------- test client


def test_access_log_line_carries_request_id_status_and_duration(
    files: dict[str, Path], caplog: pytest.LogCaptureFixture
) -> None:
    with _client(files["served"]) as client, caplog.at_level(logging.INFO, "app.access"):
        given = client.get("/api/v1/addresses?q=rue+secrete", headers={"x-request-id": "abc-1"})
        made = client.get("/api/v1/coverage")
    lines = [r for r in caplog.records if r.name == "app.access"]
    fields = [r.access for r in lines]  # type: ignore[attr-defined]
    assert given.headers["x-request-id"] == "abc-1"
    assert fields[0]["request_id"] == "abc-1"
    assert fields[0]["path"] == "/api/v1/addresses"
    assert fields[0]["query_keys"] == ["q"]
    assert fields[0]["status"] == given.status_code
    assert fields[0]["duration_ms"] >= 0
    assert fields[1]["request_id"] == made.headers["x-request-id"]
    assert len(made.headers["x-request-id"]) == 32
    assert not any("secrete" in str(r.__dict__) for r in caplog.records)


def test_the_rate_limit_answers_429_with_retry_after(files: dict[str, Path]) -> None:
    with _client(files["served"], rate_limit=5) as client:
        statuses = [client.get("/api/v1/coverage").status_code for _ in range(8)]
        refused = client.get("/api/v1/coverage")
        health = [client.get("/health").status_code for _ in range(8)]
    assert statuses[:5] == [200] * 5
    assert statuses[5:] == [429] * 3
    assert refused.json()["code"] == "too_many_requests"
    assert 1 <= int(refused.headers["retry-after"]) <= 1
    assert health == [200] * 8


def test_the_rate_limit_off_at_zero(files: dict[str, Path]) -> None:
    with _client(files["served"], rate_limit=0) as client:
        assert {client.get("/api/v1/coverage").status_code for _ in range(150)} == {200}


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("203.0.113.9", b"198.51.100.1", "203.0.113.9"),  # untrusted peer: header ignored
        ("10.0.0.2", b"198.51.100.1", "198.51.100.1"),
        ("10.0.0.2", b"6.6.6.6, 198.51.100.1, 10.0.0.3", "198.51.100.1"),  # spoofed first hop
        ("10.0.0.2", b"", "10.0.0.2"),
        ("10.0.0.2", b"junk, 10.0.0.3", "10.0.0.3"),
        ("testclient", b"198.51.100.1", None),  # no IP peer: not limited
    ],
)
def test_x_forwarded_for_is_trusted_only_from_proxies(
    peer: str, forwarded: bytes, client: str | None
) -> None:
    limit = RateLimit(lambda *_: None, per_second=1, trusted_proxies=["10.0.0.0/8"])  # type: ignore[arg-type]
    headers = [(b"x-forwarded-for", forwarded)] if forwarded else []
    assert limit.client({"type": "http", "client": (peer, 1234), "headers": headers}) == client


def test_security_headers_on_every_response(files: dict[str, Path]) -> None:
    style = "https://data.geopf.fr/annexes/ressources/vectorTiles/styles/PLAN.IGN/standard.json"
    with _client(files["served"], basemap_style=style) as client:
        responses = [client.get(p) for p in ("/", "/api/v1/coverage", "/api/v1/nope", "/docs")]
    for response in responses:
        policy = response.headers["content-security-policy"]
        assert "default-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy
        assert "worker-src 'self' blob:" in policy
        assert "connect-src 'self' https://data.geopf.fr;" in policy
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    docs = responses[-1]
    script = docs.text.split("<script>")[1].split("</script>")[0]
    digest = hashlib.sha256(script.encode()).digest()
    assert (
        f"'sha256-{base64.b64encode(digest).decode()}'" in docs.headers["content-security-policy"]
    )
    assert "'unsafe-inline'" not in docs.headers["content-security-policy"]


def test_heavy_work_runs_in_a_bounded_pool(
    files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.routers import simulate

    running, peak = 0, 0
    lock = threading.Lock()

    def slow(*args: object) -> object:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.2)
        with lock:
            running -= 1
        from fastapi import Response

        return Response("{}", media_type="application/json")

    monkeypatch.setattr(simulate, "_simulate_standard", slow)
    building = _first_building(files["served"])
    with _client(files["served"], heavy_workers=2) as client:
        with ThreadPoolExecutor(6) as pool:
            answers = list(
                pool.map(
                    lambda _: client.post("/api/v1/simulate", json={"building_id": building}),
                    range(6),
                )
            )
        lookups = client.get(f"/api/v1/buildings/{building}")
    assert [a.status_code for a in answers] == [200] * 6
    assert peak == 2
    assert lookups.status_code == 200


def test_a_linky_file_of_absurd_power_is_a_422_naming_the_line(files: dict[str, Path]) -> None:
    header = (
        "Identifiant PRM;Type de donnees;Date de debut;Date de fin;Grandeur physique;"
        "Grandeur metier;Etape metier;Unite;Pas en minutes\n"
        "1;Courbe de charge;01/03/2025;09/03/2025;Energie active;Consommation;"
        "Comptage Brut;W;30\nHorodate;Valeur\n"
    )
    start = datetime(2025, 3, 1, 0, 30, tzinfo=UTC)
    rows = [
        f"{(start + timedelta(minutes=30 * i)).isoformat()};{'1e300' if i == 7 else 300}\n"
        for i in range(8 * 48)
    ]
    with _client(files["served"]) as client:
        answer = client.post(
            "/api/v1/simulate/linky",
            files={"file": ("conso.csv", header + "".join(rows), "text/csv")},
            data={"building_id": _first_building(files["served"])},
        )
    assert answer.status_code == 422
    assert "line 11" in answer.json()["detail"]
    assert "residential meter" in answer.json()["detail"]


@pytest.mark.parametrize(
    ("days", "status"), [(400, 200), (365 * 29, 200), (365 * 31, 422), (365 * 7000, 422)]
)
def test_a_tariff_date_beyond_the_longest_horizon_is_a_422_naming_it(
    files: dict[str, Path], days: int, status: int
) -> None:
    when = (datetime.now(UTC) + timedelta(days=days)).date().isoformat()
    with _client(files["served"]) as client:
        answer = client.post(
            "/api/v1/simulate",
            json={"building_id": _first_building(files["served"]), "tariff_date": when},
        )
    assert answer.status_code == status
    if status == 422:
        assert answer.json()["detail"].startswith("tariff_date: ")
