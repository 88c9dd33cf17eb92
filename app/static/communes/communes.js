// The communes' page: a commune's buildings with their solar potential, in a table and on
// a map; the agent qualifies them (status, usage, consumption), imports a list and
// downloads the reports. Every call carries the commune's key (Authorization: Bearer),
// which stays in this tab's sessionStorage.

const byId = (id) => document.getElementById(id);
const KEY_ITEM = "cadastre-commune-key";
const PAGE_SIZE = 100;

const STATUS_LABELS = { a_etudier: "À étudier", retenu: "Retenu", ecarte: "Écarté" };
const STATUS_COLOURS = { a_etudier: "#e08a00", retenu: "#1a7f37", ecarte: "#6e6e6e" };
const NO_STATUS_COLOUR = "#2f6fb3";
const REPORT_POLL_MS = 1000;

const state = { key: null, commune: null, next: null, items: [], map: null, selected: null };

const number = (value, digits = 0) =>
  value === null || value === undefined
    ? "–"
    : value.toLocaleString("fr-FR", { minimumFractionDigits: digits, maximumFractionDigits: digits });

class KeyRefused extends Error {}

/** A call to the API with the key; 401 sends the agent back to the key entry. */
async function api(path, { method = "GET", json, form } = {}) {
  const headers = { Authorization: `Bearer ${state.key}`, Accept: "application/json" };
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form;
  }
  const response = await fetch(path, { method, headers, body });
  if (response.status === 401) {
    logout("La clé a été refusée : vérifiez-la, ou demandez-en une nouvelle au Pôle Métropolitain.");
    throw new KeyRefused();
  }
  return response;
}

async function detail(response) {
  try {
    const body = await response.json();
    return body.detail || `erreur ${response.status}`;
  } catch {
    return `erreur ${response.status}`;
  }
}

function communePath(suffix = "") {
  return `/api/v1/communes/${encodeURIComponent(state.commune)}${suffix}`;
}

// --- key entry ---------------------------------------------------------------------

function logout(message = "") {
  sessionStorage.removeItem(KEY_ITEM);
  state.key = null;
  byId("work").hidden = true;
  byId("login").hidden = false;
  byId("who").hidden = true;
  byId("logout").hidden = true;
  byId("login-status").textContent = message;
}

async function login(key) {
  state.key = key;
  byId("login-status").textContent = "Vérification de la clé…";
  let response;
  try {
    response = await api("/api/v1/communes");
  } catch (error) {
    if (!(error instanceof KeyRefused)) byId("login-status").textContent = "Le service ne répond pas.";
    return;
  }
  if (!response.ok) {
    byId("login-status").textContent = await detail(response);
    return;
  }
  const access = await response.json();
  sessionStorage.setItem(KEY_ITEM, key);
  byId("login-status").textContent = "";
  byId("login").hidden = true;
  byId("work").hidden = false;
  byId("logout").hidden = false;
  byId("who").hidden = false;
  byId("who").textContent = access.territory
    ? `${access.label} – tout le territoire`
    : `${access.label}`;
  const select = byId("commune");
  select.replaceChildren(
    ...access.communes.map((insee) => new Option(access.names[insee] ? `${access.names[insee]} (${insee})` : `Commune ${insee}`, insee)),
  );
  if (!access.communes.length) {
    byId("list-status").textContent = "Cette clé n'ouvre aucune commune couverte par le cadastre.";
    return;
  }
  state.commune = access.communes[0];
  startMap();
  await load();
}

// --- listing -----------------------------------------------------------------------

function query() {
  const params = new URLSearchParams({ limit: String(PAGE_SIZE), sort: byId("sort").value });
  if (byId("suitability").value) params.set("suitability", byId("suitability").value);
  if (byId("min-kwc").value) params.set("min_kwc", byId("min-kwc").value);
  if (byId("status-filter").value) params.set("status", byId("status-filter").value);
  return params;
}

