"""Admin sessions end on the server: signing out, "sign out everywhere else" and a password
reset end them for every copy of the cookie; the idle and absolute limits follow the clock; a
page view costs one query and writes nothing."""
from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import event

from jericho.admin import sessions
from jericho.extensions import db
from jericho.storage import accounts
from jericho.storage.models import AdminAuditEvent, AdminUser, Organization

from conftest import PASSWORD, make_app

PAGE = "/status/users"
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)  # conftest's parameters


@pytest.fixture
def signed_in(auth, client):
    """The Contoso admin, signed in on `client`."""
    auth.create()
    assert auth.sign_in().status_code == 302
    return client


def copy_of(app, client):
    """Another browser holding a copy of `client`'s session cookie, as an attacker would."""
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def opens(client, path: str = PAGE) -> bool:
    response = client.get(path)
    assert response.status_code in (200, 302), response.status_code
    return response.status_code == 200


def audit_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.execute(db.select(AdminAuditEvent.action).order_by(AdminAuditEvent.id)).scalars())


# --- Ending sessions on the server -----------------------------------------------------------------

def test_a_cookie_copied_before_sign_out_opens_nothing_after(app, signed_in, auth):
    stolen = copy_of(app, signed_in)
    assert opens(stolen)
    auth.sign_out()
    assert not opens(stolen)
    assert stolen.get(PAGE).location.startswith("/sign-in?next=")
    assert not opens(signed_in)


def test_signing_out_ends_the_admins_sessions_in_other_browsers_too(app, signed_in, auth):
    laptop = app.test_client()
    auth.sign_in(client=laptop)
    auth.sign_out()
    assert not opens(laptop)
    auth.sign_in(client=laptop)  # and signing in again works
    assert opens(laptop)


def test_sign_out_everywhere_else_keeps_only_this_browser(app, signed_in, auth):
    laptop = app.test_client()
    auth.sign_in(client=laptop)
    stolen = copy_of(app, signed_in)
    response = signed_in.post("/account/sign-out-everywhere-else")
    assert response.location == "/account"
    assert "Every other session of your account has ended" in signed_in.get("/account").text
    assert opens(signed_in)
    assert not opens(laptop)
    assert not opens(stolen)  # this browser's cookie from before counts as another session
    assert audit_actions(app)[-1] == "signed out everywhere else"


def test_sign_out_everywhere_else_is_a_post_on_the_account_page(signed_in):
    page = signed_in.get("/account").text
    assert 'action="/account/sign-out-everywhere-else"' in page
    assert "it@contoso.com" in page and "Contoso" in page
    assert "12 hours" in page and "7 days" in page
    assert signed_in.get("/account/sign-out-everywhere-else").status_code == 405


def test_a_removed_admins_session_ends(app, signed_in, auth):
    auth.create(email="other@contoso.com")
    with app.app_context():
        accounts.admin_remove(email="it@contoso.com")
    assert not opens(signed_in)


def test_a_removed_admins_cookie_opens_nothing_for_the_admin_given_their_id(app, signed_in, auth):
    """SQLite gives a removed row's id to the next row stored: the next admin created, of any
    organization, may have the removed admin's id and the session version a kept cookie holds."""
    auth.create(email="other@contoso.com")
    kept = copy_of(app, signed_in)
    with app.app_context():
        removed = db.session.execute(db.select(AdminUser).where(AdminUser.email == "it@contoso.com")).scalar_one()
        removed_id, version = removed.id, removed.session_version
        accounts.admin_remove(email="it@contoso.com")
        db.session.add(AdminUser(id=removed_id, session_version=version, organization=Organization(name="Fabrikam"),
                                 email="it@fabrikam.com", password_hash=FAST_HASHER.hash(PASSWORD)))
        db.session.commit()
    assert not opens(kept)


