"""First run, sign-in and sign-out: the setup gate and code, redirects, cookies, CSRF, security
headers and the audit trail (throttling: test_throttle.py; sessions: test_sessions.py)."""
from __future__ import annotations

import logging
import re

import pytest

from jericho.admin import signin
from jericho.extensions import db
from jericho.storage.accounts import AccountError
from jericho.storage.models import AdminAuditEvent, AdminUser, Organization

from conftest import PASSWORD, make_app

SECRET_KEY = "test-secret-key"  # conftest's
GUID_FILTER = "/scim_v2/Users?filter=userName+eq+%227d420df3-9995-4831-a406-ecf8166f5f6a%22"


def setup_form(**overrides) -> dict:
    form = {
        "setup_code": signin.setup_code(SECRET_KEY),
        "organization": "Contoso",
        "email": "it@contoso.com",
        "password": PASSWORD,
        "confirm": PASSWORD,
    }
    form.update(overrides)
    return form


def audit_actions(app) -> list[str]:
    with app.app_context():
        return list(
            db.session.execute(
                db.select(AdminAuditEvent.action).order_by(AdminAuditEvent.id)
            ).scalars()
        )


def admin_count(app) -> int:
    with app.app_context():
        return db.session.execute(db.select(db.func.count(AdminUser.id))).scalar()


# --- The first-run gate ----------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/wizard", "/wizard/step/3", "/tokens", "/sign-in", "/no-such-page"])
def test_every_page_leads_to_first_run_while_no_admin_exists(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.location == "/setup"


def test_the_gate_leaves_static_files_and_scim_alone(client):
    assert client.get("/static/style.css").status_code == 200
    response = client.get(GUID_FILTER)
    assert response.status_code == 401
    assert response.mimetype == "application/scim+json"


def test_first_run_page_asks_for_the_setup_code(client):
    page = client.get("/setup").text
    for name in ("setup_code", "organization", "email", "password", "confirm"):
        assert f'name="{name}"' in page
    assert "flask --app app jericho setup-code" in page
    assert "jericho admin create" in page


def test_first_run_creates_the_organization_and_admin_and_signs_in(app, client):
    response = client.post("/setup", data=setup_form())
    assert response.status_code == 302
    assert response.location == "/wizard"
    assert "Connect Microsoft Entra ID" in client.get("/wizard").text
    with app.app_context():
        admin = db.session.execute(db.select(AdminUser)).scalar_one()
        assert admin.email == "it@contoso.com"
        assert admin.organization.name == "Contoso"
        assert admin.password_hash.startswith("$argon2id$")
        assert admin.last_sign_in_at is not None
    assert audit_actions(app) == ["completed first-run setup"]


def test_a_wrong_setup_code_creates_nothing(app, client):
    response = client.post("/setup", data=setup_form(setup_code="AAAA-BBBB-CCCC-DDDD"))
    assert response.status_code == 200
    assert "setup code is not right" in response.text
    assert admin_count(app) == 0


def test_the_setup_code_is_accepted_without_dashes_and_in_lower_case(app, client):
    code = signin.setup_code(SECRET_KEY).replace("-", " ").lower()
    assert client.post("/setup", data=setup_form(setup_code=code)).status_code == 302
    assert admin_count(app) == 1


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("password", "short", "at least 12"),
        ("confirm", "something else entirely", "The two passwords differ"),
        ("email", "not-an-email", "Enter an email address"),
        ("organization", "  ", "This field is required"),
    ],
)
def test_first_run_form_errors_are_shown_beside_the_field(app, client, field, value, message):
    overrides = {field: value}
    if field == "password":
        overrides["confirm"] = value
    response = client.post("/setup", data=setup_form(**overrides))
    assert response.status_code == 200
    assert message in response.text
    assert 'aria-invalid="true"' in response.text
    assert admin_count(app) == 0


def test_first_run_closes_once_an_admin_exists(app, client, auth):
    auth.create()
    assert client.get("/setup").location == "/sign-in"
    response = client.post("/setup", data=setup_form(email="intruder@example.com"))
    assert response.location == "/sign-in"
    assert admin_count(app) == 1


def test_complete_setup_refuses_when_an_admin_appeared_meanwhile(app, auth, clock):
    auth.create()
    with app.app_context(), pytest.raises(AccountError, match="already complete"):
        signin.complete_setup(
            secret_key=SECRET_KEY,
            code=signin.setup_code(SECRET_KEY),
            organization_name="Other",
            email="other@example.com",
            password=PASSWORD,
            remote_addr="203.0.113.9",
            now=clock(),
        )


def test_wrong_setup_codes_are_throttled_per_address(app, client, clock):
    for _ in range(signin.FREE_FAILURES_PER_ADDRESS):
        assert client.post("/setup", data=setup_form(setup_code="WRONG")).status_code == 200
    response = client.post("/setup", data=setup_form())  # even the right code, for now
    assert response.status_code == 429
    assert "Too many failed attempts. Wait 1 second" in response.text
    assert admin_count(app) == 0
    elsewhere = client.application.test_client()
    response = elsewhere.post("/setup", data=setup_form(), environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert response.location == "/wizard"


# --- The setup code ------------------------------------------------------------------------

def test_setup_code_is_derived_from_the_secret_key():
    code = signin.setup_code("one key")
    assert re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){3}", code)
    assert signin.setup_code("one key") == code
    assert signin.setup_code("another key") != code
    assert signin.setup_code_matches("one key", code.lower().replace("-", ""))
    assert not signin.setup_code_matches("one key", "")
    assert not signin.setup_code_matches("one key", "ünïcödé")


