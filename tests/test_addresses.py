"""solar.addresses: the BAN file, demo addresses, the link to buildings, the search index."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
import shapely

from solar.addresses import (
    BAN_COLUMNS,
    DEMO_ID_PREFIX,
    Address,
    AddressIndex,
    address_layer,
    demo_addresses,
    edit_distance,
    link_addresses,
    read_ban,
    tokenize,
    write_ban_csv,
)
from solar.cadastre import ADDRESS_FIELDS
from solar.errors import InputError
from solar.footprints import Footprint

HEADER = ";".join(BAN_COLUMNS)


def ban_row(**values: str) -> str:
    row = dict.fromkeys(BAN_COLUMNS, "")
    row.update(values)
    return ";".join(row[c] for c in BAN_COLUMNS)


ORIGIN_ROW = ban_row(
    id="62498_0540_00012_bis",
    numero="12",
    rep="bis",
    nom_voie="Rue Jean Jaurès",
    code_postal="62300",
    code_insee="62498",
    nom_commune="Lens",
    lon="3.0",
    lat="46.5",
)


def write(tmp_path: Path, *lines: str, name: str = "adresses.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- read_ban ------------------------------------------------------------------------------


def test_read_ban_projects_lon_lat(tmp_path: Path) -> None:
    (address,) = read_ban(write(tmp_path, HEADER, ORIGIN_ROW), target_crs="EPSG:2154")
    assert address.address_id == "62498_0540_00012_bis"
    assert address.label == "12 bis Rue Jean Jaurès 62300 Lens"
    assert (address.numero, address.rep, address.code_insee) == (12, "bis", "62498")
    # Lambert-93 is defined with (700000, 6600000) at 3° E, 46.5° N
    assert address.x == pytest.approx(700_000.0, abs=1e-3)
    assert address.y == pytest.approx(6_600_000.0, abs=1e-3)
    assert (address.lon, address.lat) == (3.0, 46.5)


def test_read_ban_gzipped_and_reordered_columns(tmp_path: Path) -> None:
    # only the header tells where a column is; a gzip stream is recognised by its magic bytes
    header = "lat;lon;id;numero;rep;nom_voie;code_postal;code_insee;nom_commune"
    row = "46.5;3.0;x1;7;;Rue Saint-Éloi;62300;62498;Lens"
    path = tmp_path / "adresses-62.csv.gz"
    path.write_bytes(gzip.compress(f"{header}\n{row}\n".encode()))
    (address,) = read_ban(path, target_crs="EPSG:2154")
    assert address.label == "7 Rue Saint-Éloi 62300 Lens"
    assert address.x == pytest.approx(700_000.0, abs=1e-3)


@pytest.mark.parametrize(
    ("lines", "line", "words"),
    [
        ([HEADER.replace(";lat;", ";latitude;")], 1, ["missing column", "lat"]),
        (
            [HEADER, ORIGIN_ROW, ORIGIN_ROW.replace("46.5", "abc").replace("_bis", "_ter")],
            3,
            ["'lat'", "abc"],
        ),
        ([HEADER, ORIGIN_ROW.replace("46.5", "95")], 2, ["'lat'", "outside"]),
        ([HEADER, ORIGIN_ROW.replace(";3.0;", ";inf;")], 2, ["'lon'"]),
        ([HEADER, ORIGIN_ROW.replace(";12;", ";douze;")], 2, ["'numero'", "douze"]),
        ([HEADER, ORIGIN_ROW + ";extra"], 2, ["fields"]),
        ([HEADER, ORIGIN_ROW, ORIGIN_ROW.replace("46.5", "46.6")], 3, ["'id'", "line 2"]),
        ([HEADER, ORIGIN_ROW.replace("62498_0540_00012_bis", "")], 2, ["'id'", "empty"]),
    ],
)
def test_read_ban_errors_name_line_and_column(
    tmp_path: Path, lines: list[str], line: int, words: list[str]
) -> None:
    path = write(tmp_path, *lines)
    with pytest.raises(InputError) as caught:
        read_ban(path, target_crs="EPSG:2154")
    assert caught.value.line == line
    assert caught.value.source == str(path)
    for word in words:
        assert word in caught.value.message


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "empty file"),
        (HEADER.encode() + b"\n", "no address"),
        (HEADER.encode() + b"\n" + ORIGIN_ROW.encode("latin-1"), "UTF-8"),
        (b"\x1f\x8b\x08\x00garbage", "gzip"),
    ],
)
def test_read_ban_refuses_bad_files(tmp_path: Path, content: bytes, words: str) -> None:
    path = tmp_path / "adresses.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match=words):
        read_ban(path, target_crs="EPSG:2154")


def test_read_ban_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        read_ban(tmp_path / "absent.csv", target_crs="EPSG:2154")


# --- link_addresses and the cadastre layer -------------------------------------------------


def point(address_id: str, x: float, y: float) -> Address:
    return Address(address_id, address_id, 1, "", "Rue", "62300", "62498", "Lens", x, y, 0.0, 0.0)


def test_link_addresses() -> None:
    footprints = [
        Footprint("A", shapely.box(0, 0, 10, 10)),
        Footprint("B", shapely.box(20, 0, 30, 10)),
        Footprint("C", shapely.box(25, 0, 40, 10)),  # overlaps B on 25–30
    ]
    addresses = [
        point("in A", 5, 5),
        point("edge of A", 10, 5),
        point("garden", 15, 5),
        point("B and C", 27, 5),
        point("only C", 35, 5),
    ]
    assert link_addresses(addresses, footprints) == ["A", "A", None, "B", "C"]
    assert link_addresses(addresses, []) == [None] * 5
    assert link_addresses([], footprints) == []


def test_address_layer_has_the_cadastre_columns() -> None:
    table = address_layer([point("a", 1, 2), point("b", 3, 4)], ["A", None])
    assert tuple(table.fields) == ADDRESS_FIELDS
    assert list(table.fields["building_id"]) == ["A", None]
    assert [(p.x, p.y) for p in table.geometry] == [(1, 2), (3, 4)]
    assert table.geometry_type == "Point"


# --- demo addresses ------------------------------------------------------------------------

ROW_HOUSES = [
    Footprint(
        f"H{i:02d}",
        shapely.box(
            686_000 + 7 * i, 7_032_000 + 40 * (i % 3), 686_006 + 7 * i, 7_032_009 + 40 * (i % 3)
        ),
    )
    for i in range(30)
]


def make_demo(seed: int = 0) -> tuple[Address, ...]:
    return demo_addresses(
        ROW_HOUSES,
        "EPSG:2154",
        commune_insee="62498",
        nom_commune="Lens",
        code_postal="62300",
        seed=seed,
    )


def test_demo_addresses_one_per_building_inside_it() -> None:
    demo = make_demo()
    assert len(demo) == len(ROW_HOUSES)
    assert len({a.address_id for a in demo}) == len(demo)
    assert all(a.address_id.startswith(DEMO_ID_PREFIX) for a in demo)
    assert sorted(link_addresses(demo, ROW_HOUSES)) == sorted(f.building_id for f in ROW_HOUSES)
    # Lens is near 2.8° E, 50.4° N
    assert all(2.7 < a.lon < 2.9 and 50.3 < a.lat < 50.5 for a in demo)


def test_demo_addresses_depend_on_the_seed() -> None:
    assert [a.label for a in make_demo(0)] == [a.label for a in make_demo(0)]
    assert [a.label for a in make_demo(0)] != [a.label for a in make_demo(1)]


def test_demo_addresses_round_trip_through_the_ban_layout(tmp_path: Path) -> None:
    demo = make_demo()
    path = write_ban_csv(demo, tmp_path / "adresses-demo.csv.gz")
    header, first = gzip.decompress(path.read_bytes()).decode().splitlines()[:2]
    assert header == ";".join(BAN_COLUMNS)
    assert dict(zip(BAN_COLUMNS, first.split(";"), strict=True))["source_position"] == "demo"
    back = read_ban(path, target_crs="EPSG:2154")
    assert [a.address_id for a in back] == [a.address_id for a in demo]
    assert [a.label for a in back] == [a.label for a in demo]
    for a, b in zip(back, demo, strict=True):
        assert (a.x, a.y) == pytest.approx((b.x, b.y), abs=1e-3)


# --- search ----------------------------------------------------------------------------------

LABELS = [
    ("12 Rue Jean Jaurès 62300 Lens", 12),
    ("12 bis Rue Jean Jaurès 62300 Lens", 12),
    ("120 Rue Jean Jaurès 62300 Lens", 120),
    ("3 Avenue du Maréchal Foch 62300 Lens", 3),
    ("7 Rue Saint-Éloi 62800 Liévin", 7),
    ("9 Rue Sainte-Barbe 62800 Liévin", 9),
    ("2 Boulevard Émile Basly 62300 Lens", 2),
    ("4 Place de la République 62300 Lens", 4),
    ("1 Chemin des Prés 62300 Lens", 1),
    ("6 Impasse des Hêtres 62300 Lens", 6),
    ("8 Allée des Mésanges 62300 Lens", 8),
    ("5 Rue de la Gare 62300 Lens", 5),
    ("14 Rue Jaurès 62400 Béthune", 14),
]


@pytest.fixture(scope="module")
def index() -> AddressIndex:
    return AddressIndex(
        [
            {"address_id": f"a{i}", "label": label, "numero": n}
            for i, (label, n) in enumerate(LABELS)
        ]
    )


def found(index: AddressIndex, q: str, limit: int = 10) -> list[str]:
    return [hit.address["label"] for hit in index.search(q, limit=limit)]


@pytest.mark.parametrize("q", ["JAURES", "jaurès", "Jaures"])
def test_search_ignores_accents_and_case(index: AddressIndex, q: str) -> None:
    assert {label for label in found(index, q)} == {
        label for label, _ in LABELS if "Jaurès" in label
    }


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("jaurrs lens", "12 Rue Jean Jaurès 62300 Lens"),  # substitution
        ("jaurse lens", "12 Rue Jean Jaurès 62300 Lens"),  # transposition
        ("mesanges", "8 Allée des Mésanges 62300 Lens"),
        ("mesnges", "8 Allée des Mésanges 62300 Lens"),  # deletion
        ("marrechall foch", "3 Avenue du Maréchal Foch 62300 Lens"),  # two edits, long word
        ("republqiue", "4 Place de la République 62300 Lens"),
    ],
)
def test_search_tolerates_typos(index: AddressIndex, q: str, expected: str) -> None:
    assert found(index, q)[0] == expected


def test_short_words_get_no_typo(index: AddressIndex) -> None:
    # "gaer" (4 letters) is one transposition from "gare"; "gra" (3 letters) is not tried
    assert found(index, "gaer")[0] == "5 Rue de la Gare 62300 Lens"
    assert found(index, "gra") == []


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("3 av foch", "3 Avenue du Maréchal Foch 62300 Lens"),
        ("av du mal foch", "3 Avenue du Maréchal Foch 62300 Lens"),
        ("bd basly", "2 Boulevard Émile Basly 62300 Lens"),
        ("7 r st eloi", "7 Rue Saint-Éloi 62800 Liévin"),
        ("ste barbe", "9 Rue Sainte-Barbe 62800 Liévin"),
        ("pl republique", "4 Place de la République 62300 Lens"),
        ("ch des pres", "1 Chemin des Prés 62300 Lens"),
        ("imp hetres", "6 Impasse des Hêtres 62300 Lens"),
        ("all mesanges", "8 Allée des Mésanges 62300 Lens"),
    ],
)
def test_search_expands_abbreviations(index: AddressIndex, q: str, expected: str) -> None:
    assert found(index, q)[0] == expected


def test_ranking_exact_then_prefix_then_typo(index: AddressIndex) -> None:
    # exact number: 12 and 12 bis (shorter label first), then 120 by prefix
    assert found(index, "12 rue jean jaures") == [
        "12 Rue Jean Jaurès 62300 Lens",
        "12 bis Rue Jean Jaurès 62300 Lens",
        "120 Rue Jean Jaurès 62300 Lens",
    ]
    assert found(index, "120 jaures")[0] == "120 Rue Jean Jaurès 62300 Lens"
    hits = index.search("jaur lens")
    exact = index.search("jaures lens")
    typo = index.search("jaurrs lens")
    assert exact[0].score > hits[0].score > typo[0].score


def test_search_while_typing(index: AddressIndex) -> None:
    assert found(index, "4 place de la rep") == ["4 Place de la République 62300 Lens"]
    assert found(index, "lievi") == [
        "7 Rue Saint-Éloi 62800 Liévin",
        "9 Rue Sainte-Barbe 62800 Liévin",
    ]


def test_search_skips_stopwords_and_splits_numbers(index: AddressIndex) -> None:
    assert found(index, "rue gare")[0] == "5 Rue de la Gare 62300 Lens"
    assert found(index, "12bis jaures")[0] == "12 bis Rue Jean Jaurès 62300 Lens"


def test_search_keeps_the_best_partial_match(index: AddressIndex) -> None:
    # "france" is in no label: the labels holding every other word still come first
    assert found(index, "14 rue jaures bethune france")[0] == "14 Rue Jaurès 62400 Béthune"


def test_search_limit_and_empty_queries(index: AddressIndex) -> None:
    assert len(found(index, "lens", limit=3)) == 3
    assert found(index, "") == []
    assert found(index, " ,;! ") == []
    assert found(index, "lens", limit=0) == []
    assert AddressIndex([]).search("lens") == []


def test_get_by_id(index: AddressIndex) -> None:
    record = index.get("a3")
    assert record is not None
    assert record["label"] == "3 Avenue du Maréchal Foch 62300 Lens"
    assert index.get("nope") is None
    assert len(index) == len(LABELS)


def test_tokenize() -> None:
    assert tokenize("Œuvre  d'Émile-Zola, 12TER") == ["oeuvre", "d", "emile", "zola", "12", "ter"]


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [("kitten", "sitting", 3), ("ca", "ac", 1), ("jaures", "jaures", 0), ("", "abc", 3)],
)
def test_edit_distance(a: str, b: str, distance: int) -> None:
    assert edit_distance(a, b, 5) == distance
    assert edit_distance(a, b, distance) == distance
    if distance:
        assert edit_distance(a, b, distance - 1) == distance  # bound + 1


def test_read_ban_streams_a_gzipped_department_keeping_the_bounds(tmp_path: Path) -> None:
    """A gzipped file read line by line: only the addresses inside the bounds are kept,
    and a row far away is checked for its coordinates only."""
    rows = [HEADER]
    # a grid of points 0.01° apart around 3° E, 46.5° N, where Lambert-93 is (700000, 6600000)
    for i in range(-20, 21):
        for j in range(-20, 21):
            rows.append(
                ban_row(
                    id=f"62498_{i + 20:02d}{j + 20:02d}",
                    numero="1",
                    nom_voie="Rue",
                    code_postal="62300",
                    code_insee="62498",
                    nom_commune="Lens",
                    lon=f"{3.0 + 0.01 * i:.2f}",
                    lat=f"{46.5 + 0.01 * j:.2f}",
                )
            )
    # far away, with a number that does not parse and an id seen already: never looked at
    rows.append(ban_row(id="62498_0000", numero="x", lon="2.0", lat="50.0"))
    path = tmp_path / "adresses-62.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as stream:
        stream.write("\n".join(rows) + "\n")
    bounds = (699_000.0, 6_599_000.0, 701_500.0, 6_601_500.0)
    kept = read_ban(path, target_crs="EPSG:2154", bounds=bounds)
    everything = read_ban_without_the_far_row(path)
    inside = [
        a.address_id
        for a in everything
        if bounds[0] <= a.x <= bounds[2] and bounds[1] <= a.y <= bounds[3]
    ]
    assert 0 < len(kept) < len(everything)
    assert [a.address_id for a in kept] == inside
    assert read_ban(path, target_crs="EPSG:2154", bounds=(0.0, 0.0, 1.0, 1.0)) == ()


def read_ban_without_the_far_row(path: Path) -> tuple[Address, ...]:
    """Every address of the file but its last, bad row, read without bounds."""
    lines = gzip.decompress(path.read_bytes()).decode().splitlines()
    plain = path.with_name("all.csv")
    plain.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    return read_ban(plain, target_crs="EPSG:2154")
