// The residents' page: find a roof by its address or on the map, read what it can
// produce, simulate a project. The URL keeps the selection (/?adresse=ID or
// /#batiment=ID) so that a result can be shared.

import { ApiError, getJson, optionalJson } from "./js/api.js";
import { AddressCombobox } from "./js/combobox.js";
import * as fmt from "./js/format.js";
import { RoofMap } from "./js/map.js";
import { renderBuilding } from "./js/result.js";
import { SimulationForm } from "./js/simulate.js";

const byId = (id) => document.getElementById(id);

const state = { map: null, legend: null, simulation: null, selected: null };

/** A message shown in the panel (progress, a problem), read out by screen readers. */
function say(message) {
  byId("panel-status").textContent = message;
}

/** A message for screen readers only: what the panel now shows. */
function announce(message) {
  byId("panel-status").textContent = "";
  byId("search-status").textContent = message;
}

function webglAvailable() {
  try {
    const canvas = document.createElement("canvas");
    return Boolean(canvas.getContext("webgl2") || canvas.getContext("webgl"));
  } catch {
    return false;
  }
}

/** The page's URL for a selection: an address in the query, a building in the hash. */
function remember(selection) {
  const url = new URL(window.location.href);
  url.search = "";
  url.hash = "";
  if (selection.addressId) url.searchParams.set("adresse", selection.addressId);
  else url.hash = `batiment=${encodeURIComponent(selection.buildingId)}`;
  if (url.href !== window.location.href) window.history.replaceState(null, "", url);
}

function show(building, address, { focus }) {
  state.selected = { building, address };
  renderBuilding(building, address, state.legend);
  state.simulation.setBuilding(building);
  document.body.classList.add("has-result");
  announce(`Résultat affiché : ${fmt.kwc(building.kwc ?? 0)}, ${fmt.kwhPerYear(building.production_kwh_yr ?? 0)}.`);
  if (focus) byId("result-title").focus({ preventScroll: false });
  state.map?.resize();
  state.map?.select(building);
}

function explain(error, notFound) {
  if (error instanceof ApiError && error.status === 404) {
    say(error.code === "no_building_at_address" ? "Aucun bâtiment n'est enregistré à cette adresse. Cliquez sur votre toit sur la carte." : notFound);
  } else {
    say("Le service ne répond pas. Réessayez dans un instant.");
  }
}

async function selectAddress(addressId, { focus = true } = {}) {
  say("Recherche de votre toit…");
  try {
    const { address, building } = await getJson(`/api/v1/addresses/${encodeURIComponent(addressId)}/solar`);
    remember({ addressId: address.address_id });
    byId("address").value = address.label;
    show(building, address, { focus });
  } catch (error) {
    explain(error, "Cette adresse est inconnue.");
  }
}

async function selectBuilding(buildingId, { focus = true } = {}) {
  say("Recherche du bâtiment…");
  try {
    const building = await getJson(`/api/v1/buildings/${encodeURIComponent(buildingId)}`);
    remember({ buildingId: building.building_id });
    show(building, null, { focus });
  } catch (error) {
    explain(error, "Ce bâtiment est inconnu.");
  }
}

async function pickOnMap(lngLat) {
  try {
    const building = await getJson(`/api/v1/buildings?lon=${lngLat.lng.toFixed(7)}&lat=${lngLat.lat.toFixed(7)}`);
    remember({ buildingId: building.building_id });
    byId("address").value = "";
    show(building, null, { focus: false });
  } catch (error) {
    explain(error, "Aucun bâtiment à cet endroit : cliquez sur un toit.");
  }
}

/** The selection the URL asks for, if any. */
function restore() {
  const params = new URLSearchParams(window.location.search);
  const hash = new URLSearchParams(window.location.hash.slice(1));
  if (params.get("adresse")) return selectAddress(params.get("adresse"), { focus: false });
  if (hash.get("batiment")) return selectBuilding(hash.get("batiment"), { focus: false });
  return null;
}

function nextSteps(site) {
  byId("advice-link").href = site.advice_url;
  byId("installers-link").href = site.installers_url;
  byId("print-button").addEventListener("click", () => window.print());
  byId("share-button").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(window.location.href);
      say("Lien copié : collez-le dans un message pour partager ce résultat.");
    } catch {
      say(`Lien de ce résultat : ${window.location.href}`);
    }
  });
}

function startMap(site, coverage, roofTiles, irradiationTiles) {
  if (!window.maplibregl || !webglAvailable()) {
    byId("map").classList.add("map-unavailable");
    byId("map").textContent = "La carte ne peut pas s'afficher sur cet appareil. La recherche par adresse fonctionne.";
    return null;
  }
  const map = new RoofMap(byId("map"), {
    basemapStyle: site.basemap_style,
    legend: state.legend,
    roofTiles,
    irradiationTiles,
    bbox: coverage.bbox,
    onPick: pickOnMap,
  });
  // on a phone the layer switch and legend start folded, to leave the map in view
  if (window.matchMedia("(max-width: 47.99rem)").matches) byId("map-tools").open = false;
  map.ready.then(() => {
    map.renderSwitch(byId("layer-switch"));
    map.renderLegend(byId("legend"));
  });
  // a hook for the page's browser tests, which query the rendered features
  window.cadastreMap = map.map;
  return map;
}

async function main() {
  state.simulation = new SimulationForm();
  new AddressCombobox(byId("address"), byId("suggestions"), byId("search-status"), (hit) =>
    selectAddress(hit.address_id),
  );
  byId("search-form").addEventListener("submit", (event) => event.preventDefault());
  byId("sheet-toggle").addEventListener("click", () => {
    const expanded = document.body.classList.toggle("sheet-expanded");
    byId("sheet-toggle").setAttribute("aria-expanded", String(expanded));
    byId("sheet-toggle").textContent = expanded ? "Réduire" : "Agrandir";
    state.map?.resize();
  });
  window.addEventListener("hashchange", () => {
    const building = new URLSearchParams(window.location.hash.slice(1)).get("batiment");
    if (building && building !== state.selected?.building.building_id) selectBuilding(building, { focus: false });
  });

  const [site, coverage, legend] = await Promise.all([
    getJson("/api/v1/site"),
    getJson("/api/v1/coverage"),
    getJson("/api/v1/legend"),
  ]);
  // only the sources this cadastre has: the page never asks for a missing one
  const [roofTiles, irradiationTiles] = await Promise.all([
    site.roof_tiles ? optionalJson(site.roof_tiles) : null,
    site.irradiation_tiles ? optionalJson(site.irradiation_tiles) : null,
  ]);
  state.legend = legend;
  nextSteps(site);
  state.map = startMap(site, coverage, roofTiles, irradiationTiles);
  await restore();
  document.body.dataset.ready = "true";
}

main().catch(() => say("La page n'a pas pu démarrer : le service ne répond pas. Réessayez dans un instant."));
