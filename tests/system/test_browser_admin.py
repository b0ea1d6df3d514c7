"""Every admin page in a real browser (Debian's Chromium through Playwright) against a real HTTP
server with an Entra-shaped directory: accessibility by axe-core, the layout at desktop and phone
widths (with screenshots), pages without JavaScript, and choices the script keeps per page.

Screenshots go to the test's temporary folder (pytest prints where on a failure), named after the
page and the width."""
from __future__ import annotations

import pytest

from jericho.api import provisioning_log
from jericho.extensions import db
from jericho.storage import accounts
from jericho.storage.models import AdminUser, ProvisioningEvent

from .page_checks import accessibility_problems, cramped, overflowing, unseen_focus, with_axe
from .test_browser_wizard import CHROMIUM, CHROMIUM_ARGS, browser_or_skip, live_server  # noqa: F401 (fixture)
from conftest import PASSWORD, ScimClient
from status_helpers import TEST_CONNECTION, deactivate, provision_group, provision_user, shown_id

WIDTHS = {"desktop": 1280, "phone": 390}


@pytest.fixture
def directory(live_server, password_hash):
    """Contoso with its admin, and what Entra sent: Test Connection, users with long names and a
    guest among them, a group, a conflict, a deactivation and a deletion. Returns the app, the
    server's address, and every admin page by name."""
    app, base = live_server
    with app.app_context():
        token, secret = accounts.token_create(organization_name="Contoso", label="Entra production")
        prefix = token.prefix
        db.session.add(AdminUser(organization=accounts.organization_by_name("Contoso"),
                                 email="it@contoso.com", password_hash=password_hash))
        db.session.commit()
    entra = ScimClient(app.test_client(), secret)
    assert entra.get(TEST_CONNECTION).status_code == 200
    users = [provision_user(entra, name, displayName=display, title="Senior Accounts Payable Specialist") for name, display in (
        ("ava.lindqvist@contoso.com", "Ava Lindqvist"),
        ("bartholomew.featherstonehaugh@contoso.com", "Bartholomew Featherstonehaugh"),
        ("chidi.okonkwo_gmail.com#EXT#@contoso.onmicrosoft.com", "Chidi Okonkwo (guest)"),
        ("dana.leaving@contoso.com", "Dana Leaving"),
    )]
    group = provision_group(entra, "Finance and Accounting", [user["id"] for user in users[:3]])
    assert entra.post("/Users", json={"userName": "AVA.LINDQVIST@contoso.com"}).status_code == 409
    deactivate(entra, users[2]["id"])
    assert entra.delete(f"/Users/{users[3]['id']}").status_code == 204
    app.extensions[provisioning_log.EXTENSION].flush()  # the server stores its log in batches
    with app.app_context():
        conflict = shown_id(app, db.session.execute(
            db.select(ProvisioningEvent.id).where(ProvisioningEvent.status == 409)).scalar_one())
    pages = {
        "wizard": "/wizard", **{f"step-{n}": f"/wizard/step/{n}" for n in range(1, 9)},
        "new-token": "/wizard/step/3/token", "summary": "/wizard/summary",
        "tokens": "/tokens", "revoke": f"/tokens/{prefix}/revoke", "time-zone": "/account/time-zone",
        "dashboard": "/status/", "dashboard-7d": "/status/?range=7d", "users": "/status/users",
        "deleted-users": "/status/users/deleted", "user": f"/status/users/{users[0]['id']}",
        "guest": f"/status/users/{users[2]['id']}", "groups": "/status/groups",
        "group": f"/status/groups/{group['id']}", "log": "/status/log", "conflict": f"/status/log/{conflict}",
        "errors": "/status/log/errors", "why": "/status/why", "why-found": "/status/why?q=ava.lindqvist%40contoso.com",
        "why-missing": "/status/why?q=zoe%40contoso.com", "not-found": "/status/users/no-such-user",
    }
    return app, base, pages


