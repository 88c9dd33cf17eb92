"""Weather readers: the default PVGIS file, the official PVGIS layouts, EPW, bad files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from solar.calendar import hourly_index
from solar.errors import InputError
from solar.resources import DEFAULT_WEATHER, WEATHER_DIR
from solar.weather import Weather, read_weather, solar_position

HEADER = "time(UTC),T2m,RH,G(h),Gb(n),Gd(h),IR(h),WS10m,WD10m,SP"


@pytest.fixture(scope="module")
def artois() -> Weather:
    return read_weather(DEFAULT_WEATHER)


@pytest.fixture(scope="module")
def raw_rows() -> list[str]:
    """The 8760 data lines of the default file, as PVGIS wrote them (UTC, hour start)."""
    lines = DEFAULT_WEATHER.read_text().splitlines()
    assert lines[0] == HEADER
    return lines[1:]


def test_default_file_is_the_artois_tmy(artois: Weather) -> None:
    data = artois.data
    assert len(data) == 8760
    assert list(data.columns) == ["ghi", "dni", "dhi", "temp_air", "wind_speed"]
    assert str(data.index.tz) == "UTC"
    assert data.index.equals(hourly_index())
    # Published figures of this file (data/weather provenance): GHI 1099.7, mean T 11.1.
    assert data["ghi"].sum() / 1000 == pytest.approx(1099.7, abs=0.5)
    assert data["temp_air"].mean() == pytest.approx(11.1, abs=0.1)
    assert (artois.latitude, artois.longitude) == (50.811, 3.310)
    # No elevation in the file: from the mean pressure 101,182 Pa, about 12 m (Menen: 15 m).
    assert 0.0 < artois.altitude < 40.0
    assert artois.irradiance_time_offset == pytest.approx(10 / 60)


def test_the_first_rows_are_the_files_first_rows(artois: Weather, raw_rows: list[str]) -> None:
    # 20150101:0000 is the first row of the file (January comes from 2015): T2m 3.46, WS 3.99.
    first = artois.data.iloc[0]
    assert raw_rows[0].startswith("20150101:0000,3.46,")
    assert (first["temp_air"], first["wind_speed"], first["ghi"]) == (3.46, 3.99, 0.0)


def test_solar_noon_sits_in_the_middle_of_clear_days(artois: Weather) -> None:
    """The timestamp convention: the sun at ``index + offset`` matches the irradiance.

    On clear days GHI is symmetric about solar noon, so its weighted mean solar azimuth
    is 180°. On the 67 mostly-beam days of this file, the sun taken at the label + 10 min
    gives 180.0°; at mid-hour (Δ = 30 min) it would give 185.9°, at the label 177.1°.
    """
    solpos = solar_position(artois)
    data = artois.data
    day = data.index.floor("D")
    daily = data.groupby(day)[["ghi", "dhi"]].sum()
    clear_days = daily.index[daily["dhi"] < 0.35 * daily["ghi"]]
    assert len(clear_days) > 50
    on_clear = day.isin(clear_days)
    weights = data["ghi"].to_numpy() * on_clear
    mean_azimuth = np.average(solpos["azimuth"].to_numpy(), weights=weights)
    assert mean_azimuth == pytest.approx(180.0, abs=1.0)


def test_solar_position_columns_and_index(artois: Weather) -> None:
    solpos = solar_position(artois)
    assert list(solpos.columns) == ["apparent_zenith", "zenith", "azimuth", "apparent_elevation"]
    assert solpos.index.equals(artois.data.index)
    # 21 June 2023 11:00 UTC, sun taken at 11:10 UTC at 50.8N 3.3E: near its highest,
    # 90 - 50.8 + 23.4 = 62.6° at solar noon (11:45 UTC).
    noonish = solpos.loc["2023-06-21 11:00"]
    assert 58.0 < noonish["apparent_elevation"] < 62.7


def test_headerless_file_needs_its_site(tmp_path: Path) -> None:
    renamed = tmp_path / "artois.csv"
    renamed.write_bytes(DEFAULT_WEATHER.read_bytes())
    with pytest.raises(InputError, match="latitude") as err:
        read_weather(renamed)
    assert err.value.source == str(renamed)
    weather = read_weather(renamed, latitude=50.4, longitude=2.8, altitude=40.0)
    assert (weather.latitude, weather.longitude, weather.altitude) == (50.4, 2.8, 40.0)


def _official_csv(rows: list[str], offset_line: bool = True) -> str:
    """The official PVGIS TMY CSV layout (PVGIS 5.2+), as in pvlib's test data."""
    months = [2015, 2009, 2018, 2007, 2015, 2016, 2011, 2013, 2009, 2015, 2019, 2015]
    head = [
        "Latitude (decimal degrees): 50.811",
        "Longitude (decimal degrees): 3.310",
        "Elevation (m): 15.0",
    ]
    if offset_line:
        head.append("Irradiance Time Offset (h): 0.1761")
    head += ["month,year", *[f"{m},{y}" for m, y in enumerate(months, start=1)], HEADER]
    tail = [
        "T2m: 2-m air temperature (degree Celsius)",
        "RH: relative humidity (%)",
        "G(h): Global irradiance on the horizontal plane (W/m2)",
        "Gb(n): Beam/direct irradiance on a plane always normal to sun rays (W/m2)",
        "Gd(h): Diffuse irradiance on the horizontal plane (W/m2)",
        "IR(h): Surface infrared (thermal) irradiance on a horizontal plane (W/m2)",
        "WS10m: 10-m total wind speed (m/s)",
        "WD10m: 10-m wind direction (0 = North, 90 = East) (degree)",
        "SP: Surface (air) pressure (Pa)",
        "",
        "PVGIS (c) European Union, 2001-2024",
    ]
    return "\r\n".join([*head, *rows, *tail]) + "\r\n"


