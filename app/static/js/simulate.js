// The simulation form, mapped onto the API's SimulationRequest (POST /api/v1/simulate) or
// its Linky form (POST /api/v1/simulate/linky), and its result in plain French.

import { ApiError, postForm, postJson } from "./api.js";
import * as fmt from "./format.js";

/** Orders of magnitude for a household whose consumption is not known [kWh/an]: the
 * specific uses (lighting, appliances, cooking), an electric water heater per person,
 * and the space heating of a house of about 100 m² in the Artois, by radiators or by a
 * heat pump (a seasonal coefficient of about 3). The resident replaces the estimate with
 * the figure of the bill when known. */
const BASE_KWH = 1000;
const PER_PERSON_KWH = 750;
const WATER_HEATER_PER_PERSON_KWH = 800;
const ELECTRIC_HEATING_KWH = 8000;
const HEAT_PUMP_KWH = 2700;
/** The API's default for home charging of an electric vehicle [kWh/an]. */
const ELECTRIC_VEHICLE_KWH = 2000;

const byId = (id) => document.getElementById(id);

/** What the household's estimate adds up to, before the options [kWh/an]. */
function estimate(household) {
  const water = household.waterHeater ? WATER_HEATER_PER_PERSON_KWH * household.persons : 0;
  return BASE_KWH + PER_PERSON_KWH * household.persons + water;
}

function heatingKwh(heating) {
  return { electric: ELECTRIC_HEATING_KWH, heat_pump: HEAT_PUMP_KWH }[heating] ?? 0;
}

/**
 * The `consumption` of a SimulationRequest from the household's answers.
 *
 * With the bill's figure, the standard profile is scaled to it: RES2 when the home is
 * heated by electricity (its heating is in the bill), and the car's charging, when there
 * is one, is taken out of it and placed in its charging hours. Without it, the estimate
 * runs on RES1, heating and car on top.
 */
export function consumption(household) {
  const options = { daytime_presence: household.daytime };
  if (household.vehicle) options.electric_vehicle = household.vehicle;
  if (household.annualKwh !== null) {
    const total = household.annualKwh;
    let vehicleKwh = 0;
    if (household.vehicle) {
      vehicleKwh = Math.min(ELECTRIC_VEHICLE_KWH, total / 2);
      options.electric_vehicle_kwh = vehicleKwh;
    }
    return {
      annual_kwh: total - vehicleKwh,
      profile: household.heating === "other" ? "RES1" : "RES2",
      options,
    };
  }
  if (household.heating === "electric") options.electric_heating_kwh = ELECTRIC_HEATING_KWH;
  if (household.heating === "heat_pump") options.heat_pump_kwh = HEAT_PUMP_KWH;
  return { annual_kwh: estimate(household), profile: "RES1", options };
}

function fail(field, message) {
  const error = new Error(message);
  error.field = field;
  throw error;
}

function integerIn(input, low, high, message) {
  const value = Number(input.value);
  if (input.value.trim() === "" || !Number.isInteger(value) || value < low || value > high) fail(input, message);
  return value;
}

