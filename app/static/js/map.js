// The map: roof faces coloured by suitability, building outlines, the irradiation raster,
// the selected building, a layer switch and a legend. Colours and labels come from the
// service's legend (/api/v1/legend), never from this file.

import { getJson } from "./api.js";
import { number } from "./format.js";

/** Faces whose class the legend does not know (or a service without a legend). */
const UNCLASSED = "#9e9e9e";
const OUTLINE = "#3d3d3d";
const SELECTED = "#111111";
const SELECTED_CASING = "#ffffff";
/** Below this zoom the GeoJSON fallback does not ask for roofs: the box would be too wide. */
const FALLBACK_MIN_ZOOM = 15;
/** Largest box side the GeoJSON endpoint accepts by default [°]. */
const FALLBACK_MAX_SIDE_DEG = 0.05;

/** A style with no basemap: the page works offline on its own layers. */
const OFFLINE_STYLE = {
  version: 8,
  sources: {},
  layers: [{ id: "background", type: "background", paint: { "background-color": "#eceae4" } }],
};

function suitabilityColour(legend) {
  if (!legend?.suitability?.length) return UNCLASSED;
  const expression = ["match", ["coalesce", ["get", "suitability"], ""]];
  for (const entry of legend.suitability) expression.push(entry.code, entry.colour);
  expression.push(UNCLASSED);
  return expression;
}

function absolute(urls) {
  return urls.map((url) => new URL(url, window.location.href).href.replaceAll("%7B", "{").replaceAll("%7D", "}"));
}

function tileSource(tilejson, extra = {}) {
  const source = { tiles: absolute(tilejson.tiles), ...extra };
  for (const key of ["minzoom", "maxzoom", "bounds", "attribution"]) {
    if (tilejson[key] !== undefined && tilejson[key] !== null) source[key] = tilejson[key];
  }
  return source;
}

/** The [[west, south], [east, north]] box of a GeoJSON geometry's coordinates. */
export function geometryBounds(geometry) {
  let west = Infinity;
  let south = Infinity;
  let east = -Infinity;
  let north = -Infinity;
  const visit = (coordinates) => {
    if (typeof coordinates[0] === "number") {
      west = Math.min(west, coordinates[0]);
      east = Math.max(east, coordinates[0]);
      south = Math.min(south, coordinates[1]);
      north = Math.max(north, coordinates[1]);
    } else {
      coordinates.forEach(visit);
    }
  };
  visit(geometry.coordinates);
  return [[west, south], [east, north]];
}

export class RoofMap {
  /**
   * @param {HTMLElement} container
   * @param {object} options
   * @param {string|null} options.basemapStyle  a MapLibre style URL, or null for none
   * @param {object|null} options.legend  /api/v1/legend
   * @param {object|null} options.roofTiles  TileJSON of the roof vector tiles, or null
   * @param {object|null} options.irradiationTiles  TileJSON of the irradiation raster, or null
   * @param {number[]} options.bbox  the cadastre's [west, south, east, north]
   * @param {(lngLat: {lng: number, lat: number}) => void} options.onPick  a click on the map
   */
  constructor(container, { basemapStyle, legend, roofTiles, irradiationTiles, bbox, onPick }) {
    this.legend = legend;
    this.roofTiles = roofTiles;
    this.irradiationTiles = irradiationTiles;
    this.selection = { type: "FeatureCollection", features: [] };
    this.fallbackRequest = null;
    this.map = new window.maplibregl.Map({
      container,
      style: basemapStyle || OFFLINE_STYLE,
      bounds: [[bbox[0], bbox[1]], [bbox[2], bbox[3]]],
      fitBoundsOptions: { padding: 20 },
      maxZoom: 21,
      attributionControl: { compact: true },
      cooperativeGestures: false,
      locale: {
        "NavigationControl.ZoomIn": "Zoomer",
        "NavigationControl.ZoomOut": "Dézoomer",
        "NavigationControl.ResetBearing": "Remettre le nord en haut",
        "AttributionControl.ToggleAttribution": "Afficher les crédits",
        "Map.Title": "Carte des toitures : cliquez sur un toit pour le choisir",
      },
    });
    this.map.addControl(new window.maplibregl.NavigationControl({ showCompass: false }), "top-right");
    this.ready = new Promise((resolve) => {
      this.map.on("load", () => {
        this.addLayers();
        resolve();
      });
    });
    if (basemapStyle) {
      // an unreachable basemap must not take the roofs with it: fall back to none
      this.map.once("error", () => {
        if (!this.map.isStyleLoaded()) this.map.setStyle(OFFLINE_STYLE);
      });
    }
    this.map.on("click", (event) => onPick(event.lngLat));
    this.map.on("mouseenter", "faces", () => {
      this.map.getCanvas().style.cursor = "pointer";
    });
    this.map.on("mouseleave", "faces", () => {
      this.map.getCanvas().style.cursor = "";
    });
  }

