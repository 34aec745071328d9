"""A coordinator configures and exchanges in a real browser: schedule, import, exports, report."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
from playwright.sync_api import Page, expect, sync_playwright

from tests.browser.conftest import CHROMIUM_ARGS, Server
from tests.browser.test_dashboard_in_chromium import DESKTOP, _shoot
from tests.web.conftest import PASSWORD

SLUG = "small-programme"
SHEET = (
    "email,name,organisation,ref,action,due\n"
    "wang.xiaoming@example.org,王晓明,北京市西城区生态环境局,1,发布西城区清洁空气行动计划,2019-09-30\n"
    "wang.xiaoming@example.org,,,2,试点低排放物流配送区,2020-06-30\n"
    "anna@example.org,Anna Keller,,1,Pair each city with a peer city,2019-09-30\n"
    "li.na@example.cn,李娜,成都市生态环境局,1,建立空气质量监测网络,2019-12-31\n"
)


def _count(page: Page, kind: str) -> int:
    return int(page.locator(f"strong.count-{kind}").inner_text().replace(",", ""))


def test_a_coordinator_configures_imports_and_exports(
    server: Server, chromium_path: str, artefacts: Path, tmp_path: Path
) -> None:
    base = f"{server.url}/programmes/{SLUG}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="en-GB", viewport=DESKTOP, accept_downloads=True)
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("dialog", lambda dialog: dialog.accept())
        page.goto(server.url + "/sign-in")
        page.fill("input[name=email]", "officer@example.org")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit].primary")

        # The schedule: edit a rule and watch the 90-day preview change.
        page.goto(base)
        page.click("nav.programme-nav >> text=Schedule")
        expect(page.locator("#preview h2")).to_have_text("What the current rules will send")
        _shoot(page, artefacts, "11-schedule")
        # The server runs on the real clock: a monthly check-in from today, then weekly.
        page.fill("#rule-0-first", datetime.now(UTC).date().isoformat())
        page.fill("#rule-0-count", "12")
        page.click("button[value=preview]")
        monthly = _count(page, "check_in")
        assert monthly > 0
        page.fill("#rule-0-every", "1 week")
        page.click("button[value=preview]")
        expect(page.locator("#preview h2")).to_have_text("What these rules would send")
        weekly = _count(page, "check_in")
        assert weekly > monthly * 3, (monthly, weekly)
        expect(page.locator("#preview")).to_contain_text("Not saved yet.")
        _shoot(page, artefacts, "12-schedule-edited")
        page.click("button[value=save]")
        expect(page.locator(".flash.success")).to_contain_text("every 1 month → every 1 week")
        assert _count(page, "check_in") == weekly

        # Import a spreadsheet: problems first, then the changes, then applied.
        page.click("nav.programme-nav >> text=Import")
        bad = tmp_path / "participants.csv"
        bad.write_text(SHEET.replace("2019-12-31", "2019-13-31"), encoding="utf-8")
        page.set_input_files("input[name=file]", str(bad))
        page.click("button[type=submit].primary")
        expect(page.locator(".import-problems")).to_contain_text(
            "row 5, column F (due): '2019-13-31' is not a date"
        )
        _shoot(page, artefacts, "13-import-problems")
        good = tmp_path / "participants-fixed.csv"
        good.write_text(SHEET, encoding="utf-8")
        page.set_input_files("input[name=file]", str(good))
        page.click("form.upload-form button[type=submit]")
        changes = page.locator(".import-changes")
        expect(changes).to_contain_text("participant li.na@example.cn: new")
        expect(changes).to_contain_text("action 2 of wang.xiaoming@example.org: due")
        _shoot(page, artefacts, "14-import-changes")
        page.click("text=Apply these changes")
        expect(page.locator(".flash.success")).to_contain_text("Imported:")
        expect(page.locator("main")).to_contain_text("李娜")

        # Download both exports and open them.
        page.goto(f"{base}/exports")
        _shoot(page, artefacts, "15-exports")
        with page.expect_download() as download:
            page.click(f"a[href='/programmes/{SLUG}/exports/actions?format=xlsx']")
        xlsx = tmp_path / "actions.xlsx"
        download.value.save_as(xlsx)
        sheet = openpyxl.load_workbook(xlsx)["actions"]
        emails = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
        assert "li.na@example.cn" in emails
        with page.expect_download() as download:
            page.click(f"a[href='/programmes/{SLUG}/exports/updates?format=csv']")
        updates = tmp_path / "updates.csv"
        download.value.save_as(updates)
        rows = list(csv.DictReader(io.StringIO(updates.read_text(encoding="utf-8-sig"))))
        assert [r["ref"] for r in rows] == ["1", "2"]

        # The printable report, as it prints.
        page.goto(f"{base}/report")
        expect(page.locator("h1")).to_have_text("Small test programme")
        _shoot(page, artefacts, "16-report")
        page.emulate_media(media="print")
        expect(page.locator("header.site")).to_be_hidden()
        expect(page.locator("nav.programme-nav")).to_be_hidden()
        expect(page.locator("section svg").first).to_be_visible()
        page.screenshot(path=str(artefacts / "17-report-print.png"), full_page=True)
        page.pdf(path=str(artefacts / "17-report.pdf"), format="A4")
        assert (artefacts / "17-report.pdf").stat().st_size > 10_000
        page.emulate_media(media="screen")

        # Add a participant by hand, in Chinese.
        page.click("button[lang=zh-CN]")
        page.goto(f"{base}/participants/new")
        page.fill("#f-email", "zhao.lei@example.cn")
        page.fill("#f-name", "赵磊")
        page.click("button[type=submit].primary")
        expect(page.locator(".flash.success")).to_contain_text("zhao.lei@example.cn 已成为学员")
        page.fill("#f-ref", "1")
        page.fill("#f-title", "制定区级低碳交通方案")
        page.fill("#f-due", "2019-12-31")
        page.click("form.action-add button[type=submit]")
        expect(page.locator(".flash.success")).to_contain_text("已添加行动 1")
        _shoot(page, artefacts, "18-edit-participant-zh")
        assert errors == []
        browser.close()
