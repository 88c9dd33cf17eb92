"""Settings: read from CADASTRE_* variables, refused at start-up when wrong."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app.main import create_app, serve
from app.settings import Settings, get_settings
from solar.cadastre import Cadastre


def test_settings_from_environment(cadastre_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CADASTRE_PATH", str(cadastre_path))
    monkeypatch.setenv("CADASTRE_MAX_BBOX_DEG", "0.02")
    monkeypatch.setenv("CADASTRE_CORS_ORIGINS", "https://a.fr, https://b.fr")
    get_settings.cache_clear()
    try:
        settings = get_settings()
        assert settings.path == cadastre_path
        assert settings.max_bbox_deg == 0.02
        assert settings.cors_origins == ["https://a.fr", "https://b.fr"]
        assert get_settings() is settings
        with TestClient(create_app()) as client:
            assert client.app_state["holder"].current.settings is settings
    finally:
        get_settings.cache_clear()


def test_missing_cadastre_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"no file at .*nothing\.gpkg"):
        Settings(path=tmp_path / "nothing.gpkg")


def test_a_file_that_is_not_a_cadastre_is_refused(tmp_path: Path) -> None:
    text = tmp_path / "notes.gpkg"
    text.write_text("not a GeoPackage")
    with pytest.raises(ValidationError, match="not a cadastre"):
        Settings(path=text)


@pytest.mark.parametrize(
    ("field", "value"),
    [("max_bbox_deg", 0), ("max_bbox_deg", 5), ("upload_limit_bytes", 10), ("cache_max_age", -1)],
)
def test_out_of_range_values_are_refused(cadastre_path: Path, field: str, value: float) -> None:
    with pytest.raises(ValidationError, match=field):
        Settings(path=cadastre_path, **{field: value})


def test_serve_refuses_a_bad_cadastre_before_starting(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="no file at"):
        serve(tmp_path / "absent.gpkg", port=1)


def test_serve_runs_uvicorn_on_loopback(cadastre_path: Path) -> None:
    """The launcher the CLI calls, in a subprocess, answering on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code = (
        "from app.main import serve; "
        f"serve({str(cadastre_path)!r}, port={port}, log_level='warning')"
    )
    root = Path(__file__).resolve().parents[2]
    server = subprocess.Popen([sys.executable, "-c", code], cwd=root)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                    body = json.load(r)
                break
            except OSError:
                assert server.poll() is None, "uvicorn exited"
                assert time.monotonic() < deadline, "uvicorn did not answer in 30 s"
                time.sleep(0.2)
        assert body["status"] == "ok"
        assert body["buildings"] == Cadastre(cadastre_path).summary()["buildings"]
    finally:
        server.terminate()
        server.wait(timeout=10)
