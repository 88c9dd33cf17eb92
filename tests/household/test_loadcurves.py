"""Load curves: Enedis profiles, household options and Linky exports."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from solar.errors import InputError
from solar.household.loadcurves import HouseholdOptions, read_linky, standard_profile
from solar.resources import DATA_DIR

DATA = DATA_DIR / "load"
LINKY_EXAMPLE = DATA / "linky_example" / "consoexemple.csv"
CALENDAR = pd.date_range("2023-01-01", periods=8760, freq="h", tz="UTC")
LOCAL = CALENDAR.tz_convert("Europe/Paris")
HEADER = (
    "Identifiant PRM;Type de donnees;Date de debut;Date de fin;Grandeur physique;"
    "Grandeur metier;Etape metier;Unite;Pas en minutes"
)


def linky_text(rows: list[tuple[str, float | str]], unit: str = "W", step: str = "") -> str:
    """An Enedis export with the example's header and the given rows."""
    lines = [
        HEADER,
        f"1111111111111;Courbe de charge;01/01/2023;01/01/2024;Energie active;"
        f"Consommation;Comptage Brut;{unit};{step}",
        "Horodate;Valeur",
    ]
    lines += [f"{stamp};{value}" for stamp, value in rows]
    return "\n".join(lines) + "\n"


def local_rows(start: str, periods: int, freq: str, value) -> list[tuple[str, float]]:
    """Rows whose timestamps END each interval, in Europe/Paris time with offsets."""
    ends = pd.date_range(start, periods=periods, freq=freq, tz="Europe/Paris")
    return [(t.isoformat(), value(t)) for t in ends]


def utc_position(stamp: str) -> int:
    return int((pd.Timestamp(stamp) - CALENDAR[0]) / pd.Timedelta("1h"))


# --------------------------------------------------------------------------- profiles


@pytest.mark.parametrize("name", ["RES1", "RES2"])
def test_standard_profile_is_the_enedis_file_scaled(name):
    raw = json.loads(
        (DATA / "enedis_profiles" / f"enedis-{name.lower()}-base-normalized.json").read_text()
    )
    expected = np.asarray(raw["hourly"]) * 4500.0
    load = standard_profile(name, 4500.0)
    assert load.shape == (8760,)
    assert load.dtype == np.float64
    np.testing.assert_allclose(load, expected, rtol=1e-12)
    assert load.sum() == pytest.approx(4500.0, rel=1e-12)


def test_res2_is_more_wintry_than_res1():
    winter = np.asarray(CALENDAR.month.isin([12, 1, 2]))
    share = {n: standard_profile(n, 1.0)[winter].sum() for n in ("RES1", "RES2")}
    assert share["RES2"] > share["RES1"] + 0.05


BASE = standard_profile("RES1", 4500.0)
HOUR = np.asarray(LOCAL.hour)
WEEKDAY = np.asarray(LOCAL.day_of_week < 5)
JANUARY = np.asarray(CALENDAR.month == 1)
JULY = np.asarray(CALENDAR.month == 7)


def test_electric_heating_adds_a_winter_load():
    added = standard_profile("RES1", 4500.0, HouseholdOptions(electric_heating_kwh=6000.0)) - BASE
    assert added.sum() == pytest.approx(6000.0, rel=1e-9)
    assert (added >= 0).all()
    assert added[JANUARY].sum() > 0.15 * 6000.0  # about 21 % in January
    assert added[JULY].sum() < 0.03 * 6000.0  # about 2 % in July


def test_heat_pump_is_seasonal_but_flat_within_each_day():
    added = standard_profile("RES1", 4500.0, HouseholdOptions(heat_pump_kwh=3000.0)) - BASE
    resistive = (
        standard_profile("RES1", 4500.0, HouseholdOptions(electric_heating_kwh=3000.0)) - BASE
    )
    assert added.sum() == pytest.approx(3000.0, rel=1e-9)
    assert added[JANUARY].sum() > 0.15 * 3000.0
    january_10 = np.asarray(LOCAL.normalize() == pd.Timestamp("2023-01-10", tz="Europe/Paris"))
    assert np.ptp(added[january_10]) < 1e-12  # same power all day
    assert np.ptp(resistive[january_10]) > 0.1  # storage heaters peak at night
    # Same energy each day as the resistive signature.
    assert added[january_10].sum() == pytest.approx(resistive[january_10].sum(), rel=1e-9)


@pytest.mark.parametrize(
    ("mode", "hours"),
    [("night", [22, 23, 0, 1, 2, 3, 4, 5]), ("day", [10, 11, 12, 13, 14, 15])],
)
def test_electric_vehicle_charges_in_its_window(mode, hours):
    options = HouseholdOptions(electric_vehicle=mode, electric_vehicle_kwh=2500.0)
    added = standard_profile("RES1", 4500.0, options) - BASE
    in_window = np.isin(HOUR, hours)
    assert added.sum() == pytest.approx(2500.0, rel=1e-9)
    assert np.abs(added[~in_window]).max() < 1e-12
    assert added[in_window].min() > 0


