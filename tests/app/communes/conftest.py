"""The communes' store on both backends, keys, and the app serving the session cadastre.

PostgreSQL: ``CADASTRE_TEST_DATABASE_URL`` (a ``postgresql+psycopg://`` URL of a server
where the tests may create databases) when set; otherwise a throw-away cluster of Debian's
PostgreSQL server (``apt-get install postgresql``) started for the session in a temporary
folder, listening on a Unix socket only. Without either, the PostgreSQL cases skip and say
why.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from app.communes.store import Store
from app.main import create_app
from app.settings import Settings

#: Where Debian installs the PostgreSQL server binaries, one folder per major version.
DEBIAN_POSTGRESQL = Path("/usr/lib/postgresql")
LENS = "62498"
LOUHANS = "71263"


def _server_binaries() -> Path | None:
    versions = sorted(
        (p for p in DEBIAN_POSTGRESQL.glob("*/bin") if (p / "initdb").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    return versions[-1] if versions else None


def _as_server_user(args: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run it as the ``postgres`` user."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


@dataclass(frozen=True)
class PostgresServer:
    """A server the tests may create databases on."""

    url: str

    def new_database(self) -> str:
        """A fresh, empty database; its SQLAlchemy URL."""
        name = f"store_{uuid.uuid4().hex[:12]}"
        url = make_url(self.url)
        admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the session, or a skip saying why there is none."""
    given = os.environ.get("CADASTRE_TEST_DATABASE_URL")
    if given:
        yield PostgresServer(given)
        return
    binaries = _server_binaries()
    if binaries is None:
        pytest.skip(
            "PostgreSQL NOT TESTED: no server binaries under /usr/lib/postgresql "
            "(apt-get install postgresql) and no CADASTRE_TEST_DATABASE_URL"
        )
    folder = Path(tempfile.mkdtemp(prefix="cadastre-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    data = folder / "data"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    try:
        subprocess.run(
            _as_server_user(
                [
                    str(binaries / "initdb"),
                    *("-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"),
                ]
            ),
            check=True,
            capture_output=True,
        )
        subprocess.run(
            _as_server_user(
                [
                    str(binaries / "pg_ctl"),
                    *("-D", str(data), "-w", "-t", "60", "-l", str(folder / "server.log")),
                    *("-o", f"-k {folder} -p {port} -c listen_addresses='' -c fsync=off", "start"),
                ]
            ),
            check=True,
            capture_output=True,
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        log = folder / "server.log"
        detail = getattr(exc, "stderr", b"") or b""
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(
            f"PostgreSQL NOT TESTED: the server did not start ({exc}; "
            f"{detail.decode(errors='replace').strip()[-300:]}"
            f"{log.read_text()[-300:] if log.exists() else ''})"
        )
    try:
        yield PostgresServer(f"postgresql+psycopg://postgres@/postgres?host={folder}&port={port}")
    finally:
        subprocess.run(
            _as_server_user([str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty store's URL, on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'communes.sqlite'}"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.new_database()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = Store(store_url)
    try:
        yield opened
    finally:
        opened.close()


@dataclass(frozen=True)
class Keys:
    """Keys of the app's store: Lens only, Louhans only, the territory, and a revoked one."""

    lens: str
    louhans: str
    territory: str
    revoked: str

    @staticmethod
    def bearer(key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="session")
def communes_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("communes") / "communes.sqlite"


@pytest.fixture(scope="session")
def keys(communes_db: Path) -> Keys:
    store = Store(communes_db)
    try:
        revoked_id, revoked = store.create_key("Ancienne clé", [LENS])
        store.revoke_key(revoked_id)
        return Keys(
            lens=store.create_key("Mairie de Lens", [LENS])[1],
            louhans=store.create_key("Mairie de Louhans", [LOUHANS])[1],
            territory=store.create_key("PMA énergie", None)[1],
            revoked=revoked,
        )
    finally:
        store.close()


@pytest.fixture(scope="session")
def communes_app(cadastre_path: Path, communes_db: Path, keys: Keys) -> FastAPI:
    return create_app(Settings(path=cadastre_path, db=str(communes_db)))


@pytest.fixture(scope="session")
def communes_client(communes_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(communes_app) as test_client:
        yield test_client
