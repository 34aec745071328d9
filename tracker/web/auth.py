"""Signing in and out, setting a password from a link, choosing the language."""

from __future__ import annotations

import math

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from tracker.errors import TrackerError
from tracker.services.passwords import coordinator_for_link, set_password
from tracker.services.signing_in import (
    SignedIn,
    set_dashboard_language,
    sign_in,
    sign_out_everywhere,
    signed_in,
)
from tracker.web.access import end_session, public, referring_page, safe_next, start_session
from tracker.web.context import now, unit_of_work, web
from tracker.web.context import signed_in as current_coordinator
from tracker.web.forms import LanguageForm, SetPasswordForm, SignInForm
from tracker.web.i18n import LANGUAGES

blueprint = Blueprint("auth", __name__)


@blueprint.route("/sign-in", methods=["GET", "POST"], endpoint="sign_in")
@public
def sign_in_page() -> Response | tuple[str, int] | str:
    form = SignInForm()
    target = safe_next(request.args.get("next"))
    if not form.validate_on_submit():
        return render_template("web/auth/sign_in.html", form=form, next=target)
    with unit_of_work() as db:
        outcome = sign_in(
            form.email.data or "",
            form.password.data or "",
            address=request.remote_addr or "unknown",
            session=db,
            now=now(),
            policy=web().throttle,
        )
    if isinstance(outcome, SignedIn):
        start_session(outcome)
        return redirect(target or url_for("programmes.index"))
    if outcome.retry_at is not None:
        minutes = max(1, math.ceil((outcome.retry_at - now()).total_seconds() / 60))
        message = _("Too many failed sign-ins. Try again in %(minutes)d minutes.", minutes=minutes)
        status = 429
    else:
        message = _("The email or the password is not right.")
        status = 401
    return render_template("web/auth/sign_in.html", form=form, next=target, error=message), status


@blueprint.post("/sign-out")
def sign_out() -> Response:
    with unit_of_work() as db:
        sign_out_everywhere(current_coordinator().coordinator_id, session=db, now=now())
    end_session()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.sign_in"))


@blueprint.route("/set-password/<token>", methods=["GET", "POST"], endpoint="set_password")
@public
def set_password_page(token: str) -> Response | tuple[str, int] | str:
    secret = web().settings.require_secret_key()
    form = SetPasswordForm()
    try:
        with unit_of_work() as db:
            coordinator = coordinator_for_link(token, session=db, secret_key=secret, now=now())
            name = coordinator.name
            if form.validate_on_submit():
                set_password(
                    coordinator,
                    form.password.data or "",
                    session=db,
                    now=now(),
                    actor=f"coordinator:{coordinator.email} (password link)",
                )
                record = signed_in(coordinator)
            else:
                record = None
    except TrackerError:
        message = _("This link is not valid any more. Ask for a new one.")
        return render_template("web/auth/link_invalid.html", message=message), 404
    if record is None:
        return render_template("web/auth/set_password.html", form=form, name=name)
    start_session(record)
    flash(_("Your password is set. You are signed in."), "success")
    return redirect(url_for("programmes.index"))


@blueprint.post("/language", endpoint="language")
@public
def choose_language() -> Response:
    form = LanguageForm()
    if form.validate_on_submit() and form.language.data in LANGUAGES:
        session["language"] = form.language.data
        if g.get("coordinator") is not None:
            with unit_of_work() as db:
                set_dashboard_language(g.coordinator.coordinator_id, form.language.data, session=db)
    return redirect(referring_page())
