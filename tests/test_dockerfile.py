"""The Dockerfile: no Docker engine runs here, so check the commands it runs, and run the
image's service under the image's run-time conditions."""

from __future__ import annotations

import json
import os
import pwd
import re
import shlex
import shutil
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from app.cli import cli

REPO = Path(__file__).resolve().parents[1]
DOCKERFILE = REPO / "Dockerfile"
runner = CliRunner()


def _instructions() -> list[tuple[str, str]]:
    text = re.sub(r"^#.*\n", "", DOCKERFILE.read_text(), flags=re.MULTILINE)
    text = text.replace("\\\n", " ")
    return [
        (m.group(1), m.group(2).strip())
        for m in re.finditer(r"^([A-Z]+)\s+(.*)$", text, flags=re.MULTILINE)
    ]


def _cadastre_options(command: list[str]) -> set[str]:
    return {word.split("=")[0] for word in command if word.startswith("--")}


def test_image_is_slim_non_root_with_a_healthcheck() -> None:
    instructions = dict(_instructions())
    assert instructions["FROM"].startswith("python:3.11-slim")
    assert instructions["USER"] not in ("root", "0")
    assert "/health" in instructions["HEALTHCHECK"]


def test_every_cadastre_command_in_the_image_exists() -> None:
    commands: list[list[str]] = []
    for keyword, argument in _instructions():
        if keyword == "CMD":
            commands.append(json.loads(argument))
        elif keyword == "RUN":
            for part in argument.split("&&"):
                words = part.split()
                if words and words[0] == "cadastre":
                    commands.append(words)
    assert len(commands) >= 2  # the demo is built at image build time, then served
    for command in commands:
        assert command[0] == "cadastre"
        help_text = runner.invoke(cli, [command[1], "--help"], env={"COLUMNS": "200"})
        assert help_text.exit_code == 0, command
        for option in _cadastre_options(command):
            assert option in help_text.output, (command, option)


def test_the_healthcheck_path_answers(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from app.main import create_app
    from app.settings import Settings
    from tests.test_cadastre import _tables, _write

    path = _write(tmp_path / "c.gpkg", _tables())
    with TestClient(create_app(Settings(path=path))) as client:
        assert client.get("/health").status_code == 200


# --- the image at run time ------------------------------------------------------------------


def _run_parts() -> list[list[str]]:
    """The commands of the RUN instructions, split at ``&&``, as shell words."""
    return [
        shlex.split(part)
        for keyword, argument in _instructions()
        if keyword == "RUN"
        for part in argument.split("&&")
    ]


def _dockerfile_env() -> dict[str, str]:
    """The variables the ENV instructions set."""
    env: dict[str, str] = {}
    for keyword, argument in _instructions():
        if keyword == "ENV":
            for word in shlex.split(argument):
                name, value = word.split("=", 1)
                env[name] = value
    return env


def _python_for(user: pwd.struct_passwd) -> str | None:
    """An interpreter of this Python version that ``user`` may run, as the image's would be.

    This one may live in a folder only its owner can enter (a pyenv install under root's
    home); the system's interpreter of the same version then stands in for it.
    """
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (
        sys.executable,
        f"/usr/local/bin/python{version}",
        f"/usr/bin/python{version}",
    ):
        try:
            answer = subprocess.run(
                [
                    candidate,
                    "-c",
                    "import sys; print(f'{sys.version_info[0]}.{sys.version_info[1]}')",
                ],
                user=user.pw_uid,
                group=user.pw_gid,
                extra_groups=[],
                capture_output=True,
                text=True,
                timeout=30,
            )
        except OSError:
            continue
        if answer.returncode == 0 and answer.stdout.strip() == version:
            return candidate
    return None


class _Image:
    """The image's file system under a temporary root: what COPY puts, pip installs and the
    RUN's chown hands over, with the ENV of the Dockerfile pointing inside it."""

    def __init__(self, root: Path, user: pwd.struct_passwd):
        self.root = root
        self.dockerfile_env = _dockerfile_env()
        instructions = dict(_instructions())
        self.workdir = self.path(instructions["WORKDIR"])
        self.workdir.mkdir(parents=True)
        for keyword, argument in _instructions():
            if keyword == "COPY":
                *sources, destination = shlex.split(argument)
                for source in sources:
                    self._copy(REPO / source, destination)
        self.site = root / "site-packages"
        self._install()
        self._chown(user)

    def path(self, image_path: str) -> Path:
        """Where a path of the image is under the root (a relative one is in WORKDIR)."""
        if not image_path.startswith("/"):
            return self.workdir / image_path
        return self.root / image_path.lstrip("/")

    def _copy(self, source: Path, destination: str) -> None:
        """COPY: a folder's content goes into the destination, a file into a destination
        ending with a slash."""
        target = self.path(destination)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
            return
        if destination.endswith("/"):
            target = target / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)

    def _install(self) -> None:
        """Install the package as pip would from the Dockerfile's source folder, into a
        folder of root's, as the image's site-packages is.

        A wheel holds what setuptools' ``build_py`` gathers (the packages and their package
        data, as pyproject.toml declares them) and the console scripts; both are made here
        without building a wheel, which would need the ``wheel`` package or a newer
        setuptools than a virtual environment of Python 3.11 carries.
        """
        words = next(w for w in _run_parts() if w[:2] == ["pip", "install"])
        assert "-e" not in words and "--editable" not in words, (
            "an editable install needs the checkout at run time"
        )
        (source,) = (w for w in words[2:] if not w.startswith("-"))
        subprocess.run(
            [
                *(sys.executable, "-c", "from setuptools import setup; setup()", "--quiet"),
                *("build_py", "--build-lib", str(self.site)),
            ],
            cwd=self.path(source),
            check=True,
            capture_output=True,
        )
        project = tomllib.loads((self.path(source) / "pyproject.toml").read_text())["project"]
        (self.site / "bin").mkdir()
        for name, target in project["scripts"].items():
            module, function = target.split(":")
            (self.site / "bin" / name).write_text(
                f"import sys\nfrom {module} import {function}\nsys.exit({function}())\n"
            )

    def _chown(self, user: pwd.struct_passwd) -> None:
        """Hand over to the user what the Dockerfile hands over to its own."""
        for words in _run_parts():
            if words[:1] != ["chown"]:
                continue
            for word in words[3:] if words[1] == "-R" else words[2:]:
                folder = self.path(_expand(word, self.dockerfile_env))
                folder.mkdir(parents=True, exist_ok=True)
                for path in [folder, *folder.rglob("*")]:
                    os.chown(path, user.pw_uid, user.pw_gid)

    def env(self) -> dict[str, str]:
        """The service's environment: the Dockerfile's ENV, an unwritable home, and the
        dependencies from this environment behind the installed package."""
        env = {
            name: str(self.path(value)) if value.startswith("/") else value
            for name, value in self.dockerfile_env.items()
        }
        dependencies = sysconfig.get_paths()["purelib"]
        return env | {
            "HOME": str(self.workdir),
            "PATH": os.defpath,
            "PYTHONPATH": os.pathsep.join([str(self.site), dependencies]),
        }


