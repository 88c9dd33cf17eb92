"""Addresses: the BAN file, demo addresses, the link to buildings, and the search index.

The Base Adresse Nationale (BAN) publishes one CSV per département, ``;``-separated and
UTF-8, often gzipped (``adresses-62.csv.gz`` for the Pas-de-Calais), with the columns of
``BAN_COLUMNS`` (https://adresse.data.gouv.fr/donnees-nationales, "format CSV adresses").
Its ``lon``/``lat`` are WGS84; they are reprojected here into the cadastre's projected CRS.

The search index is a compact in-memory structure: word → address postings in one array,
a sorted vocabulary for prefix look-ups, and a symmetric-deletion table (SymSpell, Garbe
2012) for typos; it holds no record, and reads the records of its hits when it returns
them. A search touches only the postings of the words it matches.
"""

from __future__ import annotations

import bisect
import csv
import gzip
import io
import math
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pyproj
import shapely

from solar.cadastre import ADDRESS_FIELDS, GeoTable
from solar.errors import InputError
from solar.footprints import Footprint
from solar.text import fold

#: Columns of the BAN "adresses" CSV, in file order.
BAN_COLUMNS = (
    "id",
    "id_fantoir",
    "numero",
    "rep",
    "nom_voie",
    "code_postal",
    "code_insee",
    "nom_commune",
    "code_insee_ancienne_commune",
    "nom_ancienne_commune",
    "x",
    "y",
    "lon",
    "lat",
    "type_position",
    "alias",
    "nom_ld",
    "libelle_acheminement",
    "nom_afnor",
    "source_position",
    "source_nom_voie",
    "certification_commune",
    "cad_parcelles",
)
#: The columns this module reads; the others may be empty.
REQUIRED_COLUMNS = (
    "id",
    "numero",
    "rep",
    "nom_voie",
    "code_postal",
    "code_insee",
    "nom_commune",
    "lon",
    "lat",
)

#: Prefix of every generated address id, so demo data can never pass for BAN data.
DEMO_ID_PREFIX = "demo_"
#: Value of ``source_position`` and ``source_nom_voie`` in generated rows.
DEMO_SOURCE = "demo"

WGS84 = "EPSG:4326"
#: The BAN's own ``x``/``y`` are Lambert-93 in metropolitan France.
LAMBERT93 = "EPSG:2154"


@dataclass(frozen=True)
class Address:
    """One address point.

    Attributes
    ----------
    address_id : str
        The BAN id, e.g. ``"62498_0540_00012_bis"``; generated ids start with ``"demo_"``.
    label : str
        Full label, e.g. ``"12 bis Rue Jean Jaurès 62300 Lens"``.
    numero : int
        House number.
    rep : str
        Repetition index (``"bis"``, ``"ter"``, ``"a"``…), empty when none.
    nom_voie, code_postal, code_insee, nom_commune : str
        Street name, postcode, INSEE code and name of the commune.
    x, y : float
        Position in the cadastre's projected CRS. [m]
    lon, lat : float
        Position in WGS84. [°]
    """

    address_id: str
    label: str
    numero: int
    rep: str
    nom_voie: str
    code_postal: str
    code_insee: str
    nom_commune: str
    x: float
    y: float
    lon: float
    lat: float


def make_label(numero: int, rep: str, nom_voie: str, code_postal: str, nom_commune: str) -> str:
    """The address label, as the BAN writes it.

    Examples
    --------
    >>> make_label(12, "bis", "Rue Jean Jaurès", "62300", "Lens")
    '12 bis Rue Jean Jaurès 62300 Lens'
    """
    number = f"{numero} {rep}" if rep else str(numero)
    return " ".join(p for p in (number, nom_voie, code_postal, nom_commune) if p)


