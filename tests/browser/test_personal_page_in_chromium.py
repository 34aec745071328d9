"""A participant answers from a reminder's link on a phone, with a file; the coordinator sees it.

Everything is real: `tracker send-due` sends the reminder to an aiosmtpd
server, `tracker serve` (waitress) serves the page to Chromium at 390x844,
the acknowledgement goes out through the same SMTP server, and the one-click
unsubscribe is posted to waitress without a browser.
"""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright
from sqlalchemy.orm import Session, sessionmaker

from tests.browser.conftest import CHROMIUM_ARGS, _free_port, serving
from tests.cli import run_tracker
from tests.conftest import TEST_SECRET_KEY
from tests.mailflow import load_programme
from tests.smtp_server import ReceivedMessage, SmtpTestServer
from tests.web.conftest import PASSWORD
from tracker.services.passwords import find_coordinator, set_password

PHONE = {"width": 390, "height": 844}
FIRST_SEND = datetime(2019, 6, 24, 8, 0, tzinfo=UTC)


@dataclass
class Setup:
    url: str
    env: dict[str, str]
    smtp: SmtpTestServer


@pytest.fixture
def setup(db_url: str, session_factory: sessionmaker[Session], tmp_path: Path) -> Iterator[Setup]:
    if not db_url.startswith("sqlite"):
        pytest.skip("the browser tests run against SQLite; the pages' tests cover PostgreSQL")
    load_programme(session_factory, FIRST_SEND - timedelta(days=40))
    with session_factory.begin() as session:
        coordinator = find_coordinator("officer@example.org", session=session)
        set_password(coordinator, PASSWORD, session=session, now=FIRST_SEND, actor="cli")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with SmtpTestServer() as smtp:
        env = {
            "TRACKER_DATABASE_URL": db_url,
            "TRACKER_SECRET_KEY": TEST_SECRET_KEY,
            "TRACKER_FROM": "Programme Office <followup@example.org>",
            "TRACKER_SMTP_URL": f"smtp://{smtp.host}:{smtp.port}",
            "TRACKER_PUBLIC_URL": url,
            # The reminders are sent "in 2019" (--now); their links must still open today.
            "TRACKER_LINK_DAYS": "20000",
        }
        with serving(env, tmp_path, port=port):
            yield Setup(url=url, env=env, smtp=smtp)


def _to(messages: list[ReceivedMessage], address: str, kind: str) -> ReceivedMessage:
    return next(
        m for m in messages if address in m.rcpt_tos and m.parsed()["X-Tracker-Kind"] == kind
    )


def _text(message: ReceivedMessage) -> str:
    body = message.parsed().get_body(("plain",))
    assert body is not None
    return str(body.get_content())  # type: ignore[attr-defined]


