"""Signing in and out: passwords, throttling, expiry, links, language, redirects."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.conftest import TEST_SECRET_KEY
from tests.web.conftest import PASSWORD, World
from tracker.db.orm import Coordinator
from tracker.services.passwords import make_password_link_token


def test_the_sign_in_form_has_email_and_password_fields_and_lets_a_coordinator_in(
    world: World,
) -> None:
    client = world.client()
    form = client.get("/sign-in").get_data(as_text=True)
    assert 'name="email"' in form
    assert 'name="password"' in form
    response = client.post("/sign-in", {"email": "Officer@Example.org ", "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/programmes"
    assert "Small test programme" in client.get("/programmes").get_data(as_text=True)


def test_a_wrong_password_and_an_unknown_account_get_the_same_answer(world: World) -> None:
    client = world.client()
    wrong = client.post("/sign-in", {"email": "officer@example.org", "password": "nope" * 5})
    unknown = client.post("/sign-in", {"email": "nobody@example.org", "password": PASSWORD})
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "The email or the password is not right." in response.get_data(as_text=True)
    assert client.get("/programmes").status_code == 302


def test_guessing_is_throttled_per_account_even_with_the_right_password(world: World) -> None:
    client = world.client()
    for _ in range(5):
        client.post("/sign-in", {"email": "officer@example.org", "password": "wrong password!"})
    refused = client.post("/sign-in", {"email": "officer@example.org", "password": PASSWORD})
    assert refused.status_code == 429
    assert "Try again in 15 minutes" in refused.get_data(as_text=True)
    # Another account is not locked by it; the locked one opens when the window has passed.
    assert world.client().sign_in("second@example.org").status_code == 302
    world.clock.moment += timedelta(minutes=15, seconds=1)
    assert (
        client.post("/sign-in", {"email": "officer@example.org", "password": PASSWORD}).status_code
        == 302
    )


def test_guessing_is_throttled_per_address_across_accounts(world: World) -> None:
    client = world.client()
    for attempt in range(20):
        client.post("/sign-in", {"email": f"guess{attempt}@example.org", "password": "x" * 12})
    assert (
        client.post("/sign-in", {"email": "officer@example.org", "password": PASSWORD}).status_code
        == 429
    )
    from_elsewhere = world.client()
    from_elsewhere.get("/sign-in")
    response = from_elsewhere.raw.post(
        "/sign-in",
        data={
            "email": "officer@example.org",
            "password": PASSWORD,
            "csrf_token": from_elsewhere.token,
        },
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    )
    assert response.status_code == 302


def test_a_session_ends_after_eight_idle_hours(world: World) -> None:
    client = world.client()
    client.sign_in("officer@example.org")
    world.clock.moment += timedelta(hours=7)
    assert client.get("/programmes").status_code == 200
    world.clock.moment += timedelta(hours=7)  # 7 h after the last request: still fine
    assert client.get("/programmes").status_code == 200
    world.clock.moment += timedelta(hours=8, minutes=1)
    response = client.get("/programmes")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/sign-in")
    assert "Your session has ended" in client.get("/sign-in").get_data(as_text=True)


def test_a_session_ends_seven_days_after_sign_in_however_busy(world: World) -> None:
    client = world.client()
    client.sign_in("officer@example.org")
    for _ in range(7 * 4 + 1):
        world.clock.moment += timedelta(hours=6)
        response = client.get("/programmes")
    assert response.status_code == 302


def test_signing_out_ends_the_coordinators_other_sessions_too(world: World) -> None:
    laptop, phone = world.client(), world.client()
    laptop.sign_in("officer@example.org")
    phone.sign_in("officer@example.org")
    copied_cookie = laptop.raw.get_cookie("tracker_session")
    assert copied_cookie is not None
    laptop.post("/sign-out")
    assert laptop.get("/programmes").status_code == 302
    assert phone.get("/programmes").status_code == 302
    thief = world.client()
    thief.raw.set_cookie("tracker_session", copied_cookie.value)
    assert thief.get("/programmes").status_code == 302


def test_signing_in_rotates_the_session_and_its_csrf_token(world: World) -> None:
    client = world.client()
    client.get("/sign-in")
    before_cookie, before_token = client.raw.get_cookie("tracker_session"), client.token
    client.sign_in("officer@example.org")
    after_cookie = client.raw.get_cookie("tracker_session")
    assert before_cookie is not None
    assert after_cookie is not None
    assert after_cookie.value != before_cookie.value
    assert client.token != before_token
    assert after_cookie.http_only
    assert after_cookie.same_site == "Lax"


def test_after_sign_in_only_a_path_of_this_site_is_followed(world: World) -> None:
    for target, expected in (
        ("/programmes/small-programme", "/programmes/small-programme"),
        ("https://evil.example/", "/programmes"),
        ("//evil.example/x", "/programmes"),
        ("/\\evil.example", "/programmes"),
    ):
        client = world.client()
        client.get("/sign-in")
        response = client.raw.post(
            "/sign-in",
            query_string={"next": target},
            data={"email": "officer@example.org", "password": PASSWORD, "csrf_token": client.token},
        )
        assert response.headers["Location"] == expected, target


def _link(world: World, email: str = "second@example.org") -> str:
    with world.factory() as session:
        coordinator = session.scalar(select(Coordinator).where(Coordinator.email == email))
        assert coordinator is not None
        return "/set-password/" + make_password_link_token(
            coordinator, secret_key=TEST_SECRET_KEY, now=world.clock.moment
        )


def test_a_set_your_password_link_works_once(world: World) -> None:
    link = _link(world)
    client = world.client()
    assert "Second Officer" in client.get(link).get_data(as_text=True)
    short = client.post(link, {"password": "short", "confirm": "short"})
    assert "at least 10 characters" in short.get_data(as_text=True)
    done = client.post(
        link, {"password": "my new long password", "confirm": "my new long password"}
    )
    assert done.status_code == 302
    assert client.get("/programmes").status_code == 200  # signed in by the link
    again = world.client().get(link)
    assert again.status_code == 404
    assert "not valid any more" in again.get_data(as_text=True)
    assert world.client().sign_in("second@example.org", "my new long password").status_code == 302
    assert world.client().sign_in("second@example.org", PASSWORD).status_code == 401


def test_a_set_your_password_link_expires_and_cannot_be_forged(world: World) -> None:
    link = _link(world)
    world.clock.moment += timedelta(hours=72, seconds=1)
    assert world.client().get(link).status_code == 404
    assert world.client().get(link[:-3] + "abc").status_code == 404
    assert world.client().get("/set-password/" + "x" * 40).status_code == 404


def test_a_new_password_ends_the_sessions_signed_in_with_the_old_one(world: World) -> None:
    client = world.client()
    client.sign_in("second@example.org")
    setter = world.client()
    link = _link(world)
    setter.get(link)
    setter.post(link, {"password": "another long password", "confirm": "another long password"})
    assert client.get("/programmes").status_code == 302


def test_the_chosen_language_is_remembered_for_the_coordinator(world: World) -> None:
    client = world.client()
    client.sign_in("officer@example.org")
    assert "Your programmes" in client.get("/programmes").get_data(as_text=True)
    client.post(
        "/language", {"language": "zh_CN"}, headers={"Referer": "http://localhost/programmes"}
    )
    page = client.get("/programmes").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page
    assert "您的项目" in page
    # A new browser, after signing in: still Chinese, though the browser asks for English.
    other = world.client()
    other.sign_in("officer@example.org")
    page = other.get("/programmes", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "您的项目" in page
    with world.factory() as session:
        assert (
            session.scalar(
                select(Coordinator.language).where(Coordinator.email == "officer@example.org")
            )
            == "zh_CN"
        )


def test_a_signed_out_visitor_gets_the_browsers_language(world: World) -> None:
    page = world.client().get("/sign-in", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert "登录" in page.get_data(as_text=True)
    page = world.client().get("/sign-in", headers={"Accept-Language": "en-GB"})
    assert "Sign in" in page.get_data(as_text=True)