export class SimulationForm {
  constructor() {
    this.form = byId("simulation-form");
    this.building = null;
    this.source = null;
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.run();
    });
    for (const radio of this.form.querySelectorAll("input[name=source]")) {
      radio.addEventListener("change", () => this.showSource());
    }
    byId("battery").addEventListener("change", () => {
      byId("battery-size-field").hidden = !byId("battery").checked;
    });
    byId("modules").addEventListener("input", () => this.showSize());
    for (const id of ["persons", "heating", "water-heater", "vehicle"]) {
      byId(id).addEventListener("change", () => this.showEstimate());
    }
    byId("sizing-advice").addEventListener("click", (event) => {
      const button = event.target.closest("button[data-modules]");
      if (!button) return;
      byId("modules").value = button.dataset.modules;
      this.showSize();
      this.run();
    });
    this.showSource();
    this.showEstimate();
  }

  /** Prepare the form for a building (BuildingSolar). */
  setBuilding(building) {
    this.building = building;
    const slider = byId("modules");
    const panels = building.panels ?? 0;
    slider.max = String(Math.max(panels, 1));
    slider.value = String(Math.max(panels, 1));
    slider.disabled = panels === 0;
    byId("simulate-button").disabled = panels === 0;
    byId("simulation-result").hidden = true;
    byId("modules-hint").textContent = panels
      ? `Ce toit peut recevoir jusqu'à ${fmt.modules(panels)} (${fmt.kwc(building.kwc)}).`
      : "Ce toit ne se prête pas à des panneaux solaires.";
    this.showSize();
  }

  /** Bring the slider down to the size the API kept when the roof holds more. */
  limit(result) {
    const slider = byId("modules");
    if (result.n_modules >= Number(slider.max) || Number(slider.value) < Number(slider.max)) return;
    slider.max = String(result.n_modules);
    slider.value = String(result.n_modules);
    this.showSize();
    byId("modules-hint").textContent =
      `Ce toit peut recevoir ${fmt.modules(this.building.panels)} ; la simulation s'arrête à ${fmt.modules(result.n_modules)} ` +
      `(${fmt.kwc(result.kwc)}), la plus grande installation dont le surplus est racheté.`;
  }

  showSource() {
    const linky = byId("source-linky").checked;
    byId("household-fields").hidden = linky;
    byId("linky-fields").hidden = !linky;
  }

  showSize() {
    const slider = byId("modules");
    const count = Number(slider.value);
    const share = this.building?.panels ? count / this.building.panels : 0;
    const text = `${fmt.modules(count)}, environ ${fmt.kwc((this.building?.kwc ?? 0) * share)}`;
    byId("modules-output").textContent = text;
    slider.setAttribute("aria-valuetext", text);
  }

  showEstimate() {
    const persons = Number(byId("persons").value);
    const household = {
      persons: Number.isInteger(persons) && persons >= 1 ? persons : 1,
      waterHeater: byId("water-heater").checked,
    };
    const vehicle = byId("vehicle").value ? ELECTRIC_VEHICLE_KWH : 0;
    const total = estimate(household) + heatingKwh(byId("heating").value) + vehicle;
    byId("estimate-kwh").textContent = `environ ${fmt.number(total)} kWh par an`;
  }

  /** The household's answers, checked; throws an Error with `field` on a bad value. */
  household() {
    const annual = byId("annual-kwh");
    let annualKwh = null;
    if (annual.value.trim() !== "") {
      annualKwh = Number(annual.value);
      if (!Number.isFinite(annualKwh) || annualKwh < 0 || annualKwh > 100000) {
        fail(annual, "La consommation annuelle doit être un nombre de kWh entre 0 et 100 000.");
      }
    }
    return {
      persons: integerIn(byId("persons"), 1, 12, "Le nombre de personnes doit être un nombre entier de 1 à 12."),
      heating: byId("heating").value,
      waterHeater: byId("water-heater").checked,
      vehicle: byId("vehicle").value || null,
      daytime: byId("daytime").checked,
      annualKwh,
    };
  }

  project() {
    const slider = byId("modules");
    const count = integerIn(slider, 1, Number(slider.max), "Choisissez un nombre de panneaux.");
    const project = { building_id: this.building.building_id, battery_kwh: 0 };
    // the whole roof is the API's default, which stops at the largest size whose surplus
    // is bought: asking for more modules than that would be refused
    if (count < (this.building.panels ?? 0)) project.n_modules = count;
    if (byId("battery").checked) {
      const capacity = Number(byId("battery-kwh").value);
      if (!Number.isFinite(capacity) || capacity < 1 || capacity > 100) {
        fail(byId("battery-kwh"), "La capacité de la batterie doit être entre 1 et 100 kWh.");
      }
      project.battery_kwh = capacity;
    }
    return project;
  }

  showError(message, field = null) {
    const box = byId("form-error");
    box.textContent = message;
    box.hidden = false;
    for (const input of this.form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
    if (field) {
      field.setAttribute("aria-invalid", "true");
      field.focus();
    }
  }

  clearError() {
    byId("form-error").hidden = true;
    for (const input of this.form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  }

  async run() {
    if (!this.building) return;
    const button = byId("simulate-button");
    let request;
    try {
      const project = this.project();
      if (byId("source-linky").checked) {
        const file = byId("linky-file").files[0];
        if (!file) fail(byId("linky-file"), "Choisissez le fichier de votre courbe de charge Linky.");
        const form = new FormData();
        form.append("file", file);
        for (const [key, value] of Object.entries(project)) form.append(key, String(value));
        form.append(
          "persons",
          String(integerIn(byId("linky-persons"), 1, 12, "Le nombre de personnes doit être un nombre entier de 1 à 12.")),
        );
        request = () => postForm("/api/v1/simulate/linky", form);
      } else {
        const household = this.household();
        const body = { ...project, persons: household.persons, consumption: consumption(household) };
        request = () => postJson("/api/v1/simulate", body);
      }
    } catch (error) {
      this.showError(error.message, error.field);
      return;
    }
    this.clearError();
    button.disabled = true;
    button.textContent = "Calcul en cours…";
    try {
      const result = await request();
      this.limit(result);
      renderSimulation(result);
    } catch (error) {
      if (error instanceof ApiError && error.status < 500) {
        const linky = byId("source-linky").checked;
        this.showError(
          linky
            ? `Votre fichier n'a pas pu être lu. Vérifiez qu'il s'agit de l'export « courbe de charge » de votre espace Enedis. (Détail : ${error.message})`
            : `Le calcul a été refusé. (Détail : ${error.message})`,
        );
      } else {
        this.showError("Le calcul n'a pas abouti. Réessayez dans un instant.");
      }
    } finally {
      button.disabled = false;
      button.textContent = "Calculer mon projet";
    }
  }
}

function lowHigh(percentiles) {
  const values = [percentiles.p10, percentiles.p90].filter((v) => v !== null && v !== undefined);
  return values.length === 2 ? [Math.min(...values), Math.max(...values)] : null;
}

/** The P10–P90 band in words: eight chances in ten of falling between the two. */
function bandWords(uncertainty, horizon) {
  const parts = [];
  const production = lowHigh(uncertainty.production_kwh_yr);
  if (production) parts.push(`production entre ${fmt.number(production[0])} et ${fmt.kwhPerYear(production[1])}`);
  const savings = lowHigh(uncertainty.annual_savings_eur);
  if (savings) parts.push(`économie entre ${fmt.number(savings[0])} et ${fmt.eurosPerYear(savings[1])}`);
  const payback = uncertainty.payback_years;
  const reached = lowHigh(payback);
  if (reached) {
    parts.push(`remboursement entre ${fmt.number(reached[0], 1)} et ${fmt.years(reached[1])}`);
  } else if (payback.p10 !== null || payback.p90 !== null) {
    parts.push(`remboursement en ${fmt.years(payback.p10 ?? payback.p90)} au mieux, peut-être pas en ${horizon} ans`);
  }
  if (!parts.length) return "";
  const causes =
    uncertainty.consumption_sd === 0
      ? "la météo des années à venir et les marges du calcul"
      : "la météo des années à venir, votre consommation réelle et les marges du calcul";
  return `Fourchette probable (8 chances sur 10, selon ${causes}) : ${parts.join(" ; ")}.`;
}

function sizingAdvice(sizing, years, current) {
  const container = byId("sizing-advice");
  const items = [];
  const option = (text, size) => {
    const item = document.createElement("li");
    item.append(document.createTextNode(text));
    if (size && size.n_modules > 0 && size.n_modules !== current) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "link-button";
      button.dataset.modules = String(size.n_modules);
      button.textContent = `Essayer ${fmt.modules(size.n_modules)}`;
      item.append(" ", button);
    }
    items.push(item);
  };
  const best = sizing.best_npv;
  if (best.n_modules > 0) {
    option(`Le meilleur gain sur ${years} ans : ${fmt.modules(best.n_modules)} (${fmt.kwc(best.kwc)}).`, best);
  } else {
    option(`Aux tarifs actuels, aucune taille d'installation n'est remboursée en ${years} ans sur ce toit.`, null);
  }
  const mostly = sizing.largest_mostly_self_consumed;
  if (mostly) {
    option(
      `Jusqu'à ${fmt.modules(mostly.n_modules)}, vous consommez vous-même au moins ${fmt.percent(sizing.self_consumption_target)} de la production ; au-delà, l'électricité des panneaux ajoutés serait surtout vendue, à bas prix.`,
      mostly,
    );
  }
  const covering = sizing.smallest_for_self_sufficiency;
  if (covering) {
    option(
      `Pour couvrir ${fmt.percent(sizing.self_sufficiency_target)} de votre consommation, il faut au moins ${fmt.modules(covering.n_modules)}.`,
      covering,
    );
  }
  const title = document.createElement("p");
  title.className = "advice-title";
  title.textContent = "Quelle taille choisir ?";
  const list = document.createElement("ul");
  list.append(...items);
  container.replaceChildren(title, list);
}

