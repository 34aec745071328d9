"""The app factory: `create_app(settings, session_factory)` builds the dashboard.

No globals: everything a view needs hangs on the app (`tracker.web.context`).
Each area is a blueprint module; this module only wires them together.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, redirect, url_for
from flask_wtf import CSRFProtect
from jinja2 import StrictUndefined
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.wrappers import Response

from tracker.clock import Clock, SystemClock
from tracker.config import Settings
from tracker.core.keys import WEB_SESSION, derive_key
from tracker.errors import ConfigError
from tracker.mail.render import create_mail_environment, find_templates_dir
from tracker.services.signing_in import ThrottlePolicy
from tracker.web.access import install_sign_in_gate
from tracker.web.context import SessionPolicy, WebContext
from tracker.web.errors import install_error_pages
from tracker.web.i18n import setup_babel
from tracker.web.security import install_security_headers

STATIC_DIR = Path(__file__).resolve().parent / "static"
MAX_UPLOAD_BYTES = 10 * 1024 * 1024


def create_app(
    settings: Settings,
    session_factory: sessionmaker[Session],
    *,
    clock: Clock | None = None,
    throttle: ThrottlePolicy | None = None,
    sessions: SessionPolicy | None = None,
    templates_dir: Path | None = None,
) -> Flask:
    """The dashboard for the database of `session_factory`.

    The session cookie is signed with a key derived from TRACKER_SECRET_KEY
    for that purpose alone; `clock` decides session expiry and is what every
    action is recorded at (tests pass a fixed one).
    """
    secret = settings.require_secret_key()
    templates_root = find_templates_dir(templates_dir)
    if not (templates_root / "web").is_dir():
        raise ConfigError(f"web templates not found in {templates_root / 'web'}")
    app = Flask(
        "tracker.web",
        template_folder=str(templates_root),
        static_folder=str(STATIC_DIR),
        static_url_path="/static",
    )
    sessions = sessions or SessionPolicy()
    app.config.update(
        SECRET_KEY=derive_key(secret, WEB_SESSION),
        PERMANENT_SESSION_LIFETIME=sessions.absolute,
        # Participants' page uploads may reach the per-message attachment limit.
        MAX_CONTENT_LENGTH=max(
            MAX_UPLOAD_BYTES, (settings.max_message_attachments_mb + 1) * 1024 * 1024
        ),
        # A form stays valid as long as the session that rendered it.
        WTF_CSRF_TIME_LIMIT=None,
        TEMPLATES_AUTO_RELOAD=False,
    )
    app.extensions["tracker"] = WebContext(
        settings=settings,
        session_factory=session_factory,
        clock=clock or SystemClock(),
        mail_env=create_mail_environment(templates_dir),
        throttle=throttle or ThrottlePolicy(),
        sessions=sessions,
    )
    app.jinja_env.undefined = StrictUndefined
    app.jinja_env.add_extension("jinja2.ext.do")
    # The gate runs before the CSRF check: a signed-out visitor is sent to sign in.
    install_sign_in_gate(app)
    csrf = CSRFProtect(app)
    setup_babel(app)
    install_security_headers(app, https=(settings.public_url or "").startswith("https://"))
    install_error_pages(app)
    for blueprint in _blueprints():
        app.register_blueprint(blueprint)
    from tracker.web.personal import exempt_one_click

    exempt_one_click(csrf)
    app.add_url_rule("/", endpoint="home", view_func=_home)
    return app


def _blueprints() -> list[Blueprint]:
    """Every area of the dashboard: one blueprint module each."""
    from tracker.web import (
        auth,
        editing,
        exports,
        imports,
        outbox,
        participants,
        personal,
        preview,
        programmes,
        report,
        review,
        schedule,
    )

    return [
        auth.blueprint,
        programmes.blueprint,
        participants.blueprint,
        review.blueprint,
        outbox.blueprint,
        preview.blueprint,
        schedule.blueprint,
        imports.blueprint,
        exports.blueprint,
        report.blueprint,
        editing.blueprint,
        personal.blueprint,
    ]


def _home() -> Response:
    return redirect(url_for("programmes.index"))