def _shoot(page: Page, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / f"{name}-390.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name} is {width}px wide at 390px"


def test_a_participant_answers_from_the_reminders_link_on_a_phone(
    setup: Setup, chromium_path: str, artefacts: Path, tmp_path: Path
) -> None:
    result = run_tracker("send-due", "--now", FIRST_SEND.isoformat(), env=setup.env)
    assert result.code == 0, result.stderr
    wang = "wang.xiaoming@example.org"
    reminder = _to(setup.smtp.messages, wang, "check_in")
    link = re.search(rf"{re.escape(setup.url)}/u/\S+", _text(reminder))
    assert link is not None
    english = re.search(
        rf"{re.escape(setup.url)}/u/\S+",
        _text(_to(setup.smtp.messages, "anna@example.org", "check_in")),
    )
    assert english is not None
    evidence = tmp_path / "物流区方案.pdf"
    evidence.write_bytes(b"%PDF-1.4 the zone plan")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        phone = browser.new_context(locale="en-GB", viewport=PHONE, is_mobile=True, has_touch=True)
        page = phone.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

        # The English page of the other participant, as it looks on a phone.
        page.goto(english.group(0))
        expect(page.locator("h1")).to_have_text("Your actions")
        expect(page.locator("main")).to_contain_text("Pair each city with a peer city")
        _shoot(page, artefacts, "20-personal-page-en")

        # Wang's page, in Chinese whatever the browser's language.
        page.goto(link.group(0))
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        expect(page.locator("h1")).to_have_text("您的行动事项")
        _shoot(page, artefacts, "21-personal-page-zh")
        rows = page.locator("fieldset.answer")
        expect(rows).to_have_count(2)
        rows.nth(0).locator("select").select_option("done")
        rows.nth(0).locator("textarea").fill("已于六月发布")
        rows.nth(0).locator("input[type=file]").set_input_files(str(evidence))
        rows.nth(1).locator("select").select_option("in_progress")
        rows.nth(1).locator("input[type=number]").fill("40")
        rows.nth(1).locator("textarea").fill("物流区已划定")
        page.click("button.primary.wide")
        expect(page.locator(".flash.success")).to_contain_text("谢谢：已记录 2 条进展")
        expect(page.locator(".earlier")).to_contain_text("物流区已划定")
        expect(page.locator("fieldset.answer")).to_have_count(1)  # action 1 is done now
        _shoot(page, artefacts, "22-personal-page-zh-answered")

        # A changed link: a plain page, no data (in the browser's language: whose
        # link it was is not known, nor told).
        page.goto(link.group(0)[:-2] + "aa")
        expect(page.locator("h1")).to_have_text("This link does not work")
        expect(page.locator("main")).not_to_contain_text("王晓明")
        _shoot(page, artefacts, "23-personal-link-refused")
        assert errors == [
            "Failed to load resource: the server responded with a status of 404 (NOT FOUND)"
        ]
        errors.clear()

        # The acknowledgement goes out by email, naming the file.
        result = run_tracker("send-due", env=setup.env)
        assert result.code == 0, result.stderr
        ack = _text(_to(setup.smtp.messages, wang, "acknowledgement"))
        assert "我们已记录以下进展" in ack
        assert "物流区已划定" in ack
        assert "我们已保存您发送的文件：物流区方案.pdf。" in ack

        # The unsubscribe address from the reminder's header: confirm, then undo.
        header = str(reminder.parsed()["List-Unsubscribe"])
        one_click = header.split(">", 1)[0].lstrip("<")
        page.goto(one_click)
        expect(page.locator("main")).to_contain_text("不再接收本项目的跟进邮件？")
        _shoot(page, artefacts, "25-unsubscribe-zh")
        page.click("button:has-text('退订')")
        expect(page.locator("main")).to_contain_text("您已退订")
        _shoot(page, artefacts, "26-unsubscribed-zh")
        page.click("button:has-text('撤销：继续接收')")
        expect(page.locator(".flash.success")).to_contain_text("欢迎回来")

        # The coordinator sees the updates and the file in the same history.
        desk = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
        coordinator = desk.new_page()
        coordinator.goto(setup.url + "/sign-in")
        coordinator.fill("input[name=email]", "officer@example.org")
        coordinator.fill("input[name=password]", PASSWORD)
        coordinator.click("button[type=submit].primary")
        coordinator.goto(setup.url + "/programmes/small-programme")
        coordinator.click("a:has-text('王晓明') >> nth=0")
        main = coordinator.locator("main")
        expect(main).to_contain_text("物流区已划定")
        expect(main).to_contain_text("on the web")
        expect(main).to_contain_text("物流区方案.pdf")
        expect(main).to_contain_text("Answered on the personal page")
        coordinator.screenshot(path=str(artefacts / "24-participant-with-file.png"), full_page=True)
        href = coordinator.locator("ul.files a").first.get_attribute("href")
        assert href is not None
        download = coordinator.request.get(setup.url + href)  # with the browser's session
        assert download.status == 200
        assert download.headers["content-disposition"].startswith("attachment")
        assert download.headers["content-type"] == "application/pdf"
        assert download.headers["x-content-type-options"] == "nosniff"
        assert download.body() == b"%PDF-1.4 the zone plan"
        assert errors == []
        browser.close()

    # One-click unsubscribe, as a mail client posts it: no browser, no cookie, no CSRF token.
    request = urllib.request.Request(one_click, data=b"List-Unsubscribe=One-Click", method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        assert "您已退订" in response.read().decode("utf-8")
    status = run_tracker("status", "--json", env=setup.env)
    assert '"state": "opted_out"' in status.stdout