def _open_text(path: Path) -> io.TextIOBase:
    with path.open("rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
    if gzipped:
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return path.open("r", encoding="utf-8", newline="")


def _transformer(src: Any, dst: Any) -> pyproj.Transformer:
    return pyproj.Transformer.from_crs(
        pyproj.CRS.from_user_input(src), pyproj.CRS.from_user_input(dst), always_xy=True
    )


def read_ban(
    path: str | os.PathLike[str],
    *,
    target_crs: Any,
    bounds: tuple[float, float, float, float] | None = None,
) -> tuple[Address, ...]:
    """Read a BAN "adresses" CSV (plain or gzipped) and project it into ``target_crs``.

    The file is read as a stream, line by line through the gzip decoder: with ``bounds``,
    memory holds only the addresses inside them, whatever the size of the file (the
    Pas-de-Calais has about 700,000). A row outside them is checked for its coordinates
    only.

    Parameters
    ----------
    path : path-like
        The CSV, ``;``-separated, UTF-8, with a header line naming at least the
        ``REQUIRED_COLUMNS``.
    target_crs : str, rasterio.crs.CRS or pyproj.CRS
        The cadastre's projected CRS.
    bounds : tuple of float, optional
        (xmin, ymin, xmax, ymax) in ``target_crs``: keep the addresses inside them only.
        [m]

    Returns
    -------
    tuple of Address
        In file order; empty when none lies inside ``bounds``.

    Raises
    ------
    InputError
        With the file and the line: a missing column, a row with the wrong number of
        fields, a number that does not parse, a coordinate out of range, a duplicate id.
    """
    source = str(path)
    try:
        stream = _open_text(Path(path))
    except OSError as exc:
        raise InputError(f"cannot read the address file ({exc.strerror})", source=source) from exc
    rows: list[tuple[str, int, str, str, str, str, str]] = []
    lons: list[float] = []
    lats: list[float] = []
    line_of_id: dict[str, int] = {}
    inside = _lon_lat_filter(target_crs, bounds)
    seen = False
    try:
        with stream:
            reader = csv.reader(stream, delimiter=";")
            header = next(reader, None)
            if header is None:
                raise InputError("empty file: expected a BAN header line", source=source, line=1)
            header = [h.strip().lstrip("\ufeff") for h in header]
            missing = [c for c in REQUIRED_COLUMNS if c not in header]
            if missing:
                raise InputError(
                    f"missing column(s) {', '.join(missing)}: not a BAN addresses file "
                    f"(expected the ';'-separated columns {', '.join(BAN_COLUMNS)})",
                    source=source,
                    line=1,
                )
            col = {c: header.index(c) for c in REQUIRED_COLUMNS}
            for fields in reader:
                line = reader.line_num
                if not fields:
                    continue
                seen = True
                if len(fields) != len(header):
                    raise InputError(
                        f"expected {len(header)} ';'-separated fields, got {len(fields)}",
                        source=source,
                        line=line,
                    )
                lon = _parse_coordinate(fields[col["lon"]], "lon", 180.0, source, line)
                lat = _parse_coordinate(fields[col["lat"]], "lat", 90.0, source, line)
                if not inside(lon, lat):
                    continue
                address_id = fields[col["id"]].strip()
                if not address_id:
                    raise InputError("column 'id': empty", source=source, line=line)
                if address_id in line_of_id:
                    raise InputError(
                        f"column 'id': {address_id!r} already on line {line_of_id[address_id]}",
                        source=source,
                        line=line,
                    )
                line_of_id[address_id] = line
                numero = _parse_int(fields[col["numero"]], "numero", source, line)
                rows.append(
                    (
                        address_id,
                        numero,
                        fields[col["rep"]].strip(),
                        fields[col["nom_voie"]].strip(),
                        fields[col["code_postal"]].strip(),
                        fields[col["code_insee"]].strip(),
                        fields[col["nom_commune"]].strip(),
                    )
                )
                lons.append(lon)
                lats.append(lat)
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason})", source=source) from exc
    except (gzip.BadGzipFile, EOFError) as exc:
        raise InputError(f"corrupt gzip stream ({exc})", source=source) from exc
    except csv.Error as exc:
        raise InputError(f"malformed CSV ({exc})", source=source) from exc
    if not seen:
        raise InputError("no address in the file", source=source)
    if not rows:
        return ()
    xs, ys = _transformer(WGS84, target_crs).transform(np.array(lons), np.array(lats))
    bad = np.flatnonzero(~(np.isfinite(xs) & np.isfinite(ys)))
    if len(bad):
        raise InputError(
            "column 'lon'/'lat': the point falls outside the cadastre's CRS",
            source=source,
            line=line_of_id[rows[int(bad[0])][0]],
        )
    if bounds is not None:
        xmin, ymin, xmax, ymax = bounds
        keep = (xs >= xmin) & (xs <= xmax) & (ys >= ymin) & (ys <= ymax)
    else:
        keep = np.ones(len(rows), dtype=bool)
    return tuple(
        Address(
            address_id=r[0],
            label=make_label(r[1], r[2], r[3], r[4], r[6]),
            numero=r[1],
            rep=r[2],
            nom_voie=r[3],
            code_postal=r[4],
            code_insee=r[5],
            nom_commune=r[6],
            x=float(x),
            y=float(y),
            lon=lon,
            lat=lat,
        )
        for r, x, y, lon, lat, kept in zip(rows, xs, ys, lons, lats, keep, strict=True)
        if kept
    )


