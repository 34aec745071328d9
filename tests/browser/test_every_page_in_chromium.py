"""Every main page, in English and in Chinese, on a laptop and on a phone.

Each page is saved as a screenshot (the test artefacts a person looks at)
and checked for what a programme officer would notice first: the page is in
the language chosen, names the programme, shows no untranslated words
where a translation exists, and fits a 360 px screen without sideways
scrolling.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright
from sqlalchemy import select

from tests.browser.conftest import CHROMIUM_ARGS, Server
from tests.browser.test_dashboard_in_chromium import DESKTOP, _shoot
from tests.web.conftest import PASSWORD
from tracker.db.orm import Reminder

SLUG = "small-programme"

# (name, path, words on the page in English, and in Chinese)
PAGES = [
    ("programmes", "/programmes", "Your programmes", "您的项目"),
    ("overview", f"/programmes/{SLUG}", "Where the actions stand", "行动进展"),
    ("participant", f"/programmes/{SLUG}/participants/{{wang}}", "Timeline", "时间线"),
    ("message", f"/programmes/{SLUG}/messages/{{reply}}", "1：已完成", "1：已完成"),
    ("review", f"/programmes/{SLUG}/review", "Messages held for review", "待审核的邮件"),
    (
        "schedule",
        f"/programmes/{SLUG}/schedule",
        "What the current rules will send",
        "当前规则将发送的邮件",
    ),
    ("preview", f"/programmes/{SLUG}/preview?participant={{anna}}", "Email preview", "邮件预览"),
    ("import", f"/programmes/{SLUG}/import", "Import participants and actions", "导入学员和行动"),
    ("edit", f"/programmes/{SLUG}/participants/{{anna}}/edit", "Add an action", "添加行动"),
    ("outbox", f"/programmes/{SLUG}/outbox", "Retry", "重试"),
    ("exports", f"/programmes/{SLUG}/exports", "Export to a spreadsheet", "导出为电子表格"),
    ("report", f"/programmes/{SLUG}/report", "Summary", "概要"),
]


@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_every_main_page_reads_well_in_both_languages_and_widths(
    server: Server, chromium_path: str, artefacts: Path, language: str
) -> None:
    world = server.world
    with world.factory.begin() as session:  # one failed message, for the outbox's retry
        failed = session.scalars(select(Reminder).where(Reminder.participant_id == world.anna))
        row = failed.first()
        assert row is not None
        row.state, row.attempts = "failed", 8
        row.last_error = "gave up after 8 attempts: SMTP 127.0.0.1:25: 451 try again later"
    ids = {"wang": world.wang, "anna": world.anna, "reply": world.reply}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        page: Page = browser.new_context(locale="en-GB", viewport=DESKTOP).new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(server.url + "/sign-in")
        page.fill("input[name=email]", "officer@example.org")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit].primary")
        if language == "zh-CN":
            page.click("button[lang=zh-CN]")
            expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        for name, path, english, chinese in PAGES:
            page.goto(server.url + path.format(**ids))
            expect(page.locator("html")).to_have_attribute("lang", language)
            words = english if language == "en" else chinese
            expect(page.locator("main")).to_contain_text(words)
            if name == "preview":  # the HTML part, in its sandboxed frame
                frame = page.frame_locator("iframe.preview-frame")
                expect(frame.locator("body")).to_contain_text("Dear Anna Keller,")
            if name not in ("message", "edit"):
                expect(page.locator("main")).to_contain_text("Small test programme")
            _shoot(page, artefacts, f"30-{name}-{language}")
        assert not errors, errors
        browser.close()
