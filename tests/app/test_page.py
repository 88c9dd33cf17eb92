"""The residents' page, driven in a real browser as a resident would use it.

Headless Chromium (Debian's, through Playwright) opens the page served by uvicorn on
loopback. Every journey refuses and lists any request leaving the service, fails on any
console error, and saves screenshots under ``tests/artifacts/page/``. Figures read on the
page are compared with the API's own answers, formatted here in French independently of
the page's code.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import shapely
import shapely.geometry
from playwright.sync_api import Browser, Page, Request, Route, sync_playwright
from pypdf import PdfReader

from app.main import create_app
from app.models import SimulationRequest
from app.settings import Settings
from solar.pv import FLAT_MODULE_AZIMUTH, FLAT_MODULE_TILT
from solar.resources import LINKY_EXAMPLE
from tests.app.conftest import CHROMIUM, served

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "page"
#: Software WebGL for MapLibre in a headless browser without a GPU.
WEBGL_ARGS = ["--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist"]
#: The budget of compressed JavaScript and CSS the page loads before a first result.
MAX_FIRST_LOAD_GZIP_BYTES = 600_000

#: An address of the session cadastre with a roof worth equipping, and a typo for it.
ADDRESS_ID = "62498_0540_00012"
TYPED_WITH_TYPO = "12 rue jean jaures lnes"
#: A flat roof, reached by its URL, and a building clicked on the map.
FLAT_ROOF = "BAT_FLAT_C"
CLICKED = "BAT_GABLE_B"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="NO BROWSER: the page's journeys need Debian's chromium (apt-get install chromium)",
    ),
]


def french(value: float, digits: int) -> str:
    """A figure as French pages write it: "32 540", "35,7" (half away from zero, as ICU)."""
    exact = Decimal(value).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    whole, _, decimals = f"{exact:f}".partition(".")
    sign = "-" if whole.startswith("-") else ""
    digits_only = whole.lstrip("-")
    groups: list[str] = []
    while digits_only:
        groups.insert(0, digits_only[-3:])
        digits_only = digits_only[:-3]
    text = sign + " ".join(groups or ["0"])
    return f"{text},{decimals}" if decimals else text


def plain(text: str) -> str:
    """Page text with its no-break spaces made ordinary."""
    return text.replace("\u202f", " ").replace("\u00a0", " ").strip()


@pytest.fixture(scope="module")
def base_url(mapped_cadastre_path: Path) -> Iterator[str]:
    """The service of a cadastre with its vector tiles and irradiation rasters."""
    with served(create_app(Settings(path=mapped_cadastre_path))) as url:
        yield url


@pytest.fixture(scope="module")
def bare_url(cadastre_path: Path) -> Iterator[str]:
    """The service of a cadastre alone: the page asks /api/v1/roofs for the faces in view."""
    with served(create_app(Settings(path=cadastre_path))) as url:
        yield url


#: A basemap style another origin serves, told apart by its one layer.
BASEMAP_STYLE = {
    "version": 8,
    "sources": {},
    "layers": [
        {"id": "basemap-land", "type": "background", "paint": {"background-color": "#dde6d5"}}
    ],
}


class _StyleHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps(BASEMAP_STYLE).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test reads what the page did, not the server's log."""