async function load({ more = false } = {}) {
  const params = query();
  if (more && state.next) params.set("cursor", state.next);
  byId("list-status").textContent = "Chargement des bâtiments…";
  let response;
  try {
    response = await api(communePath(`/buildings?${params}`));
  } catch (error) {
    if (!(error instanceof KeyRefused)) byId("list-status").textContent = "Le service ne répond pas.";
    return;
  }
  if (!response.ok) {
    byId("list-status").textContent = await detail(response);
    return;
  }
  const page = await response.json();
  state.items = more ? [...state.items, ...page.items] : page.items;
  state.next = page.next;
  byId("more").hidden = !page.next;
  render();
  byId("list-status").textContent = state.items.length
    ? `${state.items.length} bâtiment${state.items.length > 1 ? "s" : ""} affiché${state.items.length > 1 ? "s" : ""}${page.next ? " (d'autres suivent)" : ""}.`
    : "Aucun bâtiment ne répond à ces critères.";
}

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function render() {
  const rows = state.items.map((item) => {
    const tr = document.createElement("tr");
    tr.dataset.building = item.building_id;
    const status = item.portfolio?.status;
    const idCell = document.createElement("td");
    const open = document.createElement("button");
    open.type = "button";
    open.className = "link";
    open.textContent = item.building_id;
    open.addEventListener("click", () => select(item.building_id));
    idCell.append(open);
    if (item.footprint_note) {
      const note = document.createElement("small");
      note.className = "footprint-note";
      note.textContent = item.footprint_note;
      idCell.append(document.createElement("br"), note);
    }
    const badge = cell(status ? STATUS_LABELS[status] : "–");
    if (status) badge.dataset.status = status;
    tr.append(
      idCell,
      cell(item.address ?? "–"),
      cell(number(item.kwc, 1), "num"),
      cell(number(item.production_kwh_yr), "num"),
      cell(number(item.specific_yield_kwh_kwc), "num"),
      cell(item.suitability_label ?? item.suitability),
      cell(number(item.shading_loss_pct, 1), "num"),
      cell(item.usage_bdtopo ?? "–"),
      badge,
    );
    if (item.building_id === state.selected) tr.classList.add("selected");
    return tr;
  });
  document.querySelector("#buildings tbody").replaceChildren(...rows);
  drawMap();
}

// --- one building ------------------------------------------------------------------

function select(buildingId) {
  const item = state.items.find((i) => i.building_id === buildingId);
  if (!item) return;
  state.selected = buildingId;
  for (const tr of document.querySelectorAll("#buildings tbody tr")) {
    tr.classList.toggle("selected", tr.dataset.building === buildingId);
  }
  const entry = item.portfolio ?? {};
  byId("entry-building").textContent = buildingId;
  byId("entry-address").textContent = item.address ?? "";
  byId("entry-status").value = entry.status ?? "a_etudier";
  byId("entry-reason").value = entry.reason ?? "";
  byId("entry-usage").value = entry.usage ?? "";
  byId("entry-consumption").value = entry.annual_consumption_kwh ?? "";
  byId("entry-note").value = entry.note ?? "";
  byId("entry-status-message").textContent = "";
  reasonFollowsStatus();
  byId("entry").hidden = false;
  byId("entry-status").focus();
  state.map?.easeTo({ center: item.position, zoom: Math.max(state.map.getZoom(), 16) });
}

function reasonFollowsStatus() {
  const excluded = byId("entry-status").value === "ecarte";
  byId("entry-reason").disabled = !excluded;
  if (!excluded) byId("entry-reason").value = "";
}

async function save(event) {
  event.preventDefault();
  const consumption = byId("entry-consumption").value;
  const body = {
    status: byId("entry-status").value,
    reason: byId("entry-reason").value || null,
    usage: byId("entry-usage").value || null,
    annual_consumption_kwh: consumption === "" ? null : Number(consumption),
    note: byId("entry-note").value.trim() || null,
  };
  const message = byId("entry-status-message");
  message.textContent = "Enregistrement…";
  let response;
  try {
    response = await api(communePath(`/portfolio/${encodeURIComponent(state.selected)}`), {
      method: "PUT",
      json: body,
    });
  } catch (error) {
    if (!(error instanceof KeyRefused)) message.textContent = "Le service ne répond pas.";
    return;
  }
  if (!response.ok) {
    message.textContent = `Non enregistré : ${await detail(response)}`;
    return;
  }
  const entry = await response.json();
  const item = state.items.find((i) => i.building_id === state.selected);
  if (item) item.portfolio = entry;
  render();
  message.textContent = `Enregistré : ${STATUS_LABELS[entry.status]}.`;
}