def test_electric_vehicle_default_is_2000_kwh():
    load = standard_profile("RES1", 4500.0, HouseholdOptions(electric_vehicle="night"))
    assert load.sum() == pytest.approx(6500.0, rel=1e-12)


def test_daytime_presence_moves_weekday_load_into_the_day():
    load = standard_profile("RES1", 4500.0, HouseholdOptions(daytime_presence=True))
    day = (HOUR >= 9) & (HOUR < 17)
    assert load.sum() == pytest.approx(4500.0, rel=1e-12)

    def share(curve, mask):
        return curve[mask & day].sum() / curve[mask].sum()

    # RES1 2023: 33.6 % of a weekday's load between 9 and 17, 38.6 % of a weekend day's.
    assert share(BASE, WEEKDAY) == pytest.approx(0.336, abs=0.002)
    assert share(load, WEEKDAY) - share(BASE, WEEKDAY) == pytest.approx(0.050, abs=0.003)
    np.testing.assert_allclose(load[~WEEKDAY], BASE[~WEEKDAY], rtol=1e-12)


@pytest.mark.parametrize(
    "kwargs",
    [{"electric_heating_kwh": -1.0}, {"heat_pump_kwh": float("nan")}, {"electric_vehicle": "x"}],
)
def test_bad_options_raise(kwargs):
    with pytest.raises(InputError) as error:
        HouseholdOptions(**kwargs)
    assert error.value.source == next(iter(kwargs))


def test_bad_profile_and_consumption_raise():
    with pytest.raises(InputError, match="RES1"):
        standard_profile("RES9", 4500.0)  # type: ignore[arg-type]
    with pytest.raises(InputError) as error:
        standard_profile("RES1", -5.0)
    assert error.value.source == "annual_kwh"


# --------------------------------------------------------------------------- Linky example


def test_linky_example_parses_to_7303_kwh():
    curve = read_linky(LINKY_EXAMPLE)
    assert curve.annual_kwh == pytest.approx(7303.0, rel=0.005)
    assert curve.measured_hours == 8760
    assert curve.filled_hours == 0
    assert curve.step_minutes == 30
    assert curve.unit == "W"
    assert curve.warnings == ()
    assert curve.source == "consoexemple.csv"
    # First rows: 00:30 and 01:00 (+02:00) end the half-hours of 2022-07-28 22:00 UTC,
    # 330 W and 364 W for half an hour each.
    first = utc_position("2023-07-28T22:00:00Z")
    assert curve.hourly[first] == pytest.approx((330 + 364) * 0.5 / 1000, rel=1e-12)
    assert curve.start == pd.Timestamp("2022-07-28T22:00:00Z")
    assert curve.end == pd.Timestamp("2023-07-28T22:00:00Z")


def test_linky_accepts_bytes_text_and_path_alike():
    by_path = read_linky(LINKY_EXAMPLE)
    raw = LINKY_EXAMPLE.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the example has a BOM
    by_bytes = read_linky(raw, source="upload.csv")
    by_text = read_linky(raw.decode("utf-8-sig").replace("\n", "\r\n"))
    np.testing.assert_array_equal(by_bytes.hourly, by_path.hourly)
    np.testing.assert_array_equal(by_text.hourly, by_path.hourly)
    assert by_bytes.source == "upload.csv"


# --------------------------------------------------------------------------- DST and steps


def test_a_curve_crossing_both_dst_changes_keeps_every_hour(tmp_path):
    # 2023 in Paris time, half-hourly, the value depends on the local hour of the interval.
    def watts(end):
        start = end - pd.Timedelta("30min")
        return 1000 + 10 * start.hour

    rows = local_rows("2023-01-01 00:30", 17520, "30min", watts)
    path = tmp_path / "dst.csv"
    path.write_bytes(("\ufeff" + linky_text(rows, step="30")).replace("\n", "\r\n").encode())
    curve = read_linky(path)

    assert curve.hourly.shape == (8760,)
    assert not np.isnan(curve.hourly).any()
    assert curve.filled_hours == 0
    expected_total = sum(v for _, v in rows) * 0.5 / 1000
    assert curve.annual_kwh == pytest.approx(expected_total, rel=1e-12)

    # 29 October: 25 local hours = UTC 2023-10-28 22:00 .. 2023-10-29 22:59.
    autumn = slice(utc_position("2023-10-28T22:00Z"), utc_position("2023-10-29T23:00Z"))
    local_autumn = sum(
        v
        for t, v in rows
        if (pd.Timestamp(t) - pd.Timedelta("30min")).date() == pd.Timestamp("2023-10-29").date()
    )
    assert autumn.stop - autumn.start == 25
    assert curve.hourly[autumn].sum() == pytest.approx(local_autumn * 0.5 / 1000, rel=1e-12)
    # The repeated hour 02:00-03:00 local is UTC 00:00 (+02:00) and UTC 01:00 (+01:00).
    assert curve.hourly[utc_position("2023-10-29T00:00Z")] == pytest.approx(1.020)
    assert curve.hourly[utc_position("2023-10-29T01:00Z")] == pytest.approx(1.020)

    # 26 March: 23 local hours = UTC 2023-03-25 23:00 .. 2023-03-26 21:59.
    spring = slice(utc_position("2023-03-25T23:00Z"), utc_position("2023-03-26T22:00Z"))
    local_spring = sum(
        v
        for t, v in rows
        if (pd.Timestamp(t) - pd.Timedelta("30min")).date() == pd.Timestamp("2023-03-26").date()
    )
    assert spring.stop - spring.start == 23
    assert curve.hourly[spring].sum() == pytest.approx(local_spring * 0.5 / 1000, rel=1e-12)