@pytest.fixture(scope="module")
def basemap_url(mapped_cadastre_path: Path) -> Iterator[str]:
    """The service with a basemap configured, its style served from another loopback port."""
    styles = ThreadingHTTPServer(("127.0.0.1", 0), _StyleHandler)
    thread = threading.Thread(target=styles.serve_forever, daemon=True)
    thread.start()
    style_url = f"http://127.0.0.1:{styles.server_address[1]}/style.json"
    settings = Settings(path=mapped_cadastre_path, basemap_style=style_url)
    try:
        with served(create_app(settings)) as url:
            yield url
    finally:
        styles.shutdown()
        thread.join(10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=WEBGL_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


def api(base_url: str, path: str, body: dict[str, Any] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        base_url + path, data=data, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


@dataclass
class Watch:
    """What a page did that a journey must not: requests outside, console errors."""

    outside: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    loaded: list[Request] = field(default_factory=list)

    def check(self) -> None:
        assert self.outside == [], f"requests left the service: {self.outside}"
        assert self.errors == [], f"console errors: {self.errors}"


@pytest.fixture
def watched(browser: Browser) -> Iterator[Any]:
    """Opens pages that record what every journey checks: requests outside, console errors."""
    contexts = []

    def open_page(**context_options: Any) -> tuple[Page, Watch]:
        context = browser.new_context(locale="fr-FR", **context_options)
        contexts.append(context)
        page = context.new_page()
        watch = Watch()

        def only_the_service(route: Route) -> None:
            if urlsplit(route.request.url).hostname == "127.0.0.1":
                route.continue_()
            else:
                watch.outside.append(route.request.url)
                route.abort()

        page.route("**/*", only_the_service)
        page.on(
            "console",
            lambda message: (
                watch.errors.append(message.text[:300]) if message.type == "error" else None
            ),
        )
        page.on("pageerror", lambda error: watch.errors.append(str(error)[:300]))
        page.on(
            "response",
            lambda response: (
                watch.errors.append(f"HTTP {response.status} {response.url}")
                if response.status >= 400
                else None
            ),
        )
        page.on("requestfinished", lambda finished: watch.loaded.append(finished))
        return page, watch

    yield open_page
    for context in contexts:
        context.close()


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    print(f"screenshot: {path}")


def wait_ready(page: Page) -> None:
    page.wait_for_selector("body[data-ready=true]", timeout=20_000)


def wait_selected_on_map(page: Page) -> int:
    """Wait until the map has drawn the selected building's outline; return its features."""
    page.wait_for_function(
        "() => window.cadastreMap && window.cadastreMap.loaded() && "
        "window.cadastreMap.queryRenderedFeatures({layers: ['selected-outline']}).length > 0",
        timeout=20_000,
    )
    return int(
        page.evaluate(
            "() => window.cadastreMap.queryRenderedFeatures({layers: ['selected-outline']}).length"
        )
    )


def check_building_figures(page: Page, building: dict[str, Any]) -> None:
    kwc = plain(page.get_by_test_id("building-kwc").inner_text())
    production = plain(page.get_by_test_id("building-production").inner_text())
    assert kwc == f"{french(building['kwc'], 1)} kWc"
    assert production == f"{french(building['production_kwh_yr'], 0)} kWh/an"


def check_simulation(page: Page, result: dict[str, Any]) -> None:
    """The page shows the payback, the self-consumption and the tariffs' warning of ``result``."""
    economics = result["economics"]
    page.wait_for_function(
        "n => document.querySelector('#sim-size').textContent.startsWith(n + ' panneau')",
        arg=str(result["n_modules"]),
    )
    years = economics["payback_years"]
    expected = f"Pas en {economics['years']} ans" if years is None else f"{french(years, 1)} ans"
    assert plain(page.get_by_test_id("payback-years").inner_text()) == expected
    rate = plain(page.get_by_test_id("self-consumption-rate").inner_text())
    assert rate == f"{french(result['self_consumption_rate'] * 100, 0)} %"
    assert page.locator("#tariffs-stale").is_visible() == economics["tariffs_stale"]


def choose_typed_address(page: Page, label: str) -> None:
    search = page.get_by_test_id("address-search")
    search.click()
    search.type(TYPED_WITH_TYPO, delay=20)
    option = page.get_by_role("option", name=label, exact=True)
    option.wait_for(timeout=10_000)
    option.click()


def test_a_resident_finds_the_roof_and_simulates(watched: Any, base_url: str) -> None:
    expected = api(base_url, f"/api/v1/addresses/{ADDRESS_ID}/solar")
    label = expected["address"]["label"]
    page, watch = watched(viewport={"width": 1280, "height": 860})
    page.goto(base_url + "/")
    wait_ready(page)
    assert page.locator("[data-testid=map] canvas").count() == 1

    choose_typed_address(page, label)
    page.wait_for_url(re.compile(rf"\?adresse={ADDRESS_ID}$"))
    page.get_by_role("heading", name=label).wait_for()
    check_building_figures(page, expected["building"])
    assert wait_selected_on_map(page) > 0
    # the roofs around come from the vector tiles, coloured by the legend's classes
    tiled = page.evaluate(
        "() => window.cadastreMap.queryRenderedFeatures({layers: ['faces']})"
        ".map(f => f.properties.suitability)"
    )
    assert len(tiled) > 0
    legend = api(base_url, "/api/v1/legend")
    assert set(tiled) <= {c["code"] for c in legend["suitability"]}
    shown = page.locator("#legend li").all_inner_texts()
    assert [plain(text) for text in shown] == [c["label"] for c in legend["suitability"]]
    with page.expect_response(re.compile(r"/api/v1/tiles/irradiation/\d+/\d+/\d+\.png")):
        page.get_by_label("Ensoleillement des toits (kWh/m²/an)").check()
    faces_shown = page.locator("#faces > li").count()
    assert faces_shown == len(expected["building"]["faces"])
    screenshot(page, "desktop")

    with page.expect_response(f"{base_url}/api/v1/simulate") as answer:
        page.get_by_test_id("simulate-button").click()
    sent = SimulationRequest.model_validate_json(answer.value.request.post_data or "")
    assert sent.building_id == expected["building"]["building_id"]
    # the whole roof: the API's default size
    assert sent.n_modules is None
    assert sent.battery_kwh == 0
    check_simulation(page, answer.value.json())
    assert "8 chances sur 10" in page.locator("#band").inner_text()

    # the sizing advice's best size pays back within the horizon: try it
    best = answer.value.json()["sizing"]["best_npv"]["n_modules"]
    assert best > 0
    with page.expect_response(f"{base_url}/api/v1/simulate") as answer:
        page.locator(f"#sizing-advice button[data-modules='{best}']").click()
    resent = SimulationRequest.model_validate_json(answer.value.request.post_data or "")
    assert resent.n_modules == best
    result = answer.value.json()
    assert result["economics"]["payback_years"] is not None
    check_simulation(page, result)
    screenshot(page, "after-simulation")

    summary = page.pdf(format="A4")
    (ARTIFACTS / "summary.pdf").write_bytes(summary)
    printed = PdfReader(io.BytesIO(summary))
    assert len(printed.pages) == 1, "the printed summary takes more than one page"
    text = plain(printed.pages[0].extract_text())
    assert expected["address"]["label"] in text
    assert "Remboursé en" in text
    watch.check()


def test_the_same_journey_with_the_keyboard_only(watched: Any, base_url: str) -> None:
    expected = api(base_url, f"/api/v1/addresses/{ADDRESS_ID}/solar")
    page, watch = watched(viewport={"width": 1280, "height": 860})
    page.goto(base_url + "/")
    wait_ready(page)
    keyboard = page.keyboard
    keyboard.press("Tab")  # the skip link comes first
    keyboard.press("Tab")
    assert page.evaluate("document.activeElement.dataset.testid") == "address-search"
    keyboard.type(TYPED_WITH_TYPO, delay=20)
    search = page.get_by_test_id("address-search")
    page.get_by_role("option").first.wait_for()
    assert search.get_attribute("aria-expanded") == "true"
    keyboard.press("Escape")
    assert search.get_attribute("aria-expanded") == "false"
    assert page.get_by_role("listbox").is_hidden()
    keyboard.press("ArrowDown")  # opens the suggestions again, none active yet
    assert search.get_attribute("aria-expanded") == "true"
    assert search.get_attribute("aria-activedescendant") is None
    labels = page.get_by_role("option").all_inner_texts()
    position = labels.index(expected["address"]["label"])
    for _ in range(position + 1):
        keyboard.press("ArrowDown")
    active = search.get_attribute("aria-activedescendant")
    assert page.locator(f"#{active}").inner_text() == expected["address"]["label"]
    assert page.locator(f"#{active}").get_attribute("aria-selected") == "true"
    keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"\?adresse={ADDRESS_ID}$"))
    assert search.get_attribute("aria-expanded") == "false"
    assert page.evaluate("document.activeElement.id") == "result-title"
    check_building_figures(page, expected["building"])

    for _ in range(60):
        keyboard.press("Tab")
        if page.evaluate("document.activeElement.dataset.testid") == "simulate-button":
            break
    else:
        pytest.fail("the simulate button cannot be reached with Tab")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the focused button shows no focus ring"
    keyboard.press("Enter")
    page.get_by_test_id("payback-years").wait_for()
    assert plain(page.get_by_test_id("payback-years").inner_text()).endswith("ans")
    watch.check()


