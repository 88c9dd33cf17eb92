"""The communes' service: scoped API keys, the portfolio store, its jobs and endpoints.

The domain (portfolio records, communal loads, reports) is in :mod:`solar.communes`; this
package keeps what a commune writes (:mod:`app.communes.store`), who may write it
(:mod:`app.communes.auth`) and the report jobs (:mod:`app.communes.jobs`).
"""