@pytest.fixture
def browser(directory):
    sync_api = browser_or_skip()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield sync_api.expect, browser
        finally:
            browser.close()


def signed_in(context, base: str):
    page = context.new_page()
    page.goto(base + "/sign-in")
    page.get_by_label("Email address").fill("it@contoso.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + "/status/")
    return page


@pytest.mark.parametrize("scheme, device", [("light", "desktop"), ("dark", "desktop"), ("light", "phone")])
def test_axe_finds_nothing_serious_on_any_admin_page(directory, browser, scheme, device):
    _, base, pages = directory
    _, browser = browser
    context = with_axe(browser.new_context(color_scheme=scheme, viewport={"width": WIDTHS[device], "height": 900}))
    page = context.new_page()
    page.goto(base + "/sign-in")
    found = [f"sign-in: {problem}" for problem in accessibility_problems(page)]
    page = signed_in(context, base)
    for name, path in pages.items():
        page.goto(base + path)
        found += [f"{name}: {problem}" for problem in accessibility_problems(page)]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("device", WIDTHS)
def test_every_admin_page_fits_the_screen(directory, browser, device, tmp_path):
    """Nothing sticks out sideways: on a phone wide tables scroll in their own box, the page
    does not; on a desktop every table fits, without headings or figures wrapping."""
    _, base, pages = directory
    _, browser = browser
    page = signed_in(browser.new_context(viewport={"width": WIDTHS[device], "height": 900}), base)
    found = []
    for name, path in pages.items():
        page.goto(base + path)
        page.screenshot(path=tmp_path / f"{name}-{WIDTHS[device]}.png", full_page=True)
        problems = overflowing(page) + (cramped(page) if device == "desktop" else [])
        found += [f"{name}: {problem}" for problem in problems]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("device", WIDTHS)
def test_the_keyboard_focus_is_always_seen(directory, browser, device):
    """From the skip link on, every stop of the Tab key shows a focus ring, on the screen."""
    _, base, pages = directory
    expect, browser = browser
    page = signed_in(browser.new_context(viewport={"width": WIDTHS[device], "height": 900}), base)
    found = []
    for name in ("dashboard", "log", "user", "step-3", "step-5", "tokens", "time-zone"):
        page.goto(base + pages[name])
        page.keyboard.press("Tab")
        expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
        page.keyboard.press("Enter")
        found += [f"{name}: {problem}" for problem in unseen_focus(page)]
    assert not found, "\n".join(found)


def test_without_javascript_nothing_shows_that_needs_it(directory, browser):
    _, base, _ = directory
    expect, browser = browser
    page = signed_in(browser.new_context(java_script_enabled=False), base)
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

    # The time zone is chosen from a plain list.
    page.get_by_role("link", name="Time zone: UTC").click()
    page.get_by_label("Show times in").select_option("Asia/Kolkata")
    page.get_by_role("button", name="Save time zone").click()
    expect(page.get_by_role("status")).to_have_text("Times are now shown in Asia/Kolkata.")
    page.goto(base + "/status/")
    expect(page.locator("#sync-health")).to_contain_text("UTC+5:30")
    expect(page.get_by_role("link", name="Time zone: Asia/Kolkata")).to_be_visible()


def test_automatic_refresh_is_a_choice_of_each_page(directory, browser):
    _, base, _ = directory
    expect, browser = browser
    page = signed_in(browser.new_context(), base)
    page.goto(base + "/wizard/step/4")
    page.get_by_label("Refresh automatically").check()
    page.goto(base + "/status/")
    expect(page.get_by_label("Refresh this page every 10 seconds")).not_to_be_checked()
    page.goto(base + "/wizard/step/4")
    expect(page.get_by_label("Refresh automatically")).to_be_checked()
    page.goto(base + "/wizard/step/7")
    expect(page.get_by_label("Refresh automatically")).not_to_be_checked()
