"""Security headers on every response, and the session cookie's settings.

Pages allow only this app's own scripts, styles and images (no inline script,
so an injected `<script>` cannot run even if escaping failed), may not be
framed, and are not cached. The email preview's HTML is the one response that
may be framed, by our own pages only, and it runs sandboxed with no script.
"""

from __future__ import annotations

from flask import Flask, Response, request

PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-src 'self'; "
    "frame-ancestors 'none'"
)
# Email HTML carries its own inline styles; it gets nothing else, not even a script.
EMAIL_PREVIEW_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox"
)


def install_security_headers(app: Flask, *, https: bool) -> None:
    app.config.update(
        SESSION_COOKIE_NAME="tracker_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=https,
    )

    @app.after_request
    def add_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", PAGE_POLICY)
        headers.setdefault(
            "X-Frame-Options",
            "SAMEORIGIN" if headers["Content-Security-Policy"] == EMAIL_PREVIEW_POLICY else "DENY",
        )
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "same-origin"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if https:
            headers["Strict-Transport-Security"] = "max-age=31536000"
        if request.endpoint != "static":
            # Pages show personal data: no copy in a shared computer's cache.
            headers["Cache-Control"] = "no-store"
        return response