function tariffs(economics) {
  const used = economics.tariffs;
  byId("tariffs").textContent =
    `Tarifs en vigueur au ${fmt.longDate(used.tariff_date)} : électricité achetée ${fmt.number(used.electricity_eur_kwh, 4)} €/kWh, ` +
    `surplus vendu ${fmt.number(used.surplus_eur_kwh, 4)} €/kWh, prime à l'autoconsommation ${fmt.number(used.prime_eur_kwc)} €/kWc. ` +
    `Montants toutes taxes comprises ; calcul sur ${economics.years} ans.`;
  const stale = byId("tariffs-stale");
  stale.hidden = !economics.tariffs_stale;
  stale.textContent = economics.tariffs_stale
    ? `Attention : notre grille de tarifs s'arrête avant le ${fmt.longDate(used.tariff_date)}. Les derniers tarifs connus sont utilisés ; ils ont pu changer depuis.`
    : "";
}

function linkyInfo(linky) {
  const box = byId("linky-info");
  box.hidden = !linky;
  if (!linky) return;
  const start = fmt.longDate(linky.start.slice(0, 10));
  const end = fmt.longDate(linky.end.slice(0, 10));
  let text = `Votre courbe Linky : ${fmt.number(linky.measured_kwh)} kWh mesurés du ${start} au ${end}.`;
  if (linky.filled_hours > 0) {
    text += ` ${fmt.number(linky.filled_hours)} heures de l'année manquaient : elles ont été complétées par le profil type d'Enedis.`;
  }
  box.textContent = text;
}

