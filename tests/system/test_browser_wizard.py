"""A real browser (Debian's Chromium, headless, through Playwright) completes first run, signs in,
walks the wizard, reads the token from the page, and sees step 4 turn Done when Entra's Test
Connection request arrives. The app runs as a real HTTP server on its own SQLite file."""
from __future__ import annotations

import json
import os
import re
import threading
import urllib.request
import uuid
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from jericho import create_app
from jericho.extensions import db
from jericho.storage.models import ScimToken

from .page_checks import accessibility_problems, with_axe
from conftest import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def browser_or_skip():
    """Playwright's sync API; CI (JERICHO_REQUIRE_BROWSER=1) fails where a developer skips."""
    try:
        from playwright import sync_api
    except ImportError:
        sync_api = None
    missing = "Playwright is not installed" if sync_api is None else (
        None if CHROMIUM.exists() else f"{CHROMIUM} is missing (apt-get install chromium)"
    )
    if missing is None:
        return sync_api
    if os.environ.get("JERICHO_REQUIRE_BROWSER") == "1":
        pytest.fail(missing)
    pytest.skip(missing)


@pytest.fixture
def live_server(tmp_path):
    app = create_app(
        {"SECRET_KEY": "browser-test-key", "DATABASE_URL": f"sqlite:///{tmp_path / 'browser.sqlite3'}"},
        instance_path=tmp_path,
    )
    with app.app_context():
        db.create_all()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    with app.app_context():
        db.engine.dispose()


def test_first_run_sign_in_and_the_wizard_in_a_real_browser(live_server):
    sync_api = browser_or_skip()
    expect = sync_api.expect
    app, base = live_server
    setup_code = app.test_cli_runner().invoke(args=["jericho", "setup-code"]).stdout.strip()

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = with_axe(browser.new_context()).new_page()
        problems = []  # a CSP violation or a script error shows up here
        page.on("console", lambda message: message.type == "error" and problems.append(message.text))
        page.on("pageerror", lambda error: problems.append(str(error)))
        try:
            # First run, reached from any page.
            page.goto(base + "/wizard")
            expect(page).to_have_url(base + "/setup")
            assert accessibility_problems(page) == []
            page.get_by_label("Setup code").fill(setup_code)
            page.get_by_label("Organization name").fill("Contoso")
            page.get_by_label("Your email address").fill("it@contoso.com")
            page.get_by_label("Password", exact=True).fill(PASSWORD)
            page.get_by_label("Password again").fill(PASSWORD)
            page.get_by_role("button", name="Create organization and admin").click()
            expect(page).to_have_url(base + "/wizard")
            expect(page.get_by_role("heading", name="Connect Microsoft Entra ID")).to_be_visible()

            # Sign out, and in again with the keyboard.
            page.get_by_role("button", name="Sign out").click()
            expect(page).to_have_url(base + "/sign-in")
            page.keyboard.press("Tab")
            expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
            page.get_by_label("Email address").fill("it@contoso.com")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_label("Password").press("Enter")
            expect(page).to_have_url(base + "/wizard")

            # Steps 1 and 2, then the token in step 3.
            page.get_by_role("link", name="step 1, Create the app in Entra").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Create the app in Entra")
            page.locator("a[rel=next]").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Provisioning mode")
            page.locator("a[rel=next]").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Tenant URL and Secret Token")
            page.get_by_role("button", name="Generate token").click()
            token = page.locator("#secret-token").inner_text().strip()
            tenant_url = page.locator("#tenant-url").inner_text().strip()
            assert re.fullmatch(r"jer_[0-9a-f]{8}_[\w-]+", token)
            assert tenant_url == base + "/scim_v2"
            expect(page.get_by_role("button", name="Copy the Secret Token")).to_be_visible()
            # A trial on this computer: Entra cannot reach it, which is fine for now.
            expect(page.locator("#live .badge")).to_have_text("Fine for a trial")
            expect(page.get_by_role("link", name="docs/deploy.md")).to_be_visible()
            page.set_viewport_size({"width": 375, "height": 800})  # phone width: nothing sticks out
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            page.set_viewport_size({"width": 1280, "height": 900})

            # The token was shown once: neither Reload nor Back shows it again or sends the form again.
            for move in (page.reload, page.go_back, page.go_forward):
                move()
                expect(page.get_by_role("heading", level=1)).to_have_text("Tenant URL and Secret Token")
                expect(page.locator("#secret-token")).to_have_count(0)
                expect(page.locator(".field__errors, .alert--error")).to_have_count(0)
            with app.app_context():
                assert db.session.execute(db.select(db.func.count(ScimToken.id))).scalar() == 1

            # Step 4 waits; Entra's Test Connection arrives; the live region turns Done by itself
            # at the next automatic refresh (the page's clock is moved on, not waited for).
            page.clock.install()
            page.locator("a[rel=next]").click()
            live = page.locator("#live")
            expect(live.locator(".badge")).to_have_text("Waiting for Entra")
            page.get_by_label("Refresh automatically").check()
            request = urllib.request.Request(
                f"{tenant_url}/Users?filter=userName+eq+%22{uuid.uuid4()}%22",
                headers={"Authorization": f"Bearer {token}"},
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 200
                assert json.load(response)["totalResults"] == 0
            expect(live.locator(".badge")).to_have_text("Waiting for Entra")
            page.clock.run_for(11_000)
            expect(live.locator(".badge")).to_have_text("Done")
            expect(live).to_contain_text("Entra's Test Connection arrived at")
            expect(live).to_contain_text("and was answered 200")

            # Without the script's help too: "Check again" renders it on the server.
            page.get_by_label("Refresh automatically").uncheck()
            page.get_by_role("button", name="Check again").click()
            expect(live.locator(".badge")).to_have_text("Done")
            expect(page.locator("#step-tasks")).to_contain_text("Test Connection")
            assert problems == []
        finally:
            browser.close()