@pytest.mark.parametrize("offset_line", [True, False])
def test_official_pvgis_csv(
    tmp_path: Path, artois: Weather, raw_rows: list[str], offset_line: bool
) -> None:
    path = tmp_path / "tmy_50.811_3.310_2005_2020.csv"
    path.write_text(_official_csv(raw_rows, offset_line), newline="")
    weather = read_weather(path)
    pd.testing.assert_frame_equal(weather.data, artois.data)
    assert (weather.latitude, weather.longitude, weather.altitude) == (50.811, 3.31, 15.0)
    expected = 0.1761 if offset_line else 10 / 60
    assert weather.irradiance_time_offset == pytest.approx(expected)


def test_official_pvgis_json(tmp_path: Path, artois: Weather, raw_rows: list[str]) -> None:
    names = HEADER.split(",")
    hourly = []
    for row in raw_rows:
        time, *values = row.split(",")
        numbers = {k: float(v) for k, v in zip(names[1:], values, strict=True)}
        hourly.append({names[0]: time, **numbers})
    location = {"latitude": 50.811, "longitude": 3.31, "elevation": 15.0}
    document = {
        "inputs": {
            "location": {**location, "irradiance_time_offset": 0.1761},
            "meteo_data": {"radiation_db": "PVGIS-SARAH2", "meteo_db": "ERA5", "year_min": 2005},
        },
        "outputs": {
            "months_selected": [{"month": m, "year": 2015} for m in range(1, 13)],
            "tmy_hourly": hourly,
        },
        "meta": {"inputs": {"location": {"description": "Selected location"}}, "outputs": {}},
    }
    path = tmp_path / "tmy_50.811_3.310_2005_2020.json"
    path.write_text(json.dumps(document))
    weather = read_weather(path)
    pd.testing.assert_frame_equal(weather.data, artois.data)
    assert weather.altitude == 15.0
    assert weather.irradiance_time_offset == pytest.approx(0.1761)


