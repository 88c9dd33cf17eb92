"""Communes' side of the cadastre: municipal portfolios, communal loads, reports.

Free of web code: the service (``app.communes``) stores portfolios and calls these functions.
"""
