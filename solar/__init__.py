"""The Artois solar cadastre: from a LiDAR surface model to roof faces, shading,
production, self-consumption and economics.

Conventions, written once (pvlib's vocabulary):

- ``surface_tilt`` in degrees from horizontal (0 = flat).
- ``surface_azimuth`` in degrees clockwise from north (0 = N, 90 = E, 180 = S, 270 = W).
- Geometry in the surface model's projected CRS, in metres (EPSG:2154 in France).
- Weather in UTC; load curves in Europe/Paris local time.
- Energy in kWh, peak power in kWc, irradiation in kWh m-2 yr-1, money in euros
  including VAT unless a name says otherwise.

This package never imports web code: the FastAPI layer lives in ``app``.
"""

__version__ = "0.1.0"
