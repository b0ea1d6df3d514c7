"""The admin pages under measurement: where they are, signing in as a person does (the form and
its CSRF token), and a provisioning log filled to size with bulk SQL rather than HTTP.
"""
from __future__ import annotations

import random
from datetime import timedelta
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from urllib.parse import urlencode

from flask import url_for
from sqlalchemy import create_engine, insert, select, text

from jericho import create_app
from jericho.storage.models import Organization, ProvisioningEvent, ScimToken, utcnow
from jericho.storage.rollups import rollups_count_log

from bench import BenchError
from bench.load import Connection

PAGES = {"users_page": "status.users", "dashboard": "status.dashboard"}
SIGN_IN = "auth.sign_in"
# Not a page: signed in, its answer is the site's frame around "not found", which every admin
# page costs before its own work (the session, the admin's load, the header).
NO_PAGE = "/status/no-such-page"
LOG_DAYS = 29  # inside the default retention (30 days), so pruning leaves them
LOG_CHUNK = 20_000


class AdminUnavailable(BenchError):
    """The admin pages cannot be measured; the message says why."""


def page_paths(database_url: str) -> dict[str, str]:
    """Paths of the measured pages and of the sign-in page, from the app's own URL map."""
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "bench"})
    endpoints = {SIGN_IN, *PAGES.values()}
    missing = sorted(endpoints - {rule.endpoint for rule in app.url_map.iter_rules()})
    if missing:
        raise AdminUnavailable(f"the app has no endpoint {', '.join(missing)}")
    with app.test_request_context():
        return {name: url_for(endpoint) for name, endpoint in {"sign_in": SIGN_IN, **PAGES}.items()}


class _CsrfField(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.value: str | None = None

    def handle_starttag(self, tag, attrs) -> None:
        attributes = dict(attrs)
        if tag == "input" and attributes.get("name") == "csrf_token":
            self.value = attributes.get("value")


class Browser(Connection):
    """A connection that sends back the cookies its responses set, as a browser does."""

    def __init__(self, port: int) -> None:
        super().__init__(port)
        self.cookies = SimpleCookie()

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={morsel.value}" for name, morsel in self.cookies.items())

    def send(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None):
        cookie = {"Cookie": self.cookie_header()} if self.cookies else {}
        response = super().send(method, path, body, {**cookie, **(headers or {})})
        for header in response.headers.get_all("Set-Cookie") or []:
            self.cookies.load(header)
        return response


def sign_in(port: int, path: str, email: str, password: str) -> Browser:
    """Sign in through the form; returns the signed-in browser."""
    browser = Browser(port)
    page = browser.send("GET", path)
    field = _CsrfField()
    field.feed(page.body.decode())
    if page.status != 200 or field.value is None:
        raise AdminUnavailable(f"the sign-in page answered {page.status} without a csrf_token field")
    form = urlencode({"email": email, "password": password, "csrf_token": field.value}).encode()
    answer = browser.send("POST", path, form, {"Content-Type": "application/x-www-form-urlencoded"})
    if answer.status not in (302, 303):
        raise AdminUnavailable(f"signing in answered {answer.status}, not a redirect")
    return browser


def fill_log(database_url: str, organization: str, *, user_ids: list[str], group_id: str, rows: int) -> None:
    """Add `rows` provisioning events over the last LOG_DAYS days, shaped like a sync's: mostly
    lookups and creates, some updates and membership changes, a few failures; then count the
    whole log into the dashboard's rollups again, as migration 0009 does."""
    engine = create_engine(database_url)
    shapes = [  # weight, method, path, operation, action, status, scimType
        (40, "GET", "/Users?filter=...", "lookup", "look up user {name}", 200, None),
        (25, "POST", "/Users", "create", "create user {name}", 201, None),
        (15, "PATCH", "/Users/{id}", "update", "update user {name}", 200, None),
        (10, "PATCH", "/Groups/{id}", "members", "add 100 members to Bench Group 0", 204, None),
        (5, "PATCH", "/Users/{id}", "disable", "disable user {name}", 200, None),
        (3, "POST", "/Users", "create", "create user {name}", 409, "uniqueness"),
        (2, "GET", "/Users?filter=...", "test_connection", "Test Connection: lookup of a random GUID", 200, None),
    ]
    weights = [shape[0] for shape in shapes]
    chooser = random.Random(7)
    now = utcnow()
    try:
        with engine.begin() as connection:
            organization_id = connection.execute(
                select(Organization.id).where(Organization.name == organization)
            ).scalar_one()
            token_id = connection.execute(
                select(ScimToken.id).where(ScimToken.organization_id == organization_id)
            ).scalars().first()
        for start in range(0, rows, LOG_CHUNK):
            batch = []
            for number in range(start, min(start + LOG_CHUNK, rows)):
                _, method, path, operation, action, status, scim_type = chooser.choices(shapes, weights)[0]
                resource_id = {"test_connection": None, "members": group_id}.get(
                    operation, user_ids[number % len(user_ids)]
                )
                batch.append({
                    "organization_id": organization_id,
                    "token_id": token_id,
                    "occurred_at": now - timedelta(seconds=chooser.uniform(0, LOG_DAYS * 86400)),
                    "method": method,
                    "path": "/scim_v2" + path.format(id=resource_id),
                    "status": status,
                    "operation": operation,
                    "action": action.format(name=f"user{number}@contoso.com"),
                    "resource_type": "Group" if operation == "members" else "User",
                    "resource_id": resource_id,
                    "scim_type": scim_type,
                    "error_detail": "a user with that userName already exists" if scim_type else None,
                    "duration_ms": round(chooser.uniform(2, 40), 2),
                })
            with engine.begin() as connection:
                connection.execute(insert(ProvisioningEvent), batch)
        with engine.begin() as connection:  # the rollups the log's writer would have added up
            rollups_count_log(connection)
        # A month of log written in seconds: give the query planner the statistics that
        # autovacuum keeps while a log builds up (PostgreSQL; SQLite keeps none).
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("ANALYZE provisioning_events"))
    finally:
        engine.dispose()