  addLayers() {
    const map = this.map;
    const colour = suitabilityColour(this.legend);
    if (this.roofTiles) {
      map.addSource("roofs", { type: "vector", ...tileSource(this.roofTiles) });
      map.addLayer({
        id: "faces",
        type: "fill",
        source: "roofs",
        "source-layer": "faces",
        paint: { "fill-color": colour, "fill-opacity": 0.85 },
      });
      map.addLayer({
        id: "buildings",
        type: "line",
        source: "roofs",
        "source-layer": "buildings",
        paint: { "line-color": OUTLINE, "line-width": ["interpolate", ["linear"], ["zoom"], 14, 0.3, 18, 1.2] },
      });
    } else {
      // No vector tiles for this cadastre: the faces of the view, from the GeoJSON endpoint
      map.addSource("roofs", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
      map.addLayer({
        id: "faces",
        type: "fill",
        source: "roofs",
        paint: { "fill-color": colour, "fill-opacity": 0.85 },
      });
      map.on("moveend", () => this.loadFallbackRoofs());
      this.loadFallbackRoofs();
    }
    map.addSource("selection", { type: "geojson", data: this.selection });
    map.addLayer({
      id: "selected-faces",
      type: "fill",
      source: "selection",
      filter: ["==", ["get", "kind"], "face"],
      paint: { "fill-color": colour, "fill-opacity": 0.95 },
    });
    // above the faces' colours, under the selection's outline: switched on, it shows
    if (this.irradiationTiles) {
      map.addSource("irradiation", {
        type: "raster",
        ...tileSource(this.irradiationTiles, { tileSize: this.irradiationTiles.tileSize ?? 256 }),
      });
      map.addLayer({
        id: "irradiation",
        type: "raster",
        source: "irradiation",
        layout: { visibility: "none" },
        paint: { "raster-opacity": 0.85 },
      });
    }
    map.addLayer({
      id: "selected-casing",
      type: "line",
      source: "selection",
      filter: ["==", ["get", "kind"], "footprint"],
      paint: { "line-color": SELECTED_CASING, "line-width": 6 },
    });
    map.addLayer({
      id: "selected-outline",
      type: "line",
      source: "selection",
      filter: ["==", ["get", "kind"], "footprint"],
      paint: { "line-color": SELECTED, "line-width": 3 },
    });
  }

  async loadFallbackRoofs() {
    const map = this.map;
    const source = map.getSource("roofs");
    const bounds = map.getBounds();
    const west = Math.max(bounds.getWest(), -180);
    const east = Math.min(bounds.getEast(), 180);
    const south = Math.max(bounds.getSouth(), -90);
    const north = Math.min(bounds.getNorth(), 90);
    if (map.getZoom() < FALLBACK_MIN_ZOOM || east - west > FALLBACK_MAX_SIDE_DEG || north - south > FALLBACK_MAX_SIDE_DEG) {
      return;
    }
    this.fallbackRequest?.abort();
    const request = new AbortController();
    this.fallbackRequest = request;
    try {
      const box = [west, south, east, north].map((v) => v.toFixed(6)).join(",");
      const roofs = await getJson(`/api/v1/roofs?bbox=${box}&limit=5000`, { signal: request.signal });
      if (this.fallbackRequest === request) source.setData(roofs);
    } catch (error) {
      if (error.name !== "AbortError") source.setData({ type: "FeatureCollection", features: [] });
    }
  }

  /** The layers a resident can switch, in the order of the switch. */
  switchableLayers() {
    const layers = [
      { ids: ["faces", "selected-faces"], label: "Potentiel des pans de toit", visible: true },
    ];
    if (this.roofTiles) layers.push({ ids: ["buildings"], label: "Contours des bâtiments", visible: true });
    if (this.irradiationTiles) {
      layers.push({ ids: ["irradiation"], label: "Ensoleillement des toits (kWh/m²/an)", visible: false });
    }
    return layers;
  }

  setVisible(ids, visible) {
    for (const id of ids) {
      if (this.map.getLayer(id)) this.map.setLayoutProperty(id, "visibility", visible ? "visible" : "none");
    }
  }

  /** Draw the layer switch (checkboxes) into a fieldset. */
  renderSwitch(fieldset) {
    for (const [index, layer] of this.switchableLayers().entries()) {
      const wrapper = document.createElement("div");
      wrapper.className = "choice";
      const input = document.createElement("input");
      input.type = "checkbox";
      input.id = `layer-${index}`;
      input.checked = layer.visible;
      input.addEventListener("change", () => this.setVisible(layer.ids, input.checked));
      const label = document.createElement("label");
      label.htmlFor = input.id;
      label.textContent = layer.label;
      wrapper.append(input, label);
      fieldset.append(wrapper);
    }
  }

  /** Draw the legend: suitability classes, then the irradiation ramp. */
  renderLegend(container) {
    const parts = [];
    if (this.legend?.suitability?.length) {
      const title = document.createElement("p");
      title.className = "legend-title";
      title.textContent = "Potentiel solaire du pan";
      const list = document.createElement("ul");
      list.className = "legend-classes";
      for (const entry of this.legend.suitability) {
        const item = document.createElement("li");
        const swatch = document.createElement("span");
        swatch.className = "swatch";
        swatch.style.backgroundColor = entry.colour;
        swatch.setAttribute("aria-hidden", "true");
        item.append(swatch, document.createTextNode(entry.label));
        list.append(item);
      }
      parts.push(title, list);
    } else {
      const missing = document.createElement("p");
      missing.textContent = "Légende indisponible : les pans sont en gris.";
      parts.push(missing);
    }
    const ramp = this.legend?.irradiation;
    if (this.irradiationTiles && ramp?.stops?.length) {
      const title = document.createElement("p");
      title.className = "legend-title";
      title.textContent = `Ensoleillement (${ramp.unit.replace("/an", " par an")})`;
      const bar = document.createElement("div");
      bar.className = "ramp";
      const low = ramp.stops[0][0];
      const high = ramp.stops[ramp.stops.length - 1][0];
      const stops = ramp.stops.map(([value, hex]) => `${hex} ${(((value - low) / (high - low || 1)) * 100).toFixed(1)}%`);
      bar.style.backgroundImage = `linear-gradient(to right, ${stops.join(", ")})`;
      bar.setAttribute("aria-hidden", "true");
      const scale = document.createElement("p");
      scale.className = "ramp-scale";
      scale.textContent = `${number(low)} → ${number(high)}`;
      parts.push(title, bar, scale);
    }
    container.replaceChildren(...parts);
  }

  /** Show a building (BuildingSolar) as the selection and bring it into view. */
  async select(building) {
    await this.ready;
    const features = [
      { type: "Feature", geometry: building.footprint, properties: { kind: "footprint", building_id: building.building_id } },
      ...building.faces.map((face) => ({
        type: "Feature",
        geometry: face.geometry,
        properties: { kind: "face", face_id: face.face_id, suitability: face.suitability },
      })),
    ];
    this.selection = { type: "FeatureCollection", features };
    this.map.getSource("selection").setData(this.selection);
    const box = building.bbox
      ? [[building.bbox[0], building.bbox[1]], [building.bbox[2], building.bbox[3]]]
      : geometryBounds(building.footprint);
    this.map.fitBounds(box, { padding: this.padding(), maxZoom: 19, duration: 0 });
  }

  /** Room for the panel over the map: a bottom sheet on phones. */
  padding() {
    const sheet = window.matchMedia("(max-width: 47.99rem)").matches;
    const height = this.map.getContainer().clientHeight;
    return sheet
      ? { top: 40, left: 30, right: 30, bottom: Math.min(height * 0.5, height - 120) }
      : 60;
  }

  resize() {
    this.map.resize();
  }
}
