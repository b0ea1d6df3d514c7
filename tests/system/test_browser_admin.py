"""Every admin page in a real browser (Debian's Chromium through Playwright) against a real HTTP
server with an Entra-shaped directory: pages without JavaScript, choices the script keeps per
page, and the layout at desktop and phone widths."""
from __future__ import annotations

import pytest

from jericho.api import provisioning_log
from jericho.extensions import db
from jericho.storage import accounts
from jericho.storage.models import AdminUser

from .test_browser_wizard import CHROMIUM, CHROMIUM_ARGS, browser_or_skip, live_server  # noqa: F401 (fixture)
from conftest import PASSWORD, ScimClient
from status_helpers import TEST_CONNECTION, deactivate, provision_group, provision_user


@pytest.fixture
def directory(live_server, password_hash):
    """Contoso with its admin, and what Entra sent: Test Connection, users (a guest among them),
    a group, a conflict and a deactivation."""
    app, base = live_server
    with app.app_context():
        _, token = accounts.token_create(organization_name="Contoso", label="Entra")
        db.session.add(AdminUser(organization=accounts.organization_by_name("Contoso"),
                                 email="it@contoso.com", password_hash=password_hash))
        db.session.commit()
    entra = ScimClient(app.test_client(), token)
    assert entra.get(TEST_CONNECTION).status_code == 200
    users = [provision_user(entra, name, displayName=display) for name, display in (
        ("ava.lindqvist@contoso.com", "Ava Lindqvist"),
        ("bartholomew.featherstonehaugh@contoso.com", "Bartholomew Featherstonehaugh"),
        ("chidi.okonkwo_gmail.com#EXT#@contoso.onmicrosoft.com", "Chidi Okonkwo (guest)"),
    )]
    provision_group(entra, "Finance and Accounting", [user["id"] for user in users])
    assert entra.post("/Users", json={"userName": "AVA.LINDQVIST@contoso.com"}).status_code == 409
    deactivate(entra, users[2]["id"])
    app.extensions[provisioning_log.EXTENSION].flush()  # the server stores its log in batches
    return app, base


@pytest.fixture
def browser(directory):
    sync_api = browser_or_skip()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield sync_api.expect, browser
        finally:
            browser.close()


def signed_in(browser, base: str, **context_options):
    page = browser.new_context(**context_options).new_page()
    page.goto(base + "/sign-in")
    page.get_by_label("Email address").fill("it@contoso.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + "/status/")
    return page


def test_without_javascript_nothing_shows_that_needs_it(directory, browser):
    _, base = directory
    expect, browser = browser
    page = signed_in(browser, base, java_script_enabled=False)
    for step, value_id in ((1, "app-name"), (3, "tenant-url"), (5, "coalesce")):
        page.goto(f"{base}/wizard/step/{step}")
        expect(page.locator(f"#{value_id}")).to_be_visible()
        expect(page.locator("button[data-copy]")).to_be_hidden()
        # The value is one click from being selected, ready for Ctrl+C.
        expect(page.locator(f"#{value_id}")).to_have_css("user-select", "all")
    for path in ("/wizard/step/4", "/status/"):
        page.goto(base + path)
        expect(page.locator("input[data-auto-refresh]")).to_be_hidden()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_automatic_refresh_is_a_choice_of_each_page(directory, browser):
    _, base = directory
    expect, browser = browser
    page = signed_in(browser, base)
    page.goto(base + "/wizard/step/4")
    page.get_by_label("Refresh automatically").check()
    page.goto(base + "/status/")
    expect(page.get_by_label("Refresh this page every 10 seconds")).not_to_be_checked()
    page.goto(base + "/wizard/step/4")
    expect(page.get_by_label("Refresh automatically")).to_be_checked()
    page.goto(base + "/wizard/step/7")
    expect(page.get_by_label("Refresh automatically")).not_to_be_checked()