def test_a_390px_phone_shows_the_result_as_a_bottom_sheet(watched: Any, base_url: str) -> None:
    expected = api(base_url, f"/api/v1/addresses/{ADDRESS_ID}/solar")
    width, height = 390, 844
    page, watch = watched(
        viewport={"width": width, "height": height}, is_mobile=True, has_touch=True
    )
    page.goto(base_url + "/")
    wait_ready(page)
    scroll_width = "document.scrollingElement.scrollWidth"
    assert page.evaluate(scroll_width) <= width
    choose_typed_address(page, expected["address"]["label"])
    page.get_by_test_id("building-kwc").wait_for()
    check_building_figures(page, expected["building"])
    wait_selected_on_map(page)
    assert page.evaluate(scroll_width) <= width

    sheet = page.locator("#panel").bounding_box()
    map_box = page.get_by_test_id("map").bounding_box()
    assert sheet is not None and map_box is not None
    assert sheet["y"] + sheet["height"] == pytest.approx(height, abs=1)
    assert sheet["width"] == pytest.approx(width, abs=1)
    # the sheet leaves the upper part of the map in view, under the search bar
    assert sheet["y"] > map_box["y"] + 0.25 * map_box["height"]
    screenshot(page, "phone")

    # a household of four, heated by radiators, a car charged at night, 5,200 kWh on the bill
    page.get_by_label("Nombre de personnes", exact=True).fill("4")
    page.get_by_label("Chauffage").select_option("electric")
    page.get_by_label("Voiture électrique rechargée à la maison").select_option("night")
    page.get_by_label("Consommation annuelle", exact=False).fill("5200")
    page.get_by_label("Ajouter une batterie").check()
    page.get_by_label("Capacité de la batterie (kWh)").fill("7.5")
    with page.expect_response(f"{base_url}/api/v1/simulate") as answer:
        page.get_by_test_id("simulate-button").click()
    sent = SimulationRequest.model_validate_json(answer.value.request.post_data or "")
    assert sent.persons == 4
    assert sent.battery_kwh == 7.5
    consumption = sent.consumption
    # the bill holds the heating (so the RES2 profile) and the car, placed in its own hours
    assert consumption.profile == "RES2"
    assert consumption.options.electric_vehicle == "night"
    assert consumption.annual_kwh + consumption.options.electric_vehicle_kwh == 5200
    assert consumption.options.electric_heating_kwh == 0
    check_simulation(page, answer.value.json())
    assert page.evaluate(scroll_width) <= width
    screenshot(page, "phone-after-simulation")
    watch.check()


