"""A coordinator's round in a real browser: sign in, read, decide, record, switch to Chinese."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

from tests.browser.conftest import CHROMIUM_ARGS, Server
from tests.web.conftest import PASSWORD

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}


def _shoot(page: Page, folder: Path, name: str) -> None:
    for size, suffix in ((DESKTOP, "desktop"), (PHONE, "360")):
        # A viewport as tall as the page, rather than `full_page`: Chromium leaves
        # a sandboxed frame (the email preview) blank in a full-page capture.
        page.set_viewport_size(size)
        height = page.evaluate("document.documentElement.scrollHeight")
        page.set_viewport_size({"width": size["width"], "height": max(size["height"], height)})
        page.screenshot(path=str(folder / f"{name}-{suffix}.png"))
        if size is PHONE:
            # At 360 px nothing may be wider than the screen (no sideways scrolling).
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"{name} is {width}px wide at 360px"
    page.set_viewport_size(DESKTOP)


def test_a_coordinator_works_through_the_dashboard(
    server: Server, chromium_path: str, artefacts: Path
) -> None:
    world = server.world
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="en-GB", viewport=DESKTOP)
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

        # Sign in.
        page.goto(server.url + "/programmes/small-programme")
        expect(page).to_have_url(server.url + "/sign-in?next=/programmes/small-programme")
        _shoot(page, artefacts, "01-sign-in")
        page.fill("input[name=email]", "officer@example.org")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit].primary")

        # Read the overview.
        expect(page.locator("h1")).to_have_text("Small test programme")
        expect(page.locator("#participants + table")).to_contain_text("王晓明")
        expect(page.locator("svg title").first).to_have_text("Actions by status")
        _shoot(page, artefacts, "02-overview")

        # Resolve a review item: the forged reply is discarded.
        page.click("nav.programme-nav >> text=Review")
        expect(page.locator("article.held-message")).to_contain_text("intruder@example.net")
        _shoot(page, artefacts, "03-review")
        page.on("dialog", lambda dialog: dialog.accept())
        page.click("article.held-message button.danger")
        expect(page.locator(".flash.success")).to_contain_text("Message discarded")
        expect(page.locator("main")).to_contain_text("Nothing is waiting for review.")

        # Record progress heard by phone.
        page.goto(f"{server.url}/programmes/small-programme/participants/{world.anna}")
        page.fill("textarea[name=text]", "1: in progress 70%, two cities paired by phone")
        page.click("text=Record >> nth=-1")
        expect(page.locator(".flash.success")).to_have_text("1 update recorded.")
        expect(page.locator(".action-card")).to_contain_text("two cities paired by phone")
        _shoot(page, artefacts, "04-participant")

        page.goto(f"{server.url}/programmes/small-programme/preview?participant={world.wang}")
        expect(page.locator("iframe.preview-frame")).to_be_visible()
        _shoot(page, artefacts, "05-preview")

        # Switch to Chinese: the choice stays on the next page.
        page.click("button[lang=zh-CN]")
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        page.goto(server.url + "/programmes/small-programme")
        expect(page.locator("h2#silent")).to_have_text("未回复的学员")
        _shoot(page, artefacts, "06-overview-zh")
        page.goto(f"{server.url}/programmes/small-programme/participants/{world.wang}")
        expect(page.locator("main")).to_contain_text("记录电话中了解到的进展")
        _shoot(page, artefacts, "07-participant-zh")

        assert not errors, errors  # no script or policy errors in the console
        browser.close()