// --- import ------------------------------------------------------------------------

async function importFile(event) {
  event.preventDefault();
  const file = byId("import-file").files[0];
  const status = byId("import-status");
  if (!file) {
    status.textContent = "Choisissez un fichier.";
    return;
  }
  const check = event.submitter?.value === "check";
  const form = new FormData();
  form.append("file", file);
  status.textContent = check ? "Vérification…" : "Import…";
  let response;
  try {
    response = await api(communePath(`/portfolio/import${check ? "?dry_run=true" : ""}`), {
      method: "POST",
      form,
    });
  } catch (error) {
    if (!(error instanceof KeyRefused)) status.textContent = "Le service ne répond pas.";
    return;
  }
  const body = await response.json().catch(() => ({}));
  const rows = body.rows ?? [];
  const report = byId("import-report");
  report.querySelector("tbody").replaceChildren(
    ...rows.map((row) => {
      const tr = document.createElement("tr");
      tr.className = row.matched ? "ok" : "refused";
      const result = row.matched
        ? (row.action === "created" ? "ajouté" : "mis à jour") + (row.address ? ` (${row.address})` : "")
        : row.reason;
      tr.append(cell(String(row.row)), cell(row.building_id ?? "–"), cell(result));
      return tr;
    }),
  );
  report.hidden = rows.length === 0;
  if (response.ok && check) {
    status.textContent = `${rows.length} ligne${rows.length > 1 ? "s" : ""} vérifiée${rows.length > 1 ? "s" : ""} : toutes sont reconnues, rien n'a encore été importé.`;
  } else if (response.ok) {
    status.textContent = `${body.imported} bâtiment${body.imported > 1 ? "s" : ""} importé${body.imported > 1 ? "s" : ""}.`;
    await load();
  } else if (body.code === "import_refused") {
    const refused = rows.filter((r) => !r.matched).length;
    status.textContent = `${refused} ligne${refused > 1 ? "s" : ""} refusée${refused > 1 ? "s" : ""} : rien n'a été importé. Corrigez le fichier et recommencez.`;
  } else {
    status.textContent = `Fichier refusé : ${body.detail ?? `erreur ${response.status}`}`;
  }
}

// --- reports -----------------------------------------------------------------------

async function saveFile(response, fallbackName) {
  const disposition = response.headers.get("Content-Disposition") ?? "";
  const name = /filename="?([^";]+)"?/.exec(disposition)?.[1] ?? fallbackName;
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

async function download(event) {
  event.preventDefault();
  const format = event.submitter?.value ?? "csv";
  const scope = byId("report-scope").value;
  const status = byId("download-status");
  status.textContent = "Préparation du rapport…";
  try {
    let response = await api(communePath(`/report.${format}?scope=${scope}`));
    if (response.status === 202) {
      let job = await response.json();
      while (job.state === "queued" || job.state === "running") {
        status.textContent = `Rapport en préparation : ${Math.round(job.progress * 100)} %…`;
        await new Promise((resolve) => setTimeout(resolve, REPORT_POLL_MS));
        job = await (await api(job.status_url)).json();
      }
      if (job.state !== "done") {
        status.textContent = `Le rapport n'a pas pu être produit : ${job.error ?? "erreur"}.`;
        return;
      }
      response = await api(job.file_url);
    }
    if (!response.ok) {
      status.textContent = `Rapport indisponible : ${await detail(response)}`;
      return;
    }
    await saveFile(response, `rapport-${state.commune}.${format}`);
    status.textContent = "Rapport téléchargé.";
  } catch (error) {
    if (!(error instanceof KeyRefused)) status.textContent = "Le service ne répond pas.";
  }
}

// --- map ---------------------------------------------------------------------------