def test_a_linky_export_is_uploaded_for_the_simulation(watched: Any, base_url: str) -> None:
    page, watch = watched(viewport={"width": 1280, "height": 860})
    page.goto(f"{base_url}/?adresse={ADDRESS_ID}")
    wait_ready(page)
    page.get_by_test_id("building-kwc").wait_for()
    page.get_by_label("J'utilise mon fichier Linky").check()
    assert "ni enregistré ni conservé" in page.locator("#linky-note").inner_text()
    page.locator("#linky-file").set_input_files(str(LINKY_EXAMPLE))
    with page.expect_response(f"{base_url}/api/v1/simulate/linky") as answer:
        page.get_by_test_id("simulate-button").click()
    assert answer.value.status == 200
    result = answer.value.json()
    page.get_by_test_id("payback-years").wait_for()
    info = plain(page.locator("#linky-info").inner_text())
    assert f"{french(result['linky']['measured_kwh'], 0)} kWh mesurés" in info
    rate = plain(page.get_by_test_id("self-consumption-rate").inner_text())
    assert rate == f"{french(result['self_consumption_rate'] * 100, 0)} %"
    screenshot(page, "linky")
    watch.check()


def test_the_url_restores_a_building_and_a_click_selects_another(
    watched: Any, bare_url: str
) -> None:
    base_url = bare_url
    flat = api(base_url, f"/api/v1/buildings/{FLAT_ROOF}")
    page, watch = watched(viewport={"width": 1280, "height": 860})
    page.goto(f"{base_url}/#batiment={FLAT_ROOF}")
    wait_ready(page)
    page.get_by_test_id("building-kwc").wait_for()
    check_building_figures(page, flat)
    wait_selected_on_map(page)
    # the flat roof's convention in words, and each face's class in French
    faces = page.locator("#faces > li").all_inner_texts()
    assert [face["is_flat"] for face in flat["faces"]] == [True]
    assert "toit plat" in faces[0]
    assert FLAT_MODULE_AZIMUTH == 180
    assert f"inclinés à {FLAT_MODULE_TILT:.0f}° plein sud" in plain(faces[0])
    assert flat["faces"][0]["suitability_label"] in faces[0]

    clicked = api(base_url, f"/api/v1/buildings/{CLICKED}")
    inside = shapely.point_on_surface(shapely.geometry.shape(clicked["footprint"]))
    lon, lat = inside.x, inside.y
    page.evaluate(
        "([lon, lat]) => window.cadastreMap.jumpTo({center: [lon, lat], zoom: 19})", [lon, lat]
    )
    page.wait_for_function("() => window.cadastreMap.loaded()")
    point = page.evaluate("([lon, lat]) => window.cadastreMap.project([lon, lat])", [lon, lat])
    box = page.get_by_test_id("map").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    page.wait_for_url(re.compile(rf"#batiment={CLICKED}$"))
    check_building_figures(page, clicked)
    watch.check()