def test_a_session_without_a_version_opens_nothing(app, auth):
    """A cookie that names the admin but no session version, as every cookie issued before
    sessions could be ended did: it no longer signs anybody in."""
    auth.create()
    browser = app.test_client()
    with browser.session_transaction() as session:
        session.update({"_user_id": "1", "_fresh": True})
    assert not opens(browser)


def test_the_user_loader_forgets_a_session_that_ended(app, signed_in, auth):
    stolen = copy_of(app, signed_in)
    auth.sign_out()
    stolen.get(PAGE)
    with stolen.session_transaction() as session:
        assert "_user_id" not in session and sessions.VERSION not in session and sessions.ACCOUNT not in session


# --- Idle and absolute limits ------------------------------------------------------------------------

def test_a_session_ends_after_the_idle_limit(signed_in, clock):
    clock.advance(hours=11, minutes=59)
    assert opens(signed_in)
    clock.advance(hours=11, minutes=58)  # 12 h after the last view, less a minute
    assert opens(signed_in)
    clock.advance(hours=12, minutes=1)
    assert not opens(signed_in)


def test_a_session_ends_after_the_absolute_limit_however_busy(signed_in, clock):
    for _ in range(7 * 24 - 1):
        clock.advance(hours=1)
        assert opens(signed_in)
    clock.advance(minutes=59)
    assert opens(signed_in)
    clock.advance(minutes=2)  # 7 days and a minute after signing in
    assert not opens(signed_in)


@pytest.mark.parametrize("app_config", [{"ADMIN_SESSION_IDLE_MINUTES": 30, "ADMIN_SESSION_LIFETIME_HOURS": 2}])
def test_the_limits_are_settings(signed_in, clock):
    assert "after 30 minutes without using these pages, and 2 hours after" in signed_in.get("/account").text
    clock.advance(minutes=29)
    assert opens(signed_in)
    clock.advance(minutes=31)
    assert not opens(signed_in)


def test_settings_come_from_the_environment_and_are_checked_at_start(tmp_path, monkeypatch):
    monkeypatch.setenv("ADMIN_SESSION_IDLE_MINUTES", "45")
    monkeypatch.setenv("ADMIN_SESSION_LIFETIME_HOURS", "10")
    app = make_app(tmp_path)
    assert (app.config["ADMIN_SESSION_IDLE_MINUTES"], app.config["ADMIN_SESSION_LIFETIME_HOURS"]) == (45, 10)
    for value in ("soon", "0", "-5"):
        monkeypatch.setenv("ADMIN_SESSION_IDLE_MINUTES", value)
        with pytest.raises(ValueError, match="ADMIN_SESSION_IDLE_MINUTES must be a whole number of minutes"):
            make_app(tmp_path)


# --- The cost of a page view ---------------------------------------------------------------------------

def statements_of(app, request) -> tuple[list[str], object]:
    """The SQL statements (other than transaction control) that `request()` ran, and its answer."""
    with app.app_context():
        engine = db.engine
    statements = []

    def record(connection, cursor, statement, *args):
        if statement.split()[0].upper() not in {"BEGIN", "COMMIT", "ROLLBACK"}:
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        response = request()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return statements, response


def test_a_page_view_costs_one_query_and_refreshes_the_cookie_only_every_few_minutes(app, signed_in, clock):
    signed_in.get("/account")  # the first page makes the session's CSRF token
    statements, response = statements_of(app, lambda: signed_in.get("/account"))
    assert response.status_code == 200
    assert len(statements) == 1 and statements[0].lstrip().upper().startswith("SELECT")
    assert "Set-Cookie" not in response.headers

    clock.advance(seconds=sessions.SEEN_RESOLUTION.total_seconds() - 1)
    assert "Set-Cookie" not in signed_in.get("/account").headers
    clock.advance(seconds=1)
    statements, response = statements_of(app, lambda: signed_in.get("/account"))
    assert len(statements) == 1  # the last-seen time is in the cookie, not the database
    assert response.headers["Set-Cookie"].startswith("session=")