def _expand(word: str, env: dict[str, str]) -> str:
    """``$NAME`` and ``${NAME}`` of ``word`` replaced from ``env``."""
    return re.sub(r"\$\{?(\w+)\}?", lambda m: env[m.group(1)], word)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def _request(url: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.loads(response.read())


@contextmanager
def _serving(
    command: list[str], user: pwd.struct_passwd, env: dict[str, str], log: Path
) -> Iterator[str]:
    """Run the service until the block ends; yields its base URL once /health answers."""
    port = _free_port()
    with log.open("w") as stream:
        process = subprocess.Popen(
            [*command, "--port", str(port)],
            user=user.pw_uid,
            group=user.pw_gid,
            extra_groups=[],
            env=env,
            cwd=env["HOME"],
            stdout=stream,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline and process.poll() is None:
            try:
                _request(f"{base}/health")
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.2)
        assert process.poll() is None, f"the service stopped:\n{log.read_text()}"
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.slow
def test_the_image_serves_as_its_unprivileged_user() -> None:
    """Installed as in the image, run as a user who may write nothing but what the
    Dockerfile hands over, the service answers /health and a simulation (numba inside)."""
    from tests.test_cadastre import _tables, _write

    if os.geteuid() != 0:
        pytest.skip("running the service as another user needs root")
    user = pwd.getpwnam("nobody")
    python = _python_for(user)
    if python is None:
        pytest.skip(f"no Python {sys.version_info[0]}.{sys.version_info[1]} that nobody may run")
    # outside pytest's tmp folder, which only its owner may enter
    root = Path(tempfile.mkdtemp())
    try:
        root.chmod(0o755)
        image = _Image(root, user)
        env = image.env()
        where = subprocess.run(
            [python, "-s", "-c", "import app.cli, solar; print(solar.__file__, app.cli.__file__)"],
            user=user.pw_uid,
            group=user.pw_gid,
            extra_groups=[],
            env=env,
            cwd=env["HOME"],
            capture_output=True,
            text=True,
            check=False,
        )
        files = where.stdout.split()
        assert len(files) == 2 and all(f.startswith(f"{image.site}/") for f in files), where
        # where the image keeps its cadastre, the one folder the user may write: the
        # communes' store is created beside it
        cadastre = _write(Path(env["CADASTRE_DATA_DIR"]) / "cadastre.gpkg", _tables())
        cadastre.chmod(0o644)
        command = [python, "-s", str(image.site / "bin" / "cadastre")]
        with _serving(
            [*command, "serve", "--cadastre", str(cadastre)], user, env, root / "service.log"
        ) as base:
            assert _request(f"{base}/health")[0] == 200
            status, result = _request(
                f"{base}/api/v1/simulate", {"building_id": "b0", "battery_kwh": 5.0}
            )
            assert status == 200
            assert result["production_kwh_yr"] > 0 and result["battery_kwh"] == 5.0
    finally:
        shutil.rmtree(root)
