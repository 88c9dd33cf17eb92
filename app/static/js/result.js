// The selected roof in plain French: its totals, a monthly chart and each face.

import * as fmt from "./format.js";

const SVG = "http://www.w3.org/2000/svg";

/** Tilt and facing of modules racked on a flat roof, when the API does not give them:
 * the cadastre's convention (solar.pv.FLAT_MODULE_TILT and FLAT_MODULE_AZIMUTH). */
const FLAT_MODULE_TILT_DEG = 10;
const FLAT_MODULE_AZIMUTH_DEG = 180;

const DIRECTIONS = ["nord", "nord-est", "est", "sud-est", "sud", "sud-ouest", "ouest", "nord-ouest"];

/** Azimuth [° clockwise from north] in words, to the nearest of eight directions. */
export function orientationWords(azimuth) {
  if (azimuth === null || azimuth === undefined) return "plat";
  return DIRECTIONS[Math.round((((azimuth % 360) + 360) % 360) / 45) % 8];
}

function svg(name, attributes = {}) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  return element;
}

/** A bar chart of twelve monthly values [kWh], in plain SVG, with a text alternative. */
export function monthlyChart(values) {
  const width = 360;
  const height = 160;
  const left = 44;
  const bottom = 22;
  const top = 8;
  const max = Math.max(...values, 1);
  // a round top for the axis: 1, 2 or 5 times a power of ten
  const magnitude = 10 ** Math.floor(Math.log10(max));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s * 4 >= max) ?? magnitude * 10;
  const axisMax = Math.ceil(max / step) * step;
  const plotHeight = height - bottom - top;
  const barSlot = (width - left) / 12;
  const chart = svg("svg", {
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
    class: "bars",
    "aria-label": `Production mensuelle : ${values.map((v, i) => `${fmt.MONTHS[i]} ${fmt.number(v)} kWh`).join(", ")}`,
  });
  for (let tick = 0; tick <= axisMax; tick += step) {
    const y = top + plotHeight * (1 - tick / axisMax);
    chart.append(svg("line", { x1: left, x2: width, y1: y, y2: y, class: "grid" }));
    const label = svg("text", { x: left - 4, y: y + 4, class: "tick", "text-anchor": "end" });
    label.textContent = fmt.number(tick);
    chart.append(label);
  }
  values.forEach((value, month) => {
    const barHeight = (plotHeight * value) / axisMax;
    const x = left + month * barSlot + barSlot * 0.15;
    const bar = svg("rect", {
      x,
      y: top + plotHeight - barHeight,
      width: barSlot * 0.7,
      height: Math.max(barHeight, 0),
      class: "bar",
    });
    const tip = svg("title");
    tip.textContent = `${fmt.MONTHS[month]} : ${fmt.number(value)} kWh`;
    bar.append(tip);
    const label = svg("text", { x: x + barSlot * 0.35, y: height - 6, class: "tick", "text-anchor": "middle" });
    label.textContent = fmt.MONTHS[month].charAt(0).toUpperCase();
    chart.append(bar, label);
  });
  return chart;
}

function suitabilityLabel(item, legend) {
  if (item.suitability_label) return item.suitability_label;
  return legend?.suitability?.find((entry) => entry.code === item.suitability)?.label ?? "non classé";
}

function suitabilityColour(code, legend) {
  return legend?.suitability?.find((entry) => entry.code === code)?.colour ?? null;
}