LON_LAT_MARGIN = 1e-3
"""Margin of the longitude-latitude box that pre-selects the rows while reading, about
100 m: the exact test is made in the target CRS once the kept rows are projected. [°]"""


def _lon_lat_filter(
    target_crs: Any, bounds: tuple[float, float, float, float] | None
) -> Callable[[float, float], bool]:
    """Whether a WGS84 point may fall inside ``bounds`` (in ``target_crs``); always true
    without bounds."""
    if bounds is None:
        return lambda lon, lat: True
    west, south, east, north = _transformer(target_crs, WGS84).transform_bounds(
        *bounds, densify_pts=21
    )
    west, south = west - LON_LAT_MARGIN, south - LON_LAT_MARGIN
    east, north = east + LON_LAT_MARGIN, north + LON_LAT_MARGIN
    return lambda lon, lat: west <= lon <= east and south <= lat <= north


def _parse_int(text: str, column: str, source: str, line: int) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise InputError(
            f"column {column!r}: not an integer: {text!r}", source=source, line=line
        ) from None


def _parse_coordinate(text: str, column: str, bound: float, source: str, line: int) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise InputError(
            f"column {column!r}: not a number: {text!r}", source=source, line=line
        ) from None
    if not (math.isfinite(value) and -bound <= value <= bound):
        raise InputError(
            f"column {column!r}: {value} is outside [-{bound:g}, {bound:g}] degrees",
            source=source,
            line=line,
        )
    return value


