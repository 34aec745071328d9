"""The coordinators' web dashboard: a Flask app served by waitress (`tracker serve`).

`tracker.web.app.create_app` builds it; each area is a blueprint module; every
programme-scoped page loads what its URL names through `tracker.web.access`.
"""