function waterHeater(option) {
  const box = byId("water-heater-option");
  box.hidden = !option;
  if (!option) return;
  const title = document.createElement("p");
  title.className = "advice-title";
  title.textContent = "Et un chauffe-eau solaire ?";
  const text = document.createElement("p");
  text.textContent =
    `Pour ${option.persons} ${option.persons > 1 ? "personnes" : "personne"}, ${fmt.number(option.collector_area_m2, 1)} m² de capteurs et un ballon de ${fmt.number(option.tank_l)} litres ` +
    `fourniraient ${fmt.percent(option.solar_fraction)} de l'eau chaude, soit ${fmt.kwhPerYear(option.heat_saved_kwh_yr)} de moins pour un chauffe-eau électrique.`;
  box.replaceChildren(title, text);
}

/** Fill the simulation result with a SimulationResult. */
export function renderSimulation(result) {
  const economics = result.economics;
  byId("sim-size").textContent = `${fmt.modules(result.n_modules)}, ${fmt.kwc(result.kwc)}${result.battery_kwh > 0 ? `, batterie de ${fmt.number(result.battery_kwh, 1)} kWh` : ""}`;
  byId("self-consumption-rate").textContent = fmt.percent(result.self_consumption_rate);
  byId("self-sufficiency-rate").textContent = fmt.percent(result.self_sufficiency_rate);
  byId("annual-savings").textContent = fmt.eurosPerYear(economics.annual_savings_eur);
  byId("surplus-revenue").textContent = fmt.eurosPerYear(economics.surplus_revenue_eur_yr);
  const detail = document.createElement("span");
  detail.className = "figure-note";
  detail.textContent = `${fmt.euros(economics.capex_eur)} moins ${fmt.euros(economics.prime_eur)} de prime`;
  byId("net-cost").replaceChildren(fmt.euros(economics.capex_eur - economics.prime_eur), detail);
  byId("payback-years").textContent =
    economics.payback_years === null ? `Pas en ${economics.years} ans` : fmt.years(economics.payback_years);
  byId("npv-label").textContent = `Gain sur ${economics.years} ans (valeur actuelle)`;
  const npv = byId("npv");
  npv.textContent = fmt.euros(economics.npv_eur);
  if (economics.npv_eur < 0) {
    const loss = document.createElement("span");
    loss.className = "figure-note";
    loss.textContent = "une perte : l'installation coûterait plus qu'elle ne rapporte";
    npv.append(loss);
  }
  byId("co2").textContent = `${fmt.number(economics.co2_avoided_kg_yr)} kg par an`;
  byId("band").textContent = bandWords(result.uncertainty, economics.years);
  sizingAdvice(result.sizing, economics.years, result.n_modules);
  tariffs(economics);
  linkyInfo(result.linky);
  waterHeater(result.solar_water_heater);
  const box = byId("simulation-result");
  box.hidden = false;
  box.scrollIntoView({ block: "nearest" });
}
