"""Package data: the reference tables and the demo samples shipped inside the package.

Everything is found through :mod:`importlib.resources`, so that an installed wheel or the
Docker image reads the same files as a checkout. The data is installed as plain files
(setuptools never zips a package), so each name below is a real path that GDAL, laspy and
SQLite can open.

>>> TARIFFS.name
'tariffs.toml'
>>> TARIFFS.is_file()
True
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

DATA_DIR = Path(str(files("solar") / "data"))
"""The package's data folder; its ``README.md`` gives the provenance of every file."""

TARIFFS = DATA_DIR / "tariffs.toml"
"""Dated French tariffs (purchase tariff, prime, Tarif Bleu, VAT, installed costs)."""

MODULES = DATA_DIR / "modules.toml"
"""The PV module catalogue; its first entry is the default module."""

WEATHER_DIR = DATA_DIR / "weather"
"""Typical-year weather files (PVGIS TMY, RT2012)."""

DEFAULT_WEATHER = WEATHER_DIR / "tmy_50.811_3.310_2005_2020.csv"
"""PVGIS TMY 2005-2020 at 50.811N 3.310E, the default weather of the Artois."""

ENEDIS_PROFILES = DATA_DIR / "load" / "enedis_profiles"
"""Enedis RES1 and RES2 profiles, normalised to sum 1 over the year."""

LINKY_EXAMPLE = DATA_DIR / "load" / "linky_example" / "consoexemple.csv"
"""Enedis' example Linky export (half-hourly, CC BY-SA 4.0)."""

COMMUNES = DATA_DIR / "territory" / "communes-mbm.geojson"
"""The mining-basin communes with their INSEE codes, the default commune polygons."""

LIDAR_DIR = DATA_DIR / "lidar"
"""The real LiDAR samples the demo territory is built from."""