function webglAvailable() {
  try {
    const canvas = document.createElement("canvas");
    return Boolean(canvas.getContext("webgl2") || canvas.getContext("webgl"));
  } catch {
    return false;
  }
}

async function startMap() {
  if (state.map || !window.maplibregl || !webglAvailable()) {
    if (!state.map) {
      byId("map").hidden = true;
      byId("map-status").hidden = false;
      byId("map-status").textContent = "La carte ne peut pas s'afficher dans ce navigateur ; le tableau reste complet.";
    }
    return;
  }
  let basemap = null;
  try {
    basemap = (await (await fetch("/api/v1/site")).json()).basemap_style ?? null;
  } catch {
    // no settings: the map draws its own layers only
  }
  const style = basemap ?? {
    version: 8,
    sources: {},
    layers: [{ id: "background", type: "background", paint: { "background-color": "#eceae4" } }],
  };
  const map = new window.maplibregl.Map({ container: "map", style, center: [2.83, 50.43], zoom: 12 });
  map.addControl(new window.maplibregl.NavigationControl({ showCompass: false }));
  map.on("load", () => {
    map.addSource("buildings", { type: "geojson", data: features() });
    const colour = ["match", ["get", "status"]];
    for (const [status, value] of Object.entries(STATUS_COLOURS)) colour.push(status, value);
    colour.push(NO_STATUS_COLOUR);
    map.addLayer({
      id: "buildings",
      type: "circle",
      source: "buildings",
      paint: {
        "circle-radius": ["interpolate", ["linear"], ["zoom"], 12, 3, 17, 8],
        "circle-color": colour,
        "circle-stroke-color": ["case", ["get", "selected"], "#111111", "#ffffff"],
        "circle-stroke-width": ["case", ["get", "selected"], 3, 1],
      },
    });
    map.on("click", "buildings", (event) => select(event.features[0].properties.building_id));
    map.on("mouseenter", "buildings", () => (map.getCanvas().style.cursor = "pointer"));
    map.on("mouseleave", "buildings", () => (map.getCanvas().style.cursor = ""));
    state.mapReady = true;
    drawMap({ fit: true });
  });
  state.map = map;
}

function features() {
  return {
    type: "FeatureCollection",
    features: state.items.map((item) => ({
      type: "Feature",
      geometry: { type: "Point", coordinates: item.position },
      properties: {
        building_id: item.building_id,
        status: item.portfolio?.status ?? "",
        selected: item.building_id === state.selected,
      },
    })),
  };
}

function drawMap({ fit = false } = {}) {
  if (!state.mapReady) return;
  state.map.getSource("buildings").setData(features());
  if ((fit || !state.fitted) && state.items.length) {
    const lons = state.items.map((i) => i.position[0]);
    const lats = state.items.map((i) => i.position[1]);
    state.map.fitBounds(
      [
        [Math.min(...lons), Math.min(...lats)],
        [Math.max(...lons), Math.max(...lats)],
      ],
      { padding: 40, maxZoom: 17, duration: 0 },
    );
    state.fitted = true;
  }
}

// --- wiring ------------------------------------------------------------------------

byId("login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  login(byId("key").value.trim());
  byId("key").value = "";
});
byId("logout").addEventListener("click", () => logout("Vous êtes déconnecté."));
byId("filters").addEventListener("submit", (event) => {
  event.preventDefault();
  state.fitted = false;
  load();
});
byId("commune").addEventListener("change", () => {
  state.commune = byId("commune").value;
  state.selected = null;
  state.fitted = false;
  byId("entry").hidden = true;
  load();
});
for (const button of document.querySelectorAll("th button[data-sort]")) {
  button.addEventListener("click", () => {
    byId("sort").value = button.dataset.sort;
    load();
  });
}
byId("more").addEventListener("click", () => load({ more: true }));
byId("entry-status").addEventListener("change", reasonFollowsStatus);
byId("entry").addEventListener("submit", save);
byId("import").addEventListener("submit", importFile);
byId("downloads").addEventListener("submit", download);

const remembered = sessionStorage.getItem(KEY_ITEM);
if (remembered) login(remembered);