def write_ban_csv(addresses: Sequence[Address], path: str | os.PathLike[str]) -> Path:
    """Write addresses in the BAN layout, gzipped when ``path`` ends with ``.gz``.

    ``x`` and ``y`` are written in Lambert-93, as in the BAN; :func:`read_ban` ignores
    them and reprojects ``lon``/``lat``. The file appears only once complete.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    xs, ys = _transformer(WGS84, LAMBERT93).transform(
        np.array([a.lon for a in addresses]), np.array([a.lat for a in addresses])
    )
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as raw:
            binary: Any = (
                gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) if target.suffix == ".gz" else raw
            )
            with io.TextIOWrapper(binary, encoding="utf-8", newline="") as text:
                writer = csv.writer(text, delimiter=";", lineterminator="\n")
                writer.writerow(BAN_COLUMNS)
                for a, x, y in zip(addresses, xs, ys, strict=True):
                    demo = a.address_id.startswith(DEMO_ID_PREFIX)
                    row = {
                        "id": a.address_id,
                        "numero": a.numero,
                        "rep": a.rep,
                        "nom_voie": a.nom_voie,
                        "code_postal": a.code_postal,
                        "code_insee": a.code_insee,
                        "nom_commune": a.nom_commune,
                        "x": f"{x:.2f}",
                        "y": f"{y:.2f}",
                        # 1e-9° is 0.1 mm: read_ban gets back the same point
                        "lon": f"{a.lon:.9f}",
                        "lat": f"{a.lat:.9f}",
                        "type_position": "bâtiment" if demo else "entrée",
                        "libelle_acheminement": a.nom_commune.upper(),
                        "nom_afnor": fold(a.nom_voie).upper(),
                        "source_position": DEMO_SOURCE if demo else "",
                        "source_nom_voie": DEMO_SOURCE if demo else "",
                        "certification_commune": "0",
                    }
                    writer.writerow([row.get(c, "") for c in BAN_COLUMNS])
        os.replace(tmp_name, target)
    except BaseException:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
        raise
    return target


def link_addresses(
    addresses: Sequence[Address], footprints: Sequence[Footprint]
) -> list[str | None]:
    """The building under each address point.

    A point on a footprint's boundary counts as inside. When footprints overlap, the
    first one in ``footprints`` wins, so the result does not depend on the tree's order.

    Returns
    -------
    list of str or None
        One building id per address, None where no footprint holds the point.
    """
    if not addresses:
        return []
    points = shapely.points([a.x for a in addresses], [a.y for a in addresses])
    out: list[str | None] = [None] * len(addresses)
    if not footprints:
        return out
    tree = shapely.STRtree([f.geometry for f in footprints])
    point_idx, footprint_idx = tree.query(points, predicate="intersects")
    best: dict[int, int] = {}
    for p, f in zip(point_idx.tolist(), footprint_idx.tolist(), strict=True):
        if p not in best or f < best[p]:
            best[p] = f
    for p, f in best.items():
        out[p] = footprints[f].building_id
    return out


def address_layer(
    addresses: Sequence[Address],
    building_ids: Sequence[str | None],
    part_ids: Sequence[str | None] | None = None,
) -> GeoTable:
    """The cadastre's ``addresses`` layer (``ADDRESS_FIELDS``), from addresses and links.

    ``part_ids`` gives each address its dwelling's part (:mod:`solar.dwellings`), None
    throughout by default.
    """
    columns: dict[str, list[Any]] = {
        "address_id": [a.address_id for a in addresses],
        "label": [a.label for a in addresses],
        "numero": [a.numero for a in addresses],
        "nom_voie": [a.nom_voie for a in addresses],
        "code_postal": [a.code_postal for a in addresses],
        "code_insee": [a.code_insee for a in addresses],
        "nom_commune": [a.nom_commune for a in addresses],
        "building_id": list(building_ids),
        "part_id": list(part_ids) if part_ids is not None else [None] * len(addresses),
    }
    fields = {
        name: np.asarray(columns[name], dtype=np.int64 if name == "numero" else object)
        for name in ADDRESS_FIELDS
    }
    geometry = shapely.points([a.x for a in addresses], [a.y for a in addresses])
    return GeoTable(geometry=np.asarray(geometry), fields=fields, geometry_type="Point")


#: Street names of the demo addresses: accents, saints and the street types that residents
#: abbreviate ("av", "bd", "st", "pl", "ch", "imp", "all"), so that every search feature shows.
DEMO_STREETS = (
    "Rue Jean Jaurès",
    "Avenue du Maréchal Foch",
    "Boulevard Émile Basly",
    "Rue Saint-Éloi",
    "Rue Sainte-Barbe",
    "Place de la République",
    "Chemin des Prés",
    "Impasse des Hêtres",
    "Allée des Mésanges",
    "Rue de l'Église",
    "Avenue Raoul Briquet",
    "Rue Léon Blum",
    "Boulevard des Écoles",
    "Rue du Général de Gaulle",
    "Route de Béthune",
    "Rue François Mitterrand",
    "Avenue de la Fosse 11",
    "Rue Émile Zola",
    "Rue Saint-Pierre",
    "Place du 8 Mai 1945",
    "Allée des Peupliers",
    "Boulevard du Président Kennedy",
    "Rue Pasteur",
    "Chemin de la Croisette",
)


def demo_addresses(
    footprints: Sequence[Footprint],
    crs: Any,
    *,
    commune_insee: str,
    nom_commune: str,
    code_postal: str,
    seed: int = 0,
) -> tuple[Address, ...]:
    """Generate one demo address per building, at a point inside its footprint.

    The real samples carry no address, so the demo needs made-up ones. Every id starts
    with ``DEMO_ID_PREFIX`` (``"demo_62498_0003_00007_bis"``) and :func:`write_ban_csv`
    marks the rows with ``source_position = "demo"``: they can never pass for BAN data.
    Buildings are walked row by row (north to south, then west to east) and cut into
    streets of 4 to 12 buildings, numbered 1, 3, 5… with a few "bis".

    Parameters
    ----------
    footprints : sequence of Footprint
        In the cadastre's projected CRS.
    crs : str, rasterio.crs.CRS or pyproj.CRS
        That CRS.
    commune_insee, nom_commune, code_postal : str
        The commune the addresses claim to be in.
    seed : int
        Seed of the street lengths, names and "bis" draws.

    Returns
    -------
    tuple of Address
        One per footprint, in street order.
    """
    if not footprints:
        return ()
    rng = np.random.default_rng(seed)
    points = shapely.point_on_surface([f.geometry for f in footprints])
    xs, ys = shapely.get_x(points), shapely.get_y(points)
    # rows of about 30 m, so that neighbours share a street
    order = np.lexsort((xs, -np.floor(ys / 30.0)))
    lons, lats = _transformer(crs, WGS84).transform(xs, ys)
    streets = list(rng.permutation(len(DEMO_STREETS)))
    out: list[Address] = []
    street_no = 0
    position = 0
    while position < len(order):
        length = int(rng.integers(4, 13))
        members = order[position : position + length]
        position += length
        nom_voie = DEMO_STREETS[streets[street_no % len(streets)]]
        # past the list, names come back as "… Prolongée", so that every street stays distinct
        if street_no >= len(streets):
            nom_voie = f"{nom_voie} Prolongée" + " Prolongée" * (street_no // len(streets) - 1)
        street_no += 1
        numero, rep = -1, ""
        for k, i in enumerate(members):
            if k > 0 and not rep and rng.random() < 0.15:
                rep = "bis"
            else:
                numero, rep = numero + 2, ""
            suffix = f"_{rep}" if rep else ""
            out.append(
                Address(
                    address_id=(
                        f"{DEMO_ID_PREFIX}{commune_insee}_{street_no:04d}_{numero:05d}{suffix}"
                    ),
                    label=make_label(numero, rep, nom_voie, code_postal, nom_commune),
                    numero=numero,
                    rep=rep,
                    nom_voie=nom_voie,
                    code_postal=code_postal,
                    code_insee=commune_insee,
                    nom_commune=nom_commune,
                    x=float(xs[i]),
                    y=float(ys[i]),
                    lon=float(lons[i]),
                    lat=float(lats[i]),
                )
            )
    return tuple(out)


# --- search --------------------------------------------------------------------------------

#: Usual abbreviations of French addresses (the AFNOR NF Z 10-011 short forms and the
#: everyday ones), folded to lower-case ASCII. Applied to the labels and to the query alike.
ABBREVIATIONS = {
    "all": "allee",
    "av": "avenue",
    "ave": "avenue",
    "bd": "boulevard",
    "bld": "boulevard",
    "blvd": "boulevard",
    "bvd": "boulevard",
    "boul": "boulevard",
    "ch": "chemin",
    "che": "chemin",
    "chem": "chemin",
    "cdt": "commandant",
    "crs": "cours",
    "dr": "docteur",
    "fbg": "faubourg",
    "fg": "faubourg",
    "gal": "general",
    "gen": "general",
    "imp": "impasse",
    "lot": "lotissement",
    "mal": "marechal",
    "pl": "place",
    "pdt": "president",
    "prom": "promenade",
    "r": "rue",
    "res": "residence",
    "rte": "route",
    "sq": "square",
    "st": "saint",
    "ste": "sainte",
}
#: Words that a query may leave out ("rue gare" finds "Rue de la Gare").
STOPWORDS = frozenset(
    {"a", "au", "aux", "d", "de", "des", "du", "en", "et", "l", "la", "le", "les"}
)

#: Points per query token, by how it matched a label token; ranks exact > prefix > typo.
EXACT, ABBREVIATED, PREFIX, TYPO_1, TYPO_2 = 300, 290, 200, 150, 100
#: Points taken off per label token, so that "12 Rue X" ranks above "12 bis Rue X".
LENGTH_PENALTY = 1

_TOKEN = re.compile(r"[a-z]+|[0-9]+")


def tokenize(text: str) -> list[str]:
    """Split text into folded tokens; letters and digits apart ("12bis" → "12", "bis").

    Examples
    --------
    >>> tokenize("12bis, Av. du Maréchal-Foch")
    ['12', 'bis', 'av', 'du', 'marechal', 'foch']
    """
    return _TOKEN.findall(fold(text))


def _allowed_typos(token: str) -> int:
    # short words have too many one-letter neighbours for a typo to be told from a word
    if len(token) < 4 or token.isdigit():
        return 0
    return 1 if len(token) < 8 else 2


def _deletions(word: str, depth: int) -> set[str]:
    """Every string obtained by deleting up to ``depth`` characters from ``word``."""
    out = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        out |= frontier
    return out


def edit_distance(a: str, b: str, bound: int) -> int:
    """Optimal string alignment distance (Levenshtein plus adjacent transpositions).

    Returns ``bound + 1`` as soon as the distance is known to exceed ``bound``.

    Examples
    --------
    >>> edit_distance("jaures", "jaurse", 2), edit_distance("jaures", "jaurrs", 2)
    (1, 1)
    """
    if abs(len(a) - len(b)) > bound:
        return bound + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > bound:
            return bound + 1
        previous2, previous = previous, current
    return previous[-1]


def _as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


@dataclass(frozen=True)
class SearchHit:
    """One search result: the address record as given to the index, and its score."""

    address: Mapping[str, Any]
    score: float


class _Tables(NamedTuple):
    """The search index's arrays; addresses are numbered by their position (0 … n-1).

    ``postings[word_start[w]:word_start[w + 1]]`` are the addresses whose label holds
    the word ``w``; ``words`` maps a word to ``w``.
    """

    vocabulary: list[str]
    words: dict[str, int]
    word_start: np.ndarray
    postings: np.ndarray
    length_penalty: np.ndarray
    rank: np.ndarray
    deletes: dict[str, list[str]]


def _csr_gather(ids: np.ndarray, start: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, ...]:
    """For rows ``ids`` of a CSR table, (row number, value) of every value they hold."""
    first = start[ids]
    counts = start[ids + 1] - first
    row = np.repeat(np.arange(len(ids)), counts)
    within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return row, values[np.repeat(first, counts) + within]


def _build_tables(labels: Sequence[str], numeros: Sequence[Any]) -> _Tables:
    """The index of ``labels``.

    Labels share their street and commune: each label is cut at its first space, into
    a house number and the rest, and each distinct part is tokenised once, word by word
    (a space always separates tokens, and :func:`tokenize` works per character), which
    makes the build about ten times cheaper than tokenising every label.
    """
    n = len(labels)
    parts: dict[str, int] = {}
    heads, tails = [], []
    for label in labels:
        head, _, tail = label.partition(" ")
        heads.append(parts.setdefault(head, len(parts)))
        tails.append(parts.setdefault(tail, len(parts)))
    head_of, tail_of = np.asarray(heads, dtype=np.int64), np.asarray(tails, dtype=np.int64)
    words: dict[str, int] = {}
    part_words: list[int] = []
    part_start = [0]
    street_words = []
    tokens_of_word: dict[str, list[str]] = {}
    for part in parts:
        tokens = [
            token
            for word in part.split(" ")
            for token in tokens_of_word.get(word) or tokens_of_word.setdefault(word, tokenize(word))
        ]
        part_words += sorted(
            {words.setdefault(ABBREVIATIONS.get(t, t), len(words)) for t in tokens}
        )
        part_start.append(len(part_words))
        street_words.append(" ".join(t for t in tokens if not t.isdigit()))
    start, values = np.asarray(part_start, dtype=np.int64), np.asarray(part_words, dtype=np.int64)
    rows, found = [], []
    for of in (head_of, tail_of):
        row, word_id = _csr_gather(of, start, values)
        rows.append(row)
        found.append(word_id)
    # one (word, address) pair per word of a label, however often the label repeats it
    pairs = np.sort(np.concatenate(found) * max(n, 1) + np.concatenate(rows))
    pairs = pairs[np.concatenate((pairs[:1] >= 0, pairs[1:] != pairs[:-1]))]
    word_of, address_of = np.divmod(pairs, max(n, 1))
    word_start = np.zeros(len(words) + 1, dtype=np.int64)
    np.cumsum(np.bincount(word_of, minlength=len(words)), out=word_start[1:])
    n_tokens = np.bincount(address_of, minlength=n)

    # street order: the label's words without its numbers, then the number, then the label
    street_of_address = [
        f"{street_words[h]} {street_words[t]}".strip() if street_words[h] else street_words[t]
        for h, t in zip(heads, tails, strict=True)
    ]
    street_rank = {street: k for k, street in enumerate(sorted(set(street_of_address)))}
    part_rank = np.empty(len(parts), dtype=np.int64)
    # (head, tail) sorts as head + " " + tail does: a space sorts before any printed letter
    part_rank[[parts[p] for p in sorted(parts)]] = np.arange(len(parts))
    order = np.lexsort(
        (
            part_rank[tail_of],
            part_rank[head_of],
            np.asarray([_as_int(v) for v in numeros], dtype=np.int64),
            np.asarray([street_rank[s] for s in street_of_address], dtype=np.int64),
        )
    )
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)

    vocabulary = sorted(words)
    deletes: dict[str, list[str]] = {}
    for word in vocabulary:
        if word.isdigit() or len(word) < 3:
            continue
        for variant in _deletions(word, 2 if len(word) >= 6 else 1):
            deletes.setdefault(variant, []).append(word)
    return _Tables(
        vocabulary=vocabulary,
        words=words,
        word_start=word_start,
        postings=address_of.astype(np.int32),
        length_penalty=(n_tokens * LENGTH_PENALTY).astype(np.int32),
        rank=rank,
        deletes=deletes,
    )


class AddressIndex:
    """Autocomplete over address labels, in a few compact arrays.

    Insensitive to accents and case, tolerant of typos (one edit in words of 4 to 7
    letters, two from 8), aware of the usual abbreviations (``ABBREVIATIONS``), and
    ranked: every query word must match a word of the label, exactly (300 points), as an
    abbreviation (290), as a prefix (200) or with a typo (150, 100). Ties go to the
    shorter label, then to street order and house number. When no label holds every word,
    the labels holding the most words are returned.

    The index keeps no record: it holds the word postings of the labels (about 45 bytes
    an address), and asks ``load`` for the records of the hits it returns. Built from
    records, as here, it returns them; :meth:`lazy` builds it from columns read on first
    use, for a territory's 300,000 addresses that a service must not hold as objects.

    Parameters
    ----------
    addresses : sequence of mappings
        Each with at least ``address_id`` and ``label``; ``numero`` (int), when present,
        orders the numbers of a street. The mappings are returned as they are in the hits.

    Examples
    --------
    >>> index = AddressIndex([
    ...     {"address_id": "a", "label": "12 Rue Jean Jaurès 62300 Lens", "numero": 12},
    ...     {"address_id": "b", "label": "3 Avenue Saint-Éloi 62300 Lens", "numero": 3},
    ... ])
    >>> [h.address["address_id"] for h in index.search("av st eloi")]
    ['b']
    >>> [h.address["address_id"] for h in index.search("12 r jaurrs")]
    ['a']
    """

    def __init__(self, addresses: Sequence[Mapping[str, Any]]):
        records = list(addresses)
        by_id = {r["address_id"]: r for r in records}
        self._count = len(records)
        self._columns: Callable[[], tuple[Sequence[str], Sequence[Any]]] = lambda: (
            [r["label"] for r in records],
            [r.get("numero") for r in records],
        )
        self._load: Callable[[np.ndarray], list[Mapping[str, Any]]] = lambda positions: [
            records[int(i)] for i in positions
        ]
        self._find: Callable[[str], Mapping[str, Any] | None] = by_id.get
        self._lock = threading.Lock()
        self._tables: _Tables | None = None
        self.prepare()

    @classmethod
    def lazy(
        cls,
        count: int,
        columns: Callable[[], tuple[Sequence[str], Sequence[Any]]],
        load: Callable[[np.ndarray], list[Mapping[str, Any]]],
        find: Callable[[str], Mapping[str, Any] | None],
    ) -> AddressIndex:
        """An index built on first use (or by :meth:`prepare`), from callables.

        Parameters
        ----------
        count : int
            The number of addresses.
        columns : callable
            ``() -> (labels, numeros)``: every address's label and house number, one per
            position 0 … count-1.
        load : callable
            ``(positions) -> records``: the records at these positions, in their order.
        find : callable
            ``(address_id) -> record or None``.
        """
        index = cls.__new__(cls)
        index._count = count
        index._columns, index._load, index._find = columns, load, find
        index._lock = threading.Lock()
        index._tables = None
        return index

    def prepare(self) -> None:
        """Build the arrays now, if they are not built yet; safe from several threads."""
        with self._lock:
            if self._tables is None:
                labels, numeros = self._columns()
                self._tables = _build_tables(labels, numeros)

    def _built(self) -> _Tables:
        if self._tables is None:
            self.prepare()
        assert self._tables is not None
        return self._tables

    @staticmethod
    def _canonical(token: str) -> str:
        return ABBREVIATIONS.get(token, token)

    def __len__(self) -> int:
        return self._count

    def get(self, address_id: str) -> Mapping[str, Any] | None:
        """The record with this id, or None."""
        return self._find(address_id)

    def _matches(self, tables: _Tables, token: str, *, last: bool) -> Iterator[tuple[int, int]]:
        """(word number, points) for every way ``token`` matches the vocabulary."""
        words = tables.words
        if token in words:
            yield words[token], EXACT
        expanded = ABBREVIATIONS.get(token)
        if expanded is not None and expanded in words:
            yield words[expanded], ABBREVIATED
        # while typing, the last word is a prefix; earlier words are prefixes from 2 letters
        if last or len(token) >= 2:
            start = bisect.bisect_left(tables.vocabulary, token)
            end = bisect.bisect_left(tables.vocabulary, token + "\uffff")
            for word in tables.vocabulary[start:end]:
                if word != token and word.isdigit() == token.isdigit():
                    yield words[word], PREFIX
        bound = _allowed_typos(token)
        if bound:
            seen = set()
            for variant in _deletions(token, bound):
                for word in tables.deletes.get(variant, ()):
                    if word in seen or word == token:
                        continue
                    seen.add(word)
                    distance = edit_distance(token, word, bound)
                    if distance <= bound:
                        yield words[word], TYPO_1 if distance == 1 else TYPO_2

    def search(self, q: str, limit: int = 10) -> list[SearchHit]:
        """The best ``limit`` addresses for the query ``q``, best first."""
        tokens = tokenize(q)
        n = self._count
        if not tokens or n == 0 or limit < 1:
            return []
        tables = self._built()
        required = [t for t in tokens if t not in STOPWORDS] or tokens
        # one array carries both the number of required words an address matches and its
        # points: each required match adds more than all the query's points can add up to
        above = EXACT * len(tokens) + 1
        dtype: type[np.signedinteger[Any]] = (
            np.int32 if above * (len(tokens) + 1) < np.iinfo(np.int32).max else np.int64
        )
        total: np.ndarray = np.zeros(n, dtype=dtype)
        for k, token in enumerate(tokens):
            by_points: dict[int, list[np.ndarray]] = {}
            for word, points in self._matches(tables, token, last=k == len(tokens) - 1):
                postings = tables.postings[tables.word_start[word] : tables.word_start[word + 1]]
                by_points.setdefault(points, []).append(postings)
            if not by_points:
                continue
            bonus = above if token in required else 0
            points_of: np.ndarray = np.zeros(n, dtype=dtype)
            # ascending, so that an address matched several ways keeps its best points
            for points in sorted(by_points):
                points_of[np.concatenate(by_points[points])] = points + bonus
            total += points_of
        best = int(total.max()) // above
        if best == 0:
            return []
        candidates = np.flatnonzero(total >= best * above)
        score = (
            total[candidates].astype(np.int64) - best * above - tables.length_penalty[candidates]
        )
        # one integer key: higher score first, then street order; rank < n keeps them apart
        key = -score * (n + 1) + tables.rank[candidates]
        top = np.argpartition(key, min(limit, len(key)) - 1)[:limit]
        top = top[np.argsort(key[top], kind="stable")]
        records = self._load(candidates[top])
        return [
            SearchHit(address=record, score=float(score[i]))
            for record, i in zip(records, top, strict=True)
        ]