/** One face as a list item: orientation, tilt, sun, shade, class, and what it holds. */
function faceItem(face, index, legend) {
  const item = document.createElement("li");
  item.className = "face";
  const heading = document.createElement("p");
  heading.className = "face-heading";
  const swatch = document.createElement("span");
  swatch.className = "swatch";
  swatch.setAttribute("aria-hidden", "true");
  const colour = suitabilityColour(face.suitability, legend);
  if (colour) swatch.style.backgroundColor = colour;
  const name = document.createElement("strong");
  const orientation = face.is_flat ? "toit plat" : `orienté ${face.orientation ?? orientationWords(face.azimuth_deg)}`;
  name.textContent = `Pan ${index + 1}, ${orientation}`;
  const label = document.createElement("span");
  label.className = "face-class";
  label.textContent = ` : ${suitabilityLabel(face, legend)}`;
  heading.append(swatch, name, label);

  const details = document.createElement("p");
  details.className = "face-details";
  const parts = [];
  if (face.is_flat) {
    const tilt = face.module_tilt_deg ?? FLAT_MODULE_TILT_DEG;
    const facing = orientationWords(face.module_azimuth_deg ?? FLAT_MODULE_AZIMUTH_DEG);
    parts.push(`panneaux posés sur supports, inclinés à ${fmt.degrees(tilt)} plein ${facing}`);
  } else {
    parts.push(`pente ${fmt.degrees(face.tilt_deg)}`);
  }
  parts.push(`${fmt.number(face.irradiation_kwh_m2_yr)} kWh/m² de soleil par an`);
  parts.push(`ombre des alentours ${fmt.number(face.shading_loss_pct)} %`);
  if (face.panels) {
    parts.push(`${fmt.modules(face.panels)}, ${fmt.kwc(face.kwc)}, ${fmt.kwhPerYear(face.production_kwh_yr)}`);
  }
  details.textContent = parts.join(" · ");
  item.append(heading, details);
  return item;
}

/**
 * Fill the result article with a building.
 * @param {object} building  BuildingSolar
 * @param {object|null} address  the Address, when the building was found by its address
 * @param {object|null} legend  /api/v1/legend
 */
export function renderBuilding(building, address, legend) {
  const byId = (id) => document.getElementById(id);
  byId("result-title").textContent = address
    ? address.label
    : "Bâtiment choisi sur la carte";
  const kwc = building.kwc ?? 0;
  const verdict = byId("result-verdict");
  if (kwc > 0) {
    verdict.textContent = `Potentiel solaire de ce toit : ${suitabilityLabel(building, legend).toLowerCase()}.`;
  } else if (building.footprint_check === "absent") {
    verdict.textContent = "Nous ne trouvons pas de toit à cet endroit dans le relevé LiDAR : le bâtiment a peut-être été démoli, ou il est trop bas.";
  } else {
    verdict.textContent = "Aucun pan de ce toit ne se prête à des panneaux solaires : trop d'ombre, trop pentu, mal orienté ou trop petit.";
  }
  byId("building-kwc").textContent = fmt.kwc(kwc);
  byId("building-modules").textContent = fmt.modules(building.panels ?? 0);
  byId("building-production").textContent = fmt.kwhPerYear(building.production_kwh_yr ?? 0);

  const band = byId("building-band");
  const low = building.production_p10_kwh_yr;
  const high = building.production_p90_kwh_yr;
  band.hidden = !(kwc > 0 && low && high);
  band.textContent = band.hidden
    ? ""
    : `Selon la météo des années et les marges du calcul, la production dépassera ${fmt.kwhPerYear(low)} 9 années sur 10, et ${fmt.kwhPerYear(high)} 1 année sur 10.`;

  const note = byId("footprint-note");
  note.hidden = !building.footprint_note;
  note.textContent = building.footprint_note ? `Remarque : ${building.footprint_note}.` : "";

  const months = building.production_monthly_kwh;
  const figure = byId("monthly-figure");
  figure.hidden = !(months && kwc > 0);
  if (!figure.hidden) {
    byId("monthly-chart").replaceChildren(monthlyChart(months));
  }

  const faces = [...building.faces].sort((a, b) => (b.production_kwh_yr ?? 0) - (a.production_kwh_yr ?? 0));
  byId("faces").replaceChildren(...faces.map((face, index) => faceItem(face, index, legend)));
  byId("intro").hidden = true;
  byId("result").hidden = false;
}
