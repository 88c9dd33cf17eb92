"""The repository holds the product only: no working notes, no development machine's paths,
no tracker numbers in place of the requirement itself, no pointer to a document it lacks."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Text files of the product: code, tests, docs, configuration.
TEXT_SUFFIXES = {".py", ".md", ".toml", ".html", ".js", ".css", ".cfg", ".txt", ".yml", ".yaml"}
TEXT_NAMES = {"Dockerfile", "dev", "run", ".gitignore", ".dockerignore"}

RULES = {
    "an absolute path of a development machine": re.compile(
        r"(?<![\w.])/(?:work|home|root|tmp)/\w"
    ),
    "a tracker number instead of the requirement": re.compile(r"\bissues? #?\d+\b", re.IGNORECASE),
    "a design document the repository does not hold": re.compile(r"\bDESIGN\.md\b"),
}


def _tracked_text_files() -> list[Path]:
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    paths = [ROOT / p for p in listed.decode().split("\0") if p]
    return [
        p
        for p in paths
        if p.is_file()
        and (p.suffix in TEXT_SUFFIXES or p.name in TEXT_NAMES)
        # third-party files shipped as they are (their licences, vendored front-end code)
        and "vendor" not in p.parts
        and not p.name.startswith("LICENSE")
        and p.stat().st_size < 2_000_000
    ]


@pytest.mark.parametrize("rule", sorted(RULES))
def test_no_file_holds(rule: str) -> None:
    pattern = RULES[rule]
    hits = []
    for path in _tracked_text_files():
        if path == Path(__file__).resolve():
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if pattern.search(line):
                hits.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:80]}")
    assert not hits, f"{rule}:\n" + "\n".join(hits)


def test_working_files_stay_out() -> None:
    ignored = (ROOT / ".gitignore").read_text().split()
    assert ".hypothesis/" in ignored
    assert not (ROOT / "docs" / "HELPERS.md").exists()
