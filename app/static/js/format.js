// French formatting of the figures shown to residents: "35,7 kWc", "32 540 kWh/an".

const formatters = new Map();

function formatter(digits) {
  if (!formatters.has(digits)) {
    formatters.set(
      digits,
      new Intl.NumberFormat("fr-FR", { minimumFractionDigits: digits, maximumFractionDigits: digits }),
    );
  }
  return formatters.get(digits);
}

/** A number with `digits` decimals in French, or a dash when there is none. */
export function number(value, digits = 0) {
  if (value === null || value === undefined || !Number.isFinite(Number(value))) return "–";
  return formatter(digits).format(Number(value));
}

export const kwc = (value) => `${number(value, 1)} kWc`;
export const kwhPerYear = (value) => `${number(value)} kWh/an`;
export const euros = (value) => `${number(value)} €`;
export const eurosPerYear = (value) => `${number(value)} €/an`;
/** A fraction [0–1] as a whole percentage. */
export const percent = (fraction) => `${number(fraction === null || fraction === undefined ? null : fraction * 100)} %`;
export const degrees = (value) => `${number(value)}°`;

/** Years with one decimal, "9,5 ans"; singular below two. */
export function years(value) {
  if (value === null || value === undefined) return "–";
  return `${number(value, 1)} ${value < 2 ? "an" : "ans"}`;
}

/** "12 panneaux", "1 panneau". */
export const modules = (count) => `${number(count)} ${count === 1 ? "panneau" : "panneaux"}`;

/** An ISO date (YYYY-MM-DD) as "15 juin 2025". */
export function longDate(iso) {
  const [year, month, day] = iso.split("-").map(Number);
  return new Intl.DateTimeFormat("fr-FR", { dateStyle: "long", timeZone: "UTC" }).format(
    new Date(Date.UTC(year, month - 1, day)),
  );
}

export const MONTHS = ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."];