def _epw(data: pd.DataFrame, tz: int, comment: str, year: int = 2018) -> str:
    """An EPW (EnergyPlus weather, 35 fields a row) of the given UTC-hour-start rows.

    EPW labels each row with the local standard hour that *ends* its interval; the row of
    local hour-ending h + 1 on day d holds the interval starting at local h, i.e. at UTC
    h - tz. So local row k (from 1 January 00:00 local) takes UTC row k - tz.
    """
    local = pd.date_range(f"{year}-01-01", periods=8760, freq="h")
    source = np.roll(np.arange(8760), tz)
    d = data.iloc[source]
    fields = pd.DataFrame(
        {
            "year": year,
            "month": local.month,
            "day": local.day,
            "hour": local.hour + 1,
            "minute": 0,
            "flags": "?9?9?9?9E0?9?9?9?9?9?9?9?9?9?9?9?9?9?9?9*9*9?9*9*9",
            "temp_air": d["temp_air"].to_numpy(),
            "temp_dew": 5.0,
            "rh": 80,
            "pressure": 101325,
            "etr": 9999,
            "etrn": 9999,
            "ir": 300.0,
            "ghi": d["ghi"].to_numpy(),
            "dni": d["dni"].to_numpy(),
            "dhi": d["dhi"].to_numpy(),
            **{k: 999999 for k in ("gh_illum", "dn_illum", "dh_illum")},
            "zenith_lum": 9999,
            "wind_dir": 200,
            "wind_speed": d["wind_speed"].to_numpy(),
            "total_sky": 5,
            "opaque_sky": 5,
            "visibility": 9999,
            "ceiling": 99999,
            "obs": 9,
            "codes": 999999999,
            "pw": 999,
            "aod": 0.999,
            "snow": 999,
            "days_snow": 99,
            "albedo": 999,
            "rain": 999,
            "rain_qty": 99,
        }
    )
    header = [
        f"LOCATION,Artois,-,FRA,test,000000,50.811,3.310,{tz},15.0",
        "DESIGN CONDITIONS,0",
        "TYPICAL/EXTREME PERIODS,0",
        "GROUND TEMPERATURES,0",
        "HOLIDAYS/DAYLIGHT SAVINGS,No,0,0,0",
        "COMMENTS 1,written by the test suite",
        f"COMMENTS 2,{comment}",
        "DATA PERIODS,1,1,Data,Sunday, 1/ 1,12/31",
    ]
    return "\n".join(header) + "\n" + fields.to_csv(header=False, index=False)


def test_epw_in_local_standard_time(tmp_path: Path, artois: Weather) -> None:
    path = tmp_path / "artois.epw"
    path.write_text(_epw(artois.data, tz=1, comment="local standard time"))
    weather = read_weather(path)
    # Back on UTC, the same rows come out: the time zone was undone, the year wrapped.
    pd.testing.assert_frame_equal(weather.data, artois.data)
    assert (weather.latitude, weather.longitude, weather.altitude) == (50.811, 3.31, 15.0)
    assert weather.irradiance_time_offset == 0.5


def test_epw_written_by_pvgis_keeps_utc_rows(tmp_path: Path, artois: Weather) -> None:
    # PVGIS writes its UTC rows unshifted and TZ = 1 at 3.3E (as in pvlib's test file
    # tmy_45.000_8.000_2005_2023.epw, whose rows equal the CSV's UTC rows).
    path = tmp_path / "tmy_50.811_3.310_2005_2020.epw"
    path.write_text(_epw(artois.data, tz=0, comment="Irradiance Time Offset (h):-0.8239"))
    text = path.read_text().replace(",3.310,0,15.0", ",3.310,1,15.0", 1)
    assert ",3.310,1,15.0" in text
    path.write_text(text)
    weather = read_weather(path)
    pd.testing.assert_frame_equal(weather.data, artois.data)
    assert weather.irradiance_time_offset == pytest.approx(0.1761)


