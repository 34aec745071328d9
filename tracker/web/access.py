"""Who may see what: the sign-in gate and the one authorising loader.

Every request passes the gate: signed-out visitors reach only the views marked
`public` (sign-in, set-your-password, the language switch) and static files;
anything else sends them to sign in. Every programme-scoped view then loads
what its URL names through the `load_*` functions below, which answer 404 when
the signed-in coordinator is not one of the programme's coordinators, so a
page of another programme is indistinguishable from one that does not exist.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, abort, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from tracker.db.orm import (
    InboundMessage,
    Participant,
    Programme,
    Reminder,
    programme_coordinators,
)
from tracker.services.review_queue import belongs_to_programme
from tracker.services.signing_in import SignedIn, current_sign_in
from tracker.web.context import now, signed_in, unit_of_work, web

View = TypeVar("View", bound=Callable[..., Any])
_PUBLIC = "tracker_public"
# The session is re-stamped at most this often (each stamp is a new cookie).
_SEEN_RESOLUTION = 60.0


def public(view: View) -> View:
    """Mark a view as open to signed-out visitors."""
    setattr(view, _PUBLIC, True)
    return view


def install_sign_in_gate(app: Flask) -> None:
    @app.before_request
    def sign_in_gate() -> Response | None:
        g.coordinator = None
        if request.endpoint == "static":
            return None
        g.coordinator = _session_coordinator()
        view = app.view_functions.get(request.endpoint or "")
        if g.coordinator is not None or getattr(view, _PUBLIC, False):
            return None
        target = request.full_path if request.method == "GET" else None
        return redirect(url_for("auth.sign_in", next=safe_next(target)))


def start_session(coordinator: SignedIn) -> None:
    """A fresh session for a coordinator who just proved who they are.

    Nothing from before sign-in is kept but the language choice: in
    particular the CSRF token is new, and a random nonce makes the cookie
    differ from any issued before.
    """
    language = session.get("language")
    session.clear()
    session.permanent = True
    moment = now().timestamp()
    session["auth"] = {
        "id": coordinator.coordinator_id,
        "epoch": coordinator.epoch,
        "since": moment,
        "seen": moment,
        "nonce": secrets.token_urlsafe(12),
    }
    if language is not None:
        session["language"] = language
    g.coordinator = coordinator


def end_session() -> None:
    session.clear()
    g.coordinator = None


def safe_next(target: str | None) -> str | None:
    """`target` if it is a path on this site (never another site: no open redirect)."""
    if not target:
        return None
    target = target.rstrip("?")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(c) < 32 for c in target):
        return None
    return target


def _session_coordinator() -> SignedIn | None:
    auth = session.get("auth")
    if auth is None:
        return None
    try:
        coordinator_id, epoch = int(auth["id"]), int(auth["epoch"])
        since, seen = float(auth["since"]), float(auth["seen"])
    except (KeyError, TypeError, ValueError):
        session.pop("auth", None)
        return None
    policy = web().sessions
    moment = now().timestamp()
    if (
        moment - seen > policy.idle.total_seconds()
        or moment - since > policy.absolute.total_seconds()
    ):
        session.pop("auth", None)
        flash(_("Your session has ended. Please sign in again."), "info")
        return None
    with unit_of_work() as db:
        coordinator = current_sign_in(coordinator_id, epoch, session=db)
    if coordinator is None:  # signed out elsewhere, or the password changed
        session.pop("auth", None)
        return None
    if moment - seen >= _SEEN_RESOLUTION:
        session["auth"] = {**auth, "seen": moment}
    return coordinator


# -- the authorising loader -----------------------------------------------------------


def load_programme(slug: str, *, session: Session) -> Programme:
    """The programme `slug`, if the signed-in coordinator is one of its coordinators."""
    programme = session.scalar(
        select(Programme)
        .join(programme_coordinators, programme_coordinators.c.programme_id == Programme.id)
        .where(
            Programme.slug == slug,
            programme_coordinators.c.coordinator_id == signed_in().coordinator_id,
        )
    )
    if programme is None:
        abort(404)
    return programme


def load_participant(slug: str, participant_id: int, *, session: Session) -> Participant:
    """A participant of the programme `slug` (which the coordinator must coordinate)."""
    programme = load_programme(slug, session=session)
    participant = session.get(Participant, participant_id)
    if participant is None or participant.programme_id != programme.id:
        abort(404)
    return participant


def load_inbound(slug: str, inbound_id: int, *, session: Session) -> InboundMessage:
    """A received message that belongs to the programme `slug` (see `belongs_to_programme`)."""
    programme = load_programme(slug, session=session)
    inbound = session.get(InboundMessage, inbound_id)
    if inbound is None or not belongs_to_programme(inbound, programme.id, session=session):
        abort(404)
    return inbound


def load_reminder(slug: str, reminder_id: int, *, session: Session) -> Reminder:
    """An outgoing message of the programme `slug`: to or about one of its participants."""
    programme = load_programme(slug, session=session)
    reminder = session.get(Reminder, reminder_id)
    if reminder is None:
        abort(404)
    owner = reminder.programme_id
    if owner is None and reminder.participant is not None:
        owner = reminder.participant.programme_id
    if owner != programme.id:
        abort(404)
    return reminder


def referring_page() -> str:
    """The page of this site a form was sent from, else the start page."""
    referrer = request.referrer
    if referrer:
        parts = urlsplit(referrer)
        if parts.netloc == request.host:
            path = safe_next(parts.path + (f"?{parts.query}" if parts.query else ""))
            if path is not None:
                return path
    return url_for("programmes.index")
