"""The Dockerfile: no Docker engine runs here, so check the commands it runs instead."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from app.cli import cli

DOCKERFILE = Path(__file__).resolve().parents[1] / "Dockerfile"
runner = CliRunner()


def _instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
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
    client = TestClient(create_app(Settings(path=path)))
    assert client.get("/health").status_code == 200
