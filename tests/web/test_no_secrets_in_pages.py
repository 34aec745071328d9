"""No page of the dashboard, and no response header but the cookie itself, shows a secret:
the secret key, the SMTP and IMAP passwords in their URLs, or the session cookie."""

from __future__ import annotations

from tests.conftest import TEST_SECRET_KEY
from tests.web.conftest import World
from tests.web.test_route_walk import _urls
from tracker.config import settings_from_values
from tracker.web.app import create_app

SMTP_PASSWORD = "Smtp-Pa55word-in-the-url"
IMAP_PASSWORD = "Imap-Pa55word-in-the-url"


def test_no_page_shows_a_secret_to_a_signed_in_coordinator(world: World) -> None:
    settings = settings_from_values(
        {
            "TRACKER_SECRET_KEY": TEST_SECRET_KEY,
            "TRACKER_FROM": "Programme Office <followup@example.org>",
            "TRACKER_SMTP_URL": f"smtp://followup:{SMTP_PASSWORD}@mail.example.org:587",
            "TRACKER_IMAP_URL": f"imaps://followup:{IMAP_PASSWORD}@mail.example.org/INBOX",
            "TRACKER_PUBLIC_URL": "https://tracker.example.org",
        }
    )
    world.app = create_app(settings, world.factory, clock=world.clock)
    client = world.client()
    signed_in = client.sign_in("officer@example.org")
    cookie = signed_in.headers["Set-Cookie"].split(";", 1)[0].split("=", 1)[1]
    assert len(cookie) > 20
    secrets = (TEST_SECRET_KEY, SMTP_PASSWORD, IMAP_PASSWORD, cookie)
    walked = 0
    for endpoint, method, url in _urls(world):
        if method != "GET" or endpoint in ("auth.sign_out", "static"):
            continue
        response = client.raw.get(url)
        body = response.get_data()  # bytes: exports are files
        headers = "\n".join(f"{k}: {v}" for k, v in response.headers if k != "Set-Cookie")
        for secret in secrets:
            assert secret.encode() not in body, (url, secret)
            assert secret not in headers, (url, secret)
        walked += 1
    assert walked > 10