def test_server_start_logs_the_setup_code_only_while_no_admin_exists(app, auth, caplog):
    logger = logging.getLogger("test.gunicorn")
    with caplog.at_level(logging.INFO, logger="test.gunicorn"):
        signin.log_setup_code(app, logger)
    assert signin.setup_code(SECRET_KEY) in caplog.text
    caplog.clear()
    auth.create()
    with caplog.at_level(logging.INFO, logger="test.gunicorn"):
        signin.log_setup_code(app, logger)
    assert caplog.text == ""


def test_server_start_explains_an_uninitialised_database(tmp_path, caplog):
    app = make_app(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    logger = logging.getLogger("test.gunicorn")
    with caplog.at_level(logging.INFO, logger="test.gunicorn"):
        signin.log_setup_code(app, logger)
    assert "jericho init" in caplog.text
    assert signin.setup_code(SECRET_KEY) not in caplog.text


# --- Sign-in and sign-out ----------------------------------------------------------------------

def test_sign_in_and_out(app, client, auth):
    auth.create()
    assert client.get("/wizard").location.startswith("/sign-in?next=")
    response = auth.sign_in(email="  IT@Contoso.com ")
    assert response.status_code == 302
    assert response.location == "/"
    assert client.get("/wizard").status_code == 200
    assert client.get("/sign-in").location == "/"  # already signed in

    assert client.get("/sign-out").status_code == 405  # a link must not sign anybody out
    response = auth.sign_out()
    assert response.location == "/sign-in"
    assert "You are signed out" in client.get("/sign-in").text
    assert client.get("/wizard").status_code == 302
    assert audit_actions(app) == ["signed in", "signed out"]


def test_wrong_password_and_unknown_account_get_the_same_answer(app, client, auth):
    auth.create()
    wrong_password = auth.sign_in(password="not the password at all")
    unknown_account = auth.sign_in(email="nobody@contoso.com")
    assert wrong_password.status_code == unknown_account.status_code == 200

    def error_of(response):
        return re.search(r'<div class="alert alert--error" role="alert">(.*?)</div>', response.text, re.S).group(1)

    assert error_of(wrong_password) == error_of(unknown_account)
    assert signin.WRONG_CREDENTIALS in error_of(wrong_password)
    assert client.get("/wizard").status_code == 302
    assert audit_actions(app) == ["failed sign-in (wrong password)"]  # only a real account has a log


@pytest.mark.parametrize(
    "next_url, expected",
    [
        ("/tokens", "/tokens"),
        ("/wizard/step/4?x=1", "/wizard/step/4?x=1"),
        ("https://evil.example/phish", "/"),
        ("//evil.example/phish", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_next_redirect_never_leaves_the_site(client, auth, next_url, expected):
    auth.create()
    response = client.post("/sign-in", query_string={"next": next_url},
                           data={"email": "it@contoso.com", "password": PASSWORD})
    assert response.location == expected


def test_a_protected_page_returns_after_sign_in(client, auth):
    auth.create()
    login_url = client.get("/wizard/step/5").location
    response = client.post(login_url, data={"email": "it@contoso.com", "password": PASSWORD})
    assert response.location == "/wizard/step/5"


def test_sign_in_is_audited_with_the_address(app, client, auth):
    auth.create()
    client.post("/sign-in", data={"email": "it@contoso.com", "password": PASSWORD},
                environ_base={"REMOTE_ADDR": "203.0.113.5"})
    with app.app_context():
        event = db.session.execute(db.select(AdminAuditEvent)).scalar_one()
        assert (event.action, event.remote_addr) == ("signed in", "203.0.113.5")
        assert event.organization_id == db.session.execute(db.select(Organization.id)).scalar()


# --- Cookies, CSRF and headers --------------------------------------------------------------------

def session_cookie_header(response) -> str:
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))


def test_session_cookie_is_httponly_and_samesite_lax(client, auth):
    auth.create()
    header = session_cookie_header(auth.sign_in())
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header
    assert "Secure" not in header  # plain http, as in development


def test_session_cookie_is_secure_over_https(app, auth):
    auth.create()
    client = app.test_client()
    response = client.post("/sign-in", base_url="https://localhost",
                           data={"email": "it@contoso.com", "password": PASSWORD})
    assert "Secure" in session_cookie_header(response)


@pytest.mark.parametrize("app_config", [{"PUBLIC_URL": "https://scim.example.com"}])
def test_session_cookie_is_secure_when_the_public_url_is_https(auth):
    auth.create()
    assert "Secure" in session_cookie_header(auth.sign_in())


def csrf_token_of(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_forms_need_their_csrf_token(client, auth):
    auth.create()
    forged = auth.sign_in()
    assert forged.status_code == 400
    assert "CSRF" in forged.text

    token = csrf_token_of(client.get("/sign-in").text)
    response = client.post("/sign-in", data={"email": "it@contoso.com", "password": PASSWORD,
                                             "csrf_token": token})
    assert response.status_code == 302

    assert auth.sign_out().status_code == 400  # no token: still signed in
    assert client.get("/wizard").status_code == 200
    assert client.post("/tokens", data={"label": "forged"}).status_code == 400


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_first_run_needs_its_csrf_token(client):
    assert client.post("/setup", data=setup_form()).status_code == 400
    token = csrf_token_of(client.get("/setup").text)
    assert client.post("/setup", data={**setup_form(), "csrf_token": token}).status_code == 302


def test_html_pages_carry_security_headers(client, auth):
    auth.create()
    for response in (client.get("/sign-in"), auth.sign_in(), client.get("/wizard")):
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["X-Frame-Options"] == "DENY"
    assert client.get("/wizard").headers["Cache-Control"] == "no-store"


def test_scim_responses_are_left_to_the_scim_layer(client, auth):
    auth.create()
    response = client.get(GUID_FILTER)
    assert "Content-Security-Policy" not in response.headers
