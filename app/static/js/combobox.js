// The address box, after the WAI-ARIA 1.2 combobox pattern with a listbox popup
// (https://www.w3.org/WAI/ARIA/apg/patterns/combobox/): the focus stays in the input,
// the arrows move aria-activedescendant over the options, Enter chooses, Escape closes.

import { getJson } from "./api.js";

const DEBOUNCE_MS = 120;
const LIMIT = 8;

export class AddressCombobox {
  /**
   * @param {HTMLInputElement} input  role=combobox
   * @param {HTMLUListElement} listbox  role=listbox
   * @param {HTMLElement} status  a polite live region announcing the number of suggestions
   * @param {(hit: object) => void} onChoose  called with the chosen AddressHit
   */
  constructor(input, listbox, status, onChoose) {
    this.input = input;
    this.listbox = listbox;
    this.status = status;
    this.onChoose = onChoose;
    this.hits = [];
    this.active = -1;
    this.timer = null;
    this.request = null;
    input.addEventListener("input", () => this.schedule());
    input.addEventListener("keydown", (event) => this.keydown(event));
    input.addEventListener("blur", () => {
      // a click on an option blurs the input first: let the click land before closing
      setTimeout(() => this.close(), 150);
    });
    listbox.addEventListener("mousedown", (event) => event.preventDefault());
    listbox.addEventListener("click", (event) => {
      const option = event.target.closest("[role=option]");
      if (option) this.choose(Number(option.dataset.index));
    });
  }

  schedule() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.search(), DEBOUNCE_MS);
  }

  async search() {
    const text = this.input.value.trim();
    this.request?.abort();
    if (!text) {
      this.show([]);
      return;
    }
    const request = new AbortController();
    this.request = request;
    try {
      const { results } = await getJson(
        `/api/v1/addresses?q=${encodeURIComponent(text)}&limit=${LIMIT}`,
        { signal: request.signal },
      );
      if (this.request === request) this.show(results);
    } catch (error) {
      if (error.name === "AbortError") return;
      this.show([]);
      this.status.textContent = "La recherche d'adresse ne répond pas. Réessayez dans un instant.";
    }
  }

  show(hits) {
    this.hits = hits;
    this.active = -1;
    this.input.removeAttribute("aria-activedescendant");
    this.listbox.replaceChildren(
      ...hits.map((hit, index) => {
        const option = document.createElement("li");
        option.id = `suggestion-${index}`;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.dataset.index = String(index);
        option.textContent = hit.label;
        return option;
      }),
    );
    const open = hits.length > 0;
    this.listbox.hidden = !open;
    this.input.setAttribute("aria-expanded", String(open));
    if (this.input.value.trim()) {
      this.status.textContent = open
        ? `${hits.length} ${hits.length === 1 ? "adresse trouvée" : "adresses trouvées"}`
        : "Aucune adresse trouvée. Vérifiez la commune, ou cliquez sur votre toit sur la carte.";
    }
  }

  close() {
    this.listbox.hidden = true;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
    this.active = -1;
  }

  highlight(index) {
    const options = this.listbox.querySelectorAll("[role=option]");
    options.forEach((option, i) => option.setAttribute("aria-selected", String(i === index)));
    this.active = index;
    if (index < 0) {
      this.input.removeAttribute("aria-activedescendant");
      return;
    }
    this.input.setAttribute("aria-activedescendant", options[index].id);
    options[index].scrollIntoView({ block: "nearest" });
  }

  keydown(event) {
    const open = !this.listbox.hidden && this.hits.length > 0;
    switch (event.key) {
      case "ArrowDown":
        event.preventDefault();
        if (!open) {
          if (this.hits.length) this.show(this.hits);
          else this.search();
          return;
        }
        this.highlight((this.active + 1) % this.hits.length);
        break;
      case "ArrowUp":
        event.preventDefault();
        if (open) this.highlight(this.active <= 0 ? this.hits.length - 1 : this.active - 1);
        break;
      case "Enter":
        event.preventDefault();
        if (open) this.choose(this.active >= 0 ? this.active : 0);
        break;
      case "Escape":
        if (open) {
          event.preventDefault();
          this.close();
        } else if (this.input.value) {
          event.preventDefault();
          this.input.value = "";
          this.show([]);
        }
        break;
      default:
        break;
    }
  }

  choose(index) {
    const hit = this.hits[index];
    if (!hit) return;
    this.input.value = hit.label;
    this.close();
    this.onChoose(hit);
  }
}