def _headerless(tmp_path: Path, rows: list[str], header: str = HEADER) -> Path:
    path = tmp_path / "tmy_50.811_3.310_2005_2020.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def test_wrong_columns(tmp_path: Path, raw_rows: list[str]) -> None:
    path = _headerless(tmp_path, raw_rows, header=HEADER.replace("G(h)", "GHI"))
    with pytest.raises(InputError, match="expected the columns") as err:
        read_weather(path)
    assert (err.value.source, err.value.line) == (str(path), 1)


def test_missing_hours(tmp_path: Path, raw_rows: list[str]) -> None:
    path = _headerless(tmp_path, raw_rows[:-1])
    with pytest.raises(InputError, match="8760") as err:
        read_weather(path)
    assert err.value.source == str(path)


def test_missing_value_names_the_line(tmp_path: Path, raw_rows: list[str]) -> None:
    rows = list(raw_rows)
    fields = rows[100].split(",")
    fields[1] = ""  # T2m
    rows[100] = ",".join(fields)
    path = _headerless(tmp_path, rows)
    with pytest.raises(InputError, match="temp_air") as err:
        read_weather(path)
    # Line 1 is the header, so data row 100 (0-based) is line 102.
    assert (err.value.source, err.value.line) == (str(path), 102)
    assert str(err.value).startswith(f"{path}: line 102: ")


def test_negative_irradiance_names_the_line(tmp_path: Path, raw_rows: list[str]) -> None:
    rows = list(raw_rows)
    fields = rows[5000].split(",")
    fields[3] = "-12"  # G(h)
    rows[5000] = ",".join(fields)
    path = _headerless(tmp_path, rows)
    with pytest.raises(InputError, match="negative irradiance ghi") as err:
        read_weather(path)
    assert err.value.line == 5002


def test_duplicate_hour(tmp_path: Path, raw_rows: list[str]) -> None:
    rows = list(raw_rows)
    rows[10] = rows[9]
    with pytest.raises(InputError, match="8760 distinct hours"):
        read_weather(_headerless(tmp_path, rows))


def test_bad_timestamp_names_the_line(tmp_path: Path, raw_rows: list[str]) -> None:
    rows = list(raw_rows)
    rows[0] = rows[0].replace("20150101:0000", "2015-01-01 00:00")
    with pytest.raises(InputError, match="bad timestamp") as err:
        read_weather(_headerless(tmp_path, rows))
    assert err.value.line == 2


def test_official_csv_with_missing_rows(tmp_path: Path, raw_rows: list[str]) -> None:
    path = tmp_path / "tmy.csv"
    path.write_text(_official_csv(raw_rows[:-24]))
    with pytest.raises(InputError, match="8760") as err:
        read_weather(path)
    assert err.value.source == str(path)


def test_unknown_and_missing_files(tmp_path: Path) -> None:
    other = tmp_path / "notes.csv"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(InputError, match="not a weather file") as err:
        read_weather(other)
    assert err.value.source == str(other)
    with pytest.raises(InputError, match="no such weather file"):
        read_weather(tmp_path / "absent.csv")
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(InputError, match="PVGIS TMY JSON") as err:
        read_weather(broken)
    assert err.value.source == str(broken)
    short = tmp_path / "short.epw"
    short.write_text("LOCATION,x,-,x,x,0,50.0,3.0,1,10\n")
    with pytest.raises(InputError) as err:
        read_weather(short)
    assert err.value.source == str(short)


def test_second_artois_file_reads_with_its_own_site() -> None:
    other = WEATHER_DIR / "tmy_50.911_3.192_2005_2020.csv"
    weather = read_weather(other)
    assert (weather.latitude, weather.longitude) == (50.911, 3.192)
    # Published figure of that file: GHI 1061.9 kWh/m2/yr.
    assert weather.data["ghi"].sum() / 1000 == pytest.approx(1061.9, abs=0.5)
    assert weather.data.index.equals(hourly_index())
