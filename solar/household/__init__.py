"""The serve-time household chain: load curves, self-consumption, sizing, economics,
uncertainty and the solar water heater, orchestrated by :mod:`solar.household.project`.

It reads the cadastre's records and never the build's internals.
"""
