"""Error pages: a plain page in the coordinator's language, never a traceback.

A problem a coordinator can fix (a `TrackerError` from a service, such as
"already paused") after a form is flashed on the page they came from; the
unit of work it happened in has been rolled back, so nothing changed.
"""

from __future__ import annotations

import logging

from flask import Flask, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.wrappers import Response

from tracker.errors import NotFoundError, TrackerError
from tracker.web.access import referring_page

log = logging.getLogger(__name__)


def install_error_pages(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_failed(error: CSRFError) -> tuple[str, int]:
        message = _(
            "This form has expired or did not come from this site. "
            "Go back, reload the page and try again."
        )
        if request.blueprint == "personal":
            return _participant_page(400, _("The form could not be accepted"), message)
        return _page(400, _("The form could not be accepted"), message)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int] | Response:
        code = error.code or 500
        if code < 400:  # a redirect raised as an exception
            return error.get_response()
        titles = {
            403: _("Not allowed"),
            404: _("Page not found"),
            405: _("Not allowed"),
            413: _("The file is too large"),
        }
        messages = {
            404: _("There is no such page, or it is not one of your programmes."),
        }
        title = titles.get(code, _("Something went wrong"))
        if request.blueprint == "personal" and code == 413:
            message = _(
                "The files are too large to send together. Send a smaller copy, "
                "or one file at a time."
            )
            return _participant_page(code, title, message)
        return _page(code, title, messages.get(code, _("The request could not be handled.")))

    @app.errorhandler(NotFoundError)
    def not_found(error: NotFoundError) -> tuple[str, int] | Response:
        if request.method == "POST":
            return _flash_back(str(error))
        return _page(404, _("Page not found"), str(error))

    @app.errorhandler(TrackerError)
    def user_error(error: TrackerError) -> tuple[str, int] | Response:
        if request.method == "POST":
            return _flash_back(str(error))
        return _page(400, _("That did not work"), str(error))

    @app.errorhandler(Exception)
    def crashed(error: Exception) -> tuple[str, int]:
        if isinstance(error, HTTPException):  # pragma: no cover - handled above
            raise error
        log.exception("action=web.error path=%s", request.path)
        return _page(
            InternalServerError.code,
            _("Something went wrong"),
            _("The tracker could not show this page. The error has been logged."),
        )


def _page(code: int, title: str, message: str) -> tuple[str, int]:
    return render_template("web/error.html", code=code, title=title, message=message), code


def _participant_page(code: int, title: str, message: str) -> tuple[str, int]:
    """A problem on a participant's own page: their layout, a way back, no dashboard."""
    token = (request.view_args or {}).get("token")
    back = url_for("personal.page", token=token) if isinstance(token, str) else None
    html = render_template("web/personal/problem.html", title=title, message=message, back=back)
    return html, code


def _flash_back(message: str) -> Response:
    flash(message, "error")
    return redirect(referring_page())