@pytest.mark.parametrize("step", [10, 15, 30, 60])
@pytest.mark.parametrize("unit", ["W", "Wh", "kWh"])
def test_steps_and_units_give_the_same_energy(step, unit):
    # 400 W for 14 days: 9.6 kWh a day.
    per_step = {"W": 400.0, "Wh": 400.0 * step / 60, "kWh": 0.4 * step / 60}[unit]
    start = (pd.Timestamp("2023-05-01 00:00") + pd.Timedelta(minutes=step)).isoformat()
    rows = local_rows(start, 14 * 24 * 60 // step, f"{step}min", lambda t: per_step)
    curve = read_linky(linky_text(rows, unit=unit, step=str(step)))
    assert curve.step_minutes == step
    assert curve.measured_hours == 14 * 24
    assert curve.measured_kwh == pytest.approx(14 * 9.6, rel=1e-12)


def _next(stamp: str, minutes: int) -> str:
    return (pd.Timestamp(stamp) + pd.Timedelta(minutes=minutes)).isoformat()


def test_a_short_curve_is_filled_from_res1_with_a_warning():
    rows = local_rows("2023-06-01 01:00", 30 * 24, "60min", lambda t: 500.0)  # Wh
    curve = read_linky(linky_text(rows, unit="Wh", step="60"))
    assert curve.measured_hours == 30 * 24
    assert curve.filled_hours == 8760 - 30 * 24
    assert curve.measured_kwh == pytest.approx(30 * 24 * 0.5)
    assert any("8040 of 8,760 hours" in w for w in curve.warnings)
    # The filled hours follow RES1, scaled so that RES1 gives the measured energy on the
    # measured hours.
    res1 = standard_profile("RES1", 1.0)
    measured = np.zeros(8760, dtype=bool)
    first = utc_position("2023-05-31T22:00Z")  # 00:00 CEST
    measured[first : first + 720] = True
    scale = curve.measured_kwh / res1[measured].sum()
    np.testing.assert_allclose(curve.hourly[~measured], res1[~measured] * scale, rtol=1e-12)
    assert curve.annual_kwh == pytest.approx(curve.hourly.sum())


def test_a_curve_longer_than_a_year_keeps_its_last_8760_hours():
    rows = local_rows(
        "2022-01-01 01:00",
        400 * 24,
        "60min",
        lambda t: 2.0 if (t.year, t.month) == (2022, 1) else 1.0,
    )
    curve = read_linky(linky_text(rows, unit="kWh"))
    assert curve.measured_hours == 8760
    assert any("longer than a year" in w for w in curve.warnings)
    # January 2022 (2 kWh an hour) is older than the last 8,760 hours: ignored.
    assert curve.hourly.max() == pytest.approx(1.0)


def test_29_february_is_dropped():
    rows = local_rows("2024-02-20 01:00", 20 * 24, "60min", lambda t: 1.0)
    curve = read_linky(linky_text(rows, unit="kWh"))
    assert curve.measured_hours == 19 * 24
    assert any("29 February" in w for w in curve.warnings)


# --------------------------------------------------------------------------- errors

GOOD = local_rows("2023-03-01 00:30", 8 * 48, "30min", lambda t: 300.0)


def with_row(index: int, row: tuple[str, object]) -> list[tuple[str, object]]:
    rows = list(GOOD)
    rows[index] = row
    return rows


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("Date;Valeur\n" + linky_text(GOOD).split("\n", 1)[1], 1, "Enedis header"),
        (linky_text(GOOD, unit="A"), 2, "unknown unit 'A'"),
        (linky_text(GOOD, step="20"), 2, "step of 20 min"),
        (linky_text(GOOD, step="half"), 2, "unparsable step"),
        (linky_text(GOOD).replace("Horodate;Valeur", "Date;Valeur"), 3, "Horodate;Valeur"),
        (linky_text(with_row(1, ("2023-03-01T01:00:00", 300))), 5, "no UTC offset"),
        (linky_text(with_row(1, ("01/03/2023 01:00", 300))), 5, "unparsable timestamp"),
        (linky_text(with_row(2, (GOOD[2][0], "abc"))), 6, "unparsable value"),
        (linky_text(with_row(2, (GOOD[2][0], ""))), 6, "missing value"),
        (linky_text(with_row(2, (GOOD[2][0], -3))), 6, "negative value"),
        (linky_text(with_row(2, GOOD[1])), 6, "duplicate"),
        (linky_text([*GOOD[:5], GOOD[6], GOOD[5], *GOOD[7:]]), 10, "earlier"),
        (linky_text(GOOD[:10] + GOOD[13:20] + GOOD[22:]), 14, "gap: 2 gap(s), 5 missing"),
        (linky_text(GOOD[::2], step="30"), 5, "wrong step"),
        (linky_text(with_row(3, (_next(GOOD[2][0], 20), 300))), 7, "wrong step"),
        (linky_text(with_row(3, (GOOD[3][0], "1;2"))), 7, "timestamp;value"),
    ],
    ids=[
        "header",
        "unit",
        "step-unsupported",
        "step-unparsable",
        "no-horodate",
        "naive",
        "timestamp",
        "value",
        "missing",
        "negative",
        "duplicate",
        "order",
        "gap",
        "step-mismatch",
        "off-grid",
        "fields",
    ],
)
def test_linky_errors_name_the_line(text, line, message):
    with pytest.raises(InputError, match=re.escape(message)) as error:
        read_linky(text, source="conso.csv")
    assert error.value.line == line
    assert error.value.source == "conso.csv"
    assert str(error.value).startswith(f"conso.csv: line {line}: ")


