"""Reading a commune's list of buildings (CSV or XLSX) into portfolio entries, row by row.

The file is what a town hall has at hand: an export of its own inventory, saved by Excel
(Windows-1252 or UTF-8, with or without BOM, ``;`` or ``,`` or tab), or the workbook
itself. Its first row names the columns; names are read without accents nor case, and
several usual spellings are understood (:data:`COLUMNS`). Each row gives its building
by id, by BAN address (found with the service's address index, in the commune), or by
coordinates (WGS84 longitude and latitude); the other columns are optional.

Every row is checked and reported (:class:`RowResult`): the building it found, or why
none; the values refused. Nothing is written here: the caller writes all the entries in
one transaction, or none.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from solar.addresses import ABBREVIATIONS, STOPWORDS, AddressIndex, edit_distance, tokenize
from solar.cadastre import BuildingRecord, Cadastre
from solar.communes.portfolio import REASONS, STATUSES, USAGES
from solar.errors import InputError, NotFound
from solar.text import fold

#: Rows read at most from one file: a commune has a few hundred buildings at most.
MAX_ROWS = 20_000

#: Folded column names → the field they fill.
COLUMNS: Mapping[str, str] = {
    **dict.fromkeys(
        ("building_id", "batiment", "id_batiment", "identifiant", "identifiant_batiment", "id"),
        "building_id",
    ),
    "cleabs": "building_id",
    **dict.fromkeys(("adresse", "address", "adresse_ban", "label"), "address"),
    **dict.fromkeys(("lon", "longitude", "lng"), "lon"),
    **dict.fromkeys(("lat", "latitude"), "lat"),
    **dict.fromkeys(("statut", "status", "etat"), "status"),
    **dict.fromkeys(("motif", "raison", "reason", "motif_ecart"), "reason"),
    **dict.fromkeys(("usage", "affectation", "type"), "usage"),
    **dict.fromkeys(
        (
            "consommation",
            "consommation_kwh",
            "consommation_annuelle",
            "consommation_annuelle_kwh",
            "conso_kwh",
            "annual_consumption_kwh",
        ),
        "annual_consumption_kwh",
    ),
    **dict.fromkeys(("note", "notes", "commentaire", "remarque"), "note"),
}

#: Folded values → the code they stand for, beyond the codes themselves.
_VALUE_SYNONYMS: Mapping[str, Mapping[str, str]] = {
    "status": {"etudier": "a_etudier", "retenue": "retenu", "ecartee": "ecarte"},
    "reason": {
        "abf": "patrimoine_abf",
        "patrimoine": "patrimoine_abf",
        "toiture": "etat_toiture",
        "etat_de_la_toiture": "etat_toiture",
        "ombre": "ombrage",
    },
    "usage": {
        "gymnase": "salle_de_sport",
        "eglise_chapelle": "eglise",
        "salle_des_sports": "salle_de_sport",
    },
}
_CODES = {"status": STATUSES, "reason": REASONS, "usage": USAGES}


def _slug(text: str) -> str:
    """Folded, words joined by ``_``: "Salle de sport" → ``salle_de_sport``.

    >>> _slug("  À étudier "), _slug("Consommation (kWh)")
    ('a_etudier', 'consommation_kwh')
    """
    return re.sub(r"[^a-z0-9]+", "_", fold(text)).strip("_")


@dataclass(frozen=True)
class Table:
    """The rows of an imported file, as text.

    Attributes
    ----------
    fields : tuple of str
        The field of each column (:data:`COLUMNS`), None for a column not understood.
    rows : list of (int, tuple of str)
        Each non-blank row with its number in the file (the header is row 1).
    """

    fields: tuple[str | None, ...]
    rows: list[tuple[int, tuple[str, ...]]]


def _decode(data: bytes) -> str:
    """The text of a CSV file: UTF-8 (BOM or not), UTF-16 with BOM, else Windows-1252 or
    Latin-1; InputError for what is not text."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    if b"\0" in data:
        raise InputError(
            "not a text file: expected a CSV file (UTF-8 or Latin-1) or an XLSX workbook",
            source="file",
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        # five byte values are undefined in Windows-1252; Latin-1 defines them all
        return data.decode("latin-1")


def _cell_text(value: Any) -> str:
    """A spreadsheet cell as text: whole numbers without ``.0`` (ids typed as numbers)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    text = _decode(data)
    lines = text.splitlines()
    header = next((line for line in lines if line.strip()), "")
    # the separator is the one the header uses most: French Excel writes ';'
    delimiter = max(";\t,", key=header.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for row in reader:
            yield reader.line_num, [cell.strip() for cell in row]
    except csv.Error as exc:
        raise InputError(f"malformed CSV ({exc})", source="file", line=reader.line_num) from None


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InputError(f"not a readable XLSX workbook ({exc})", source="file") from None
    try:
        sheet = workbook.worksheets[0]
        for number, values in enumerate(sheet.iter_rows(values_only=True), 1):
            yield number, [_cell_text(v) for v in values]
    finally:
        workbook.close()


def read_table(data: bytes) -> Table:
    """The header and rows of a CSV or XLSX file.

    Raises
    ------
    solar.errors.InputError
        For an empty file, a file that is neither, no header, a header naming none of the
        ways to find a building, or more than :data:`MAX_ROWS` rows.
    """
    if not data.strip():
        raise InputError("the file is empty", source="file")
    rows_of = _xlsx_rows if data.startswith(b"PK\x03\x04") else _csv_rows
    header: tuple[str | None, ...] | None = None
    rows: list[tuple[int, tuple[str, ...]]] = []
    for number, cells in rows_of(data):
        if not any(cells):
            continue
        if header is None:
            header = tuple(COLUMNS.get(_slug(c)) for c in cells)
            continue
        if len(rows) >= MAX_ROWS:
            raise InputError(f"more than {MAX_ROWS} rows", source="file", line=number)
        rows.append((number, tuple(cells)))
    if header is None:
        raise InputError("the file is empty", source="file")
    named = set(header)
    if not ({"building_id", "address"} & named or {"lon", "lat"} <= named):
        raise InputError(
            "no column gives the building: expected 'batiment' (the cadastre's building "
            "id), 'adresse' (a BAN address), or 'longitude' and 'latitude'",
            source="file",
            line=1,
        )
    for field in named - {None}:
        if header.count(field) > 1:
            raise InputError(f"several columns give {field}", source="file", line=1)
    if not rows:
        raise InputError("the file has a header but no row", source="file")
    return Table(header, rows)


@dataclass(frozen=True)
class RowResult:
    """One row checked.

    Attributes
    ----------
    row : int
        Its number in the file (the header is row 1).
    building_id : str or None
        The building found, None when none was.
    address : str or None
        The BAN address matched, for a row by address.
    values : dict
        The portfolio fields read (status, reason, usage, annual_consumption_kwh, note).
    reason : str or None
        Why the row is refused, in French; None when it is accepted.
    """

    row: int
    building_id: str | None
    address: str | None
    values: dict[str, Any]
    reason: str | None

    @property
    def matched(self) -> bool:
        return self.reason is None


class _Refused(Exception):
    """A row refused, with the reason reported to the commune (French)."""


def _code(field: str, text: str) -> str | None:
    if not text:
        return None
    slug = _slug(text)
    code = _VALUE_SYNONYMS[field].get(slug, slug)
    if code not in _CODES[field]:
        names = {"status": "statut", "reason": "motif", "usage": "usage"}
        raise _Refused(f"{names[field]} inconnu « {text} » (attendu : {', '.join(_CODES[field])})")
    return code


def _number(text: str, what: str) -> float | None:
    if not text:
        return None
    try:
        value = float(re.sub(r"[\s\u00a0\u202f]", "", text).replace(",", "."))
    except ValueError:
        raise _Refused(f"{what} illisible « {text} »") from None
    if not math.isfinite(value):
        raise _Refused(f"{what} illisible « {text} »")
    return value


def _values(cells: Mapping[str, str]) -> dict[str, Any]:
    status = _code("status", cells.get("status", "")) or "a_etudier"
    reason = _code("reason", cells.get("reason", ""))
    if reason is not None and status != "ecarte":
        raise _Refused("un motif n'est donné qu'à un bâtiment écarté")
    consumption = _number(cells.get("annual_consumption_kwh", ""), "consommation")
    if consumption is not None and not 0 <= consumption <= 1e9:
        raise _Refused(f"consommation hors bornes « {cells['annual_consumption_kwh']} »")
    note = cells.get("note") or None
    if note is not None and len(note) > 2000:
        raise _Refused("note de plus de 2000 caractères")
    return {
        "status": status,
        "reason": reason,
        "usage": _code("usage", cells.get("usage", "")),
        "annual_consumption_kwh": consumption,
        "note": note,
    }


def _word_matches(word: str, label_words: set[str]) -> bool:
    """Whether a word of a searched address is in a label: as it is, abbreviated, as the
    start of a word, or with the typos the address search forgives."""
    word = ABBREVIATIONS.get(word, word)
    if word in label_words:
        return True
    if word.isdigit():
        return False
    typos = 0 if len(word) < 4 else 1 if len(word) < 8 else 2
    return any(
        w.startswith(word) or (typos and edit_distance(word, w, typos) <= typos)
        for w in label_words
    )


def holds_every_word(text: str, label: str) -> bool:
    """Whether ``label`` holds every word of ``text`` (the address search also returns
    labels holding most of them, which an import must not take for the address).

    >>> holds_every_word("12 av Jean Jaures, Lens", "12 Avenue Jean Jaurès 62300 Lens")
    True
    >>> holds_every_word("12 rue inconnue", "12 Rue Jean Jaurès 62300 Lens")
    False
    """
    label_words = {ABBREVIATIONS.get(w, w) for w in tokenize(label)}
    return all(_word_matches(w, label_words) for w in tokenize(text) if w not in STOPWORDS)


class Matcher:
    """Finds the building of a row in one commune.

    Parameters
    ----------
    insee : str
        The commune.
    cadastre : solar.cadastre.Cadastre
    address_index : solar.addresses.AddressIndex
    to_projected : callable
        ``(lon, lat) -> (x, y)`` into the cadastre's CRS.
    """

    def __init__(
        self,
        insee: str,
        cadastre: Cadastre,
        address_index: AddressIndex,
        to_projected: Callable[[float, float], tuple[float, float]],
    ):
        self.insee = insee
        self.cadastre = cadastre
        self.address_index = address_index
        self.to_projected = to_projected

    def _in_commune(self, building: BuildingRecord | None, what: str) -> str:
        if building is None:
            raise _Refused(f"aucun bâtiment {what}")
        if building.commune_insee != self.insee:
            raise _Refused(f"le bâtiment {building.building_id} est hors de la commune")
        return building.building_id

    def by_id(self, building_id: str) -> str:
        try:
            building = self.cadastre.building(building_id)
        except NotFound:
            raise _Refused(f"bâtiment inconnu « {building_id} »") from None
        return self._in_commune(building, "")

    def by_position(self, lon_text: str, lat_text: str) -> str:
        lon = _number(lon_text, "longitude")
        lat = _number(lat_text, "latitude")
        if lon is None or lat is None:
            raise _Refused("longitude ou latitude manquante")
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise _Refused(
                f"coordonnées hors bornes ({lon}, {lat}) : longitude puis latitude WGS84"
            )
        x, y = self.to_projected(lon, lat)
        if not (math.isfinite(x) and math.isfinite(y)):
            raise _Refused(f"coordonnées hors du territoire ({lon}, {lat})")
        return self._in_commune(self.cadastre.building_at(x, y), f"en ({lon}, {lat})")

    def by_address(self, text: str) -> tuple[str, str]:
        """The building and the BAN label matched; the label must hold every house number
        of the text, so that "12 rue X" never lands on 14."""
        numbers = {t for t in tokenize(text) if t.isdigit()}
        for hit in self.address_index.search(text, limit=5):
            record = hit.address
            if record.get("code_insee") != self.insee:
                continue
            if not numbers <= set(tokenize(str(record["label"]))):
                continue
            if not holds_every_word(text, str(record["label"])):
                continue
            if record.get("building_id") is None:
                raise _Refused(f"aucun bâtiment sous l'adresse « {record['label']} »")
            return str(record["building_id"]), str(record["label"])
        raise _Refused(f"adresse introuvable dans la commune « {text} »")

    def check(self, table: Table) -> list[RowResult]:
        """Every row of ``table`` checked; a building given by two rows is refused at the
        second."""
        results = []
        first_row: dict[str, int] = {}
        for number, cells in table.rows:
            named = {f: c for f, c in zip(table.fields, cells, strict=False) if f is not None}
            building_id = address = None
            try:
                if named.get("building_id"):
                    building_id = self.by_id(named["building_id"])
                elif named.get("lon") or named.get("lat"):
                    building_id = self.by_position(named.get("lon", ""), named.get("lat", ""))
                elif named.get("address"):
                    building_id, address = self.by_address(named["address"])
                else:
                    raise _Refused("ni bâtiment, ni adresse, ni coordonnées")
                values = _values(named)
                if building_id in first_row:
                    raise _Refused(f"même bâtiment que la ligne {first_row[building_id]}")
                first_row[building_id] = number
            except _Refused as refused:
                results.append(RowResult(number, building_id, address, {}, str(refused)))
                continue
            results.append(RowResult(number, building_id, address, values, None))
        return results