def test_a_configured_basemap_lies_under_the_roofs(watched: Any, basemap_url: str) -> None:
    page, watch = watched(viewport={"width": 1280, "height": 860})
    page.goto(f"{basemap_url}/?adresse={ADDRESS_ID}")
    wait_ready(page)
    wait_selected_on_map(page)
    layers = page.evaluate("() => window.cadastreMap.getStyle().layers.map(l => l.id)")
    assert layers[0] == "basemap-land"
    assert {"faces", "buildings", "selected-outline"} <= set(layers)
    watch.check()


def test_the_first_load_stays_within_its_weight(watched: Any, base_url: str) -> None:
    page, watch = watched(viewport={"width": 1280, "height": 860})
    page.goto(base_url + "/")
    wait_ready(page)
    page.wait_for_function("() => window.cadastreMap && window.cadastreMap.loaded()")
    weights = {}
    for request in watch.loaded:
        if request.resource_type in ("script", "stylesheet"):
            response = request.response()
            assert response is not None
            weights[request.url.removeprefix(base_url)] = len(gzip.compress(response.body()))
    total = sum(weights.values())
    print(f"first load, gzipped JS and CSS: {total} bytes {weights}")
    assert any("maplibre-gl.js" in url for url in weights)
    assert any(url.endswith("/app.js") for url in weights)
    assert total <= MAX_FIRST_LOAD_GZIP_BYTES
    watch.check()