def test_linky_too_short_is_an_error_naming_the_coverage():
    rows = local_rows("2023-03-01 00:30", 5 * 48, "30min", lambda t: 300.0)
    with pytest.raises(InputError, match="covers 120 complete hours"):
        read_linky(linky_text(rows))


def test_linky_empty_file():
    with pytest.raises(InputError) as error:
        read_linky(b"")
    assert error.value.line == 1


# --------------------------------------------------------------------------- physical bounds


@pytest.mark.parametrize(
    ("index", "stamp"),
    [(4, "0001-03-01T02:30:00+01:00"), (4, "9999-03-01T02:30:00+01:00")],
    ids=["year-1", "year-9999"],
)
def test_linky_dates_outside_any_meter_name_the_line(index, stamp):
    with pytest.raises(InputError, match="outside the dates a Linky meter") as error:
        read_linky(linky_text(with_row(index, (stamp, 300))), source="conso.csv")
    assert error.value.line == index + 4  # three header lines, then 1-based rows


def test_linky_dated_tomorrow_is_refused_and_last_year_accepted():
    tomorrow = pd.Timestamp.now(tz="Europe/Paris").normalize() + pd.Timedelta(days=2)
    rows = local_rows(str(tomorrow.tz_localize(None)), 8 * 48, "30min", lambda t: 300.0)
    with pytest.raises(InputError, match="outside the dates") as error:
        read_linky(linky_text(rows))
    assert error.value.line == 4
    last_year = pd.Timestamp.now(tz="Europe/Paris").normalize() - pd.Timedelta(days=365)
    rows = local_rows(str(last_year.tz_localize(None)), 8 * 48, "30min", lambda t: 300.0)
    assert read_linky(linky_text(rows)).hourly.sum() > 0


@pytest.mark.parametrize(
    ("unit", "value", "refused"),
    [
        ("W", 1e300, True),
        ("W", 60_001, True),
        ("W", 59_999, False),
        ("kW", 61, True),
        # half-hourly energy: 30,001 Wh in 30 min is a mean power of 60,002 W
        ("Wh", 30_001, True),
        ("Wh", 29_999, False),
        ("kWh", 31, True),
    ],
)
def test_linky_power_above_a_residential_meter_names_the_line(unit, value, refused):
    ordinary = 300.0 if unit in ("W", "Wh") else 0.3  # 300 W, or 150 Wh in 30 min
    rows = [(stamp, ordinary) for stamp, _ in GOOD]
    rows[5] = (GOOD[5][0], value)
    text = linky_text(rows, unit=unit, step="30")
    if not refused:
        assert read_linky(text).hourly.max() > 0
        return
    with pytest.raises(InputError, match="above the 60 kW a residential meter") as error:
        read_linky(text, source="conso.csv")
    assert error.value.line == 9
