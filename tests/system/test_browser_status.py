"""The sync status pages in a real browser (Debian's Chromium through Playwright) against a real
HTTP server on its own SQLite file: the dashboard follows a replayed Entra cycle, and hostile
directory values are shown as text and never run."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import timedelta
from urllib.parse import quote

import pytest

from jericho.api import provisioning_log
from jericho.extensions import db
from jericho.storage import accounts
from jericho.storage.models import AdminUser

from .test_browser_wizard import CHROMIUM, CHROMIUM_ARGS, browser_or_skip, live_server  # noqa: F401 (fixture)
from conftest import PASSWORD
from status_helpers import ENTERPRISE, PATCH_OP, TEST_CONNECTION, age_log, shown_id

XSS = "window.__xss=1"
HOSTILE_NAME = f"<img src=x onerror={XSS}>"


class Entra:
    """Entra's provisioning service, speaking HTTP to the live server with its Secret Token."""

    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base + "/scim_v2", token

    def send(self, method: str, path: str, body=None) -> tuple[int, dict | None]:
        request = urllib.request.Request(
            self.base + path, method=method, data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/scim+json; charset=utf-8"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                payload = response.read()
                return response.status, json.loads(payload) if payload else None
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def provision_user(self, user_name: str, **attributes) -> dict:
        self.send("GET", "/Users?filter=" + quote(f'userName eq "{user_name}"'))
        status, user = self.send("POST", "/Users", {"userName": user_name, "active": True, **attributes})
        assert status == 201, user
        return user

    def provision_group(self, name: str, member_ids) -> dict:
        self.send("GET", "/Groups?excludedAttributes=members&filter=" + quote(f'displayName eq "{name}"'))
        status, group = self.send("POST", "/Groups", {"displayName": name})
        assert status == 201, group
        status, _ = self.send("PATCH", f"/Groups/{group['id']}", {"schemas": [PATCH_OP], "Operations": [
            {"op": "Add", "path": "members", "value": [{"value": member} for member in member_ids]}]})
        assert status == 204
        return group

    def deactivate(self, user_id: str) -> None:
        status, _ = self.send("PATCH", f"/Users/{user_id}", {"schemas": [PATCH_OP], "Operations": [
            {"op": "Replace", "path": "active", "value": "False"}]})
        assert status == 200


@pytest.fixture
def setup(live_server, password_hash):
    """Contoso with its admin and Entra's token; the admin signed in in a real browser."""
    sync_api = browser_or_skip()
    app, base = live_server
    with app.app_context():
        _, token = accounts.token_create(organization_name="Contoso")
        admin = AdminUser(organization=accounts.organization_by_name("Contoso"), email="it@contoso.com",
                          password_hash=password_hash)
        db.session.add(admin)
        db.session.commit()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page()
        problems, dialogs = [], []  # a CSP violation or a script error shows up in `problems`
        page.on("console", lambda message: message.type == "error" and problems.append(message.text))
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        try:
            page.goto(base + "/sign-in")
            page.get_by_label("Email address").fill("it@contoso.com")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            yield sync_api.expect, app, base, page, Entra(base, token), problems, dialogs
        finally:
            browser.close()


def test_the_dashboard_follows_a_replayed_entra_cycle(setup):
    expect, app, base, page, entra, problems, _ = setup
    page.goto(base + "/status/")
    banner = page.locator("#sync-health")
    expect(banner.get_by_role("heading")).to_have_text("Waiting for the first request")

    # The first cycle: Test Connection, three users matched and created, a group and its members,
    # and a user Entra creates twice (409).
    assert entra.send("GET", TEST_CONNECTION)[0] == 200
    users = [entra.provision_user(f"user{n}@contoso.com", displayName=f"User {n}",
                                  **{ENTERPRISE: {"department": "Finance"}}) for n in range(3)]
    entra.provision_group("Finance", [user["id"] for user in users])
    assert entra.send("POST", "/Users", {"userName": "USER0@contoso.com"})[0] == 409

    # The page follows by itself once automatic refresh is on (its clock is moved on, not waited for).
    page.clock.install()
    page.reload()
    # One create refused for a duplicate userName: provisioning runs, and that user needs the admin.
    expect(banner.get_by_role("heading")).to_have_text("Connected, some users need you")
    page.get_by_label("Refresh this page every 10 seconds").check()
    counts = page.locator("#sync-counts")

    def figure(name: str):
        return counts.locator(f'.figures div:has(dt:text-is("{name}")) dd')

    expect(figure("Active users")).to_have_text("3")
    expect(figure("Memberships")).to_have_text("3")
    expect(counts).to_contain_text("4 created, 1 updated, 0 deactivated, 0 deleted, 5 lookups, 1 error.")
    cycles = page.locator("#sync-cycles")
    expect(cycles).to_contain_text("The first sync is running")
    expect(cycles.locator("tbody tr")).to_have_count(1)
    expect(page.locator(".sync-chart__svg rect")).to_have_count(3)  # changes, lookups, errors
    expect(page.locator("#sync-chart-desc")).to_have_text("11 requests: 5 changes, 5 lookups, 1 error.")

    # 45 minutes later, the next cycle deactivates one user.
    age_log(app, timedelta(minutes=45))
    entra.deactivate(users[2]["id"])
    page.clock.run_for(11_000)
    expect(figure("Deactivated users")).to_have_text("1")
    expect(figure("Active users")).to_have_text("2")
    expect(cycles.locator("tbody tr")).to_have_count(2)
    expect(cycles.locator("tbody tr").first).to_contain_text("Sync")
    expect(cycles).to_contain_text("The first sync looks finished")
    expect(counts).to_contain_text("0 created, 0 updated, 1 deactivated, 0 deleted, 0 lookups, 0 errors.")

    # From the dashboard to the conflict's detail, without a script.
    page.get_by_role("link", name="Latest example").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("create user USER0@contoso.com")
    expect(page.locator("pre")).to_contain_text('"scimType": "uniqueness"')
    assert problems == []


def test_hostile_directory_values_are_shown_as_text_and_never_run(setup):
    expect, app, base, page, entra, problems, dialogs = setup
    hostile_user_name = f'"><script>{XSS}</script>@contoso.com'
    hostile_group = f"<svg onload={XSS}>"
    hostile_department = f"<iframe src=javascript:{XSS}></iframe>"
    user = entra.provision_user(hostile_user_name, displayName=HOSTILE_NAME,
                                emails=[{"type": "work", "value": "x@contoso.com<style>*{display:none}</style>"}],
                                **{ENTERPRISE: {"department": hostile_department}})
    group = entra.provision_group(hostile_group, [user["id"]])
    assert entra.send("POST", "/Users", {"userName": hostile_user_name})[0] == 409  # echoed in the error
    entra.send("GET", "/Users?filter=" + quote(f'userName eq "{HOSTILE_NAME}"'))
    app.extensions[provisioning_log.EXTENSION].flush()  # the server stores its log in batches
    with app.app_context():
        from jericho.storage.models import ProvisioningEvent
        conflict = shown_id(app, db.session.execute(
            db.select(ProvisioningEvent.id).where(ProvisioningEvent.status == 409)).scalar_one())

    pages = [
        "/status/", "/status/users", f"/status/users?q={quote('<img')}", f"/status/users/{user['id']}", "/status/groups",
        f"/status/groups/{group['id']}", "/status/log", f"/status/log/{conflict}", "/status/log/errors",
        "/status/why?q=" + quote(HOSTILE_NAME), "/status/why?q=" + quote(hostile_user_name),
    ]
    for path in pages:
        page.goto(base + path)
        assert page.evaluate("window.__xss") is None, path
        assert page.locator("img[src=x], svg[onload], iframe, script:not([src])").count() == 0, path

    page.goto(base + f"/status/users/{user['id']}")
    expect(page.get_by_role("heading", level=1)).to_have_text(HOSTILE_NAME)
    expect(page.locator(".sync-subtitle code")).to_have_text(hostile_user_name)
    expect(page.locator(".sync-attributes")).to_contain_text(hostile_department)
    expect(page.get_by_role("link", name=hostile_group)).to_be_visible()
    page.goto(base + f"/status/groups/{group['id']}")
    expect(page.get_by_role("heading", level=1)).to_have_text(hostile_group)
    page.goto(base + "/status/log")
    expect(page.get_by_role("link", name=f"look up user {HOSTILE_NAME}")).to_be_visible()
    page.goto(base + f"/status/log/{conflict}")
    expect(page.locator("pre")).to_contain_text(hostile_user_name.replace('"', '\\"'))
    page.goto(base + "/status/why?q=" + quote(HOSTILE_NAME))
    expect(page.get_by_role("heading", name=f"Entra looked for {HOSTILE_NAME} but created nothing")).to_be_visible()
    assert dialogs == [] and page.evaluate("window.__xss") is None
    assert problems == []
