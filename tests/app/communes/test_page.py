"""The communes' page in a real browser: key entry, the table, editing, import, download.

The page is opened in headless Chromium (Debian's, driven by Playwright) from the service
alone: every request that leaves it is refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from app.communes.store import Store
from app.main import create_app
from app.settings import Settings
from tests.app.communes.conftest import LENS
from tests.app.conftest import BUILDING_IDS, CHROMIUM, offline_page
from tests.app.conftest import served as served_on_loopback

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium binary (apt-get install chromium)"
)


@pytest.fixture(scope="module")
def served(
    cadastre_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path, str]]:
    """The app on a free loopback port with a store of its own: (base URL, store, key)."""
    db = tmp_path_factory.mktemp("page") / "communes.sqlite"
    store = Store(db)
    _, key = store.create_key("Mairie de Lens", [LENS])
    store.close()
    app = create_app(Settings(path=cadastre_path, db=str(db), rate_limit=0))
    with served_on_loopback(app, start_seconds=20.0) as base_url:
        yield base_url, db, key


@pytest.fixture
def page(served: tuple[str, Path, str]) -> Iterator[Page]:
    base_url = served[0]
    with offline_page(base_url, accept_downloads=True) as offline:
        offline.page.goto(f"{base_url}/communes")
        yield offline.page
    assert offline.errors == []
    assert offline.outside == []


def _login(page: Page, key: str) -> None:
    page.fill("#key", key)
    page.click("#login-form button[type=submit]")


def test_a_wrong_key_is_refused(page: Page) -> None:
    expect(page.locator("#login-title")).to_be_visible()
    _login(page, "not-a-key")
    expect(page.locator("#login-status")).to_contain_text("refusée")
    expect(page.locator("#work")).to_be_hidden()


def test_an_agent_qualifies_imports_and_downloads(
    page: Page, served: tuple[str, Path, str], tmp_path: Path
) -> None:
    _, db, key = served
    _login(page, key)
    rows = page.locator("#buildings tbody tr")
    expect(rows).to_have_count(len(BUILDING_IDS))
    expect(page.locator("#buildings tbody")).to_contain_text("12 Rue Jean Jaurès 62300 Lens")
    expect(page.locator("#who")).to_contain_text("Mairie de Lens")
    expect(page.locator("#commune option")).to_have_text([f"Lens ({LENS})"])

    # qualify one building
    page.click("#buildings tbody button:text-is('BAT_FLAT_C')")
    expect(page.locator("#entry")).to_be_visible()
    expect(page.locator("#entry-reason")).to_be_disabled()
    page.select_option("#entry-status", "ecarte")
    page.select_option("#entry-reason", "ombrage")
    page.select_option("#entry-usage", "salle_de_sport")
    page.fill("#entry-consumption", "38000")
    page.click("#entry button[type=submit]")
    expect(page.locator("#entry-status-message")).to_contain_text("Enregistré")
    expect(page.locator("tr[data-building='BAT_FLAT_C'] td[data-status]")).to_have_text("Écarté")

    # import a list: one row refused, then the corrected file
    bad = tmp_path / "liste.csv"
    bad.write_bytes("batiment;statut\nBAT_HIP_D;retenu\nINCONNU;retenu\n".encode("cp1252"))
    page.set_input_files("#import-file", str(bad))
    page.click("#import button[value=import]")
    expect(page.locator("#import-status")).to_contain_text("rien n'a été importé")
    expect(page.locator("#import-report tr.refused")).to_have_count(1)
    good = tmp_path / "liste-corrigee.csv"
    good.write_bytes("batiment;statut;usage\nBAT_HIP_D;Retenu;École\n".encode("cp1252"))
    page.set_input_files("#import-file", str(good))
    page.click("#import button[value=import]")
    expect(page.locator("#import-status")).to_contain_text("1 bâtiment importé")

    # the filters
    page.select_option("#status-filter", "retenu")
    page.click("#filters button[type=submit]")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("BAT_HIP_D")

    store = Store(db)
    entries = {e.building_id: e for e in store.portfolio(LENS)}
    store.close()
    assert (entries["BAT_FLAT_C"].status, entries["BAT_FLAT_C"].reason) == ("ecarte", "ombrage")
    assert entries["BAT_FLAT_C"].annual_consumption_kwh == 38_000
    assert (entries["BAT_HIP_D"].status, entries["BAT_HIP_D"].usage) == ("retenu", "ecole")

    with page.expect_download() as download:
        page.click("#downloads button[value=csv]")
    assert download.value.suggested_filename.endswith(".csv")
    expect(page.locator("#download-status")).to_contain_text("téléchargé")


def test_the_key_stays_in_the_tab_only(page: Page, served: tuple[str, Path, str]) -> None:
    _login(page, served[2])
    expect(page.locator("#buildings tbody tr")).to_have_count(len(BUILDING_IDS))
    page.reload()
    expect(page.locator("#work")).to_be_visible()
    assert page.evaluate("localStorage.length") == 0
    page.click("#logout")
    expect(page.locator("#login")).to_be_visible()
    assert page.evaluate("sessionStorage.length") == 0
