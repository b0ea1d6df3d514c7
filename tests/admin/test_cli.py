"""`flask jericho ...` commands for the setup code, tokens and admins: output contract, effects,
errors, and the audit log of what the command line changed."""
import re

import pytest

from jericho.admin import signin
from jericho.extensions import db
from jericho.security import hash_token
from jericho.storage.models import AdminAuditEvent, AdminUser, Organization, ScimToken

from conftest import make_app

SECRET_KEY = "test-secret-key"  # conftest's
NEW_PASSWORD = "a brand new passphrase"


def audit_of(app) -> list[tuple[str | None, str]]:
    """(actor, action) of every audit event, oldest first."""
    with app.app_context():
        return [(event.actor_email, event.action) for event in db.session.execute(
            db.select(AdminAuditEvent).order_by(AdminAuditEvent.id)).scalars()]


# --- setup-code --------------------------------------------------------------------------------

def test_setup_code_is_printed_until_an_admin_exists(app, runner, auth):
    result = runner.invoke(args=["jericho", "setup-code"])
    assert result.exit_code == 0
    assert result.stdout.strip() == signin.setup_code(SECRET_KEY)
    auth.create()
    result = runner.invoke(args=["jericho", "setup-code"])
    assert result.exit_code == 1
    assert "setup is complete" in result.output


def test_setup_code_needs_a_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    app = make_app(tmp_path, SECRET_KEY=None)
    result = app.test_cli_runner().invoke(args=["jericho", "setup-code"])
    assert result.exit_code == 1
    assert "jericho init" in result.output


# --- token -------------------------------------------------------------------------------------


def test_token_create_prints_only_the_token_and_stores_its_hash(app, runner):
    result = runner.invoke(args=["jericho", "token", "create", "--org", "Contoso", "--label", "Entra"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    secret = lines[0]
    assert secret.startswith("jer_")
    with app.app_context():
        token = db.session.execute(db.select(ScimToken)).scalar_one()
        assert token.secret_hash == hash_token(secret)
        assert secret not in (token.secret_hash, token.prefix)
        assert secret.startswith(f"jer_{token.prefix}_")
        assert token.label == "Entra"
        assert token.organization.name == "Contoso"


def test_token_create_reuses_the_organization(app, runner):
    for _ in range(2):
        assert runner.invoke(args=["jericho", "token", "create", "--org", "Contoso"]).exit_code == 0
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(Organization.id))).scalar() == 1
        assert db.session.execute(db.select(db.func.count(ScimToken.id))).scalar() == 2


def test_token_create_rejects_an_empty_organization(runner):
    result = runner.invoke(args=["jericho", "token", "create", "--org", "  "])
    assert result.exit_code == 1
    assert "must not be empty" in result.output
    assert result.stdout == ""


def test_token_list_and_revoke(app, runner):
    secret = runner.invoke(args=["jericho", "token", "create", "--org", "Contoso"]).stdout.strip()
    prefix = secret.split("_")[1]
    listing = runner.invoke(args=["jericho", "token", "list", "--org", "Contoso"])
    assert listing.exit_code == 0
    assert prefix in listing.output and "active" in listing.output and secret not in listing.output

    assert runner.invoke(args=["jericho", "token", "revoke", prefix]).exit_code == 0
    listing = runner.invoke(args=["jericho", "token", "list", "--org", "Contoso"])
    assert "revoked" in listing.output


def test_token_errors_exit_non_zero(runner):
    result = runner.invoke(args=["jericho", "token", "list", "--org", "Nobody"])
    assert result.exit_code == 1 and "no organization named 'Nobody'" in result.output
    result = runner.invoke(args=["jericho", "token", "revoke", "deadbeef"])
    assert result.exit_code == 1 and "no token with prefix 'deadbeef'" in result.output


def test_token_create_and_revoke_are_audited_as_the_command_line(app, runner, auth):
    secret = runner.invoke(args=["jericho", "token", "create", "--org", "Contoso", "--label", "Entra"]).stdout.strip()
    prefix = secret.split("_")[1]
    assert runner.invoke(args=["jericho", "token", "revoke", prefix]).exit_code == 0
    assert runner.invoke(args=["jericho", "token", "revoke", prefix]).exit_code == 0  # already revoked
    assert audit_of(app) == [(None, f"created token {prefix} “Entra”"), (None, f"revoked token {prefix}")]

    auth.create()
    auth.sign_in()
    page = auth.client.get("/tokens").text
    rows = re.findall(r"<tr><td>.*?</td><td>(.*?)</td><td>(.*?)</td>", page[page.index('id="audit-heading"'):])
    assert {("the command line", f"revoked token {prefix}"),
            ("the command line", f"created token {prefix} “Entra”")} <= set(rows)


# --- admin ---------------------------------------------------------------------------------------

def test_admin_create_from_environment(app, runner, monkeypatch):
    monkeypatch.setenv("JERICHO_ADMIN_PASSWORD", "correct horse battery")
    result = runner.invoke(
        args=["jericho", "admin", "create", "--org", "Contoso", "--email", "It@Contoso.com"]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        admin = db.session.execute(db.select(AdminUser)).scalar_one()
        assert admin.email == "it@contoso.com"
        assert admin.password_hash.startswith("$argon2id$")
    assert audit_of(app) == [(None, "created admin it@contoso.com")]


def test_admin_create_prompts_for_the_password(app, runner, monkeypatch):
    monkeypatch.delenv("JERICHO_ADMIN_PASSWORD", raising=False)
    result = runner.invoke(
        args=["jericho", "admin", "create", "--org", "Contoso", "--email", "it@contoso.com"],
        input="correct horse battery\ncorrect horse battery\n",
    )
    assert result.exit_code == 0, result.output
    assert "correct horse battery" not in result.output


def test_admin_create_errors(runner, monkeypatch):
    monkeypatch.setenv("JERICHO_ADMIN_PASSWORD", "short")
    result = runner.invoke(args=["jericho", "admin", "create", "--org", "C", "--email", "a@b.co"])
    assert result.exit_code == 1 and "at least 12 characters" in result.output
    monkeypatch.setenv("JERICHO_ADMIN_PASSWORD", "long enough password")
    result = runner.invoke(args=["jericho", "admin", "create", "--org", "C", "--email", "nope"])
    assert result.exit_code == 1 and "is not an email address" in result.output
    args = ["jericho", "admin", "create", "--org", "C", "--email", "a@b.co"]
    assert runner.invoke(args=args).exit_code == 0
    result = runner.invoke(args=args)
    assert result.exit_code == 1 and "already exists" in result.output


@pytest.fixture
def signed_in(auth):
    """The Contoso admin, signed in; a colleague's account beside it."""
    auth.create()
    auth.create(email="colleague@contoso.com")
    assert auth.sign_in().status_code == 302
    return auth.client


def test_reset_password_sets_the_password_and_ends_every_session(app, runner, auth, signed_in, monkeypatch):
    monkeypatch.setenv("JERICHO_ADMIN_PASSWORD", NEW_PASSWORD)
    result = runner.invoke(args=["jericho", "admin", "reset-password", "--email", "IT@contoso.com"])
    assert result.exit_code == 0, result.output
    assert "Reset the password of it@contoso.com" in result.output
    assert signed_in.get("/wizard").status_code == 302
    assert auth.sign_in().status_code == 200  # the old password no longer works
    assert auth.sign_in(password=NEW_PASSWORD).status_code == 302
    assert (None, "reset the password of it@contoso.com (every session ended)") in audit_of(app)


def test_reset_password_prompts_for_the_password(runner, auth, signed_in, monkeypatch):
    monkeypatch.delenv("JERICHO_ADMIN_PASSWORD", raising=False)
    result = runner.invoke(args=["jericho", "admin", "reset-password", "--email", "it@contoso.com"],
                           input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert NEW_PASSWORD not in result.output
    assert auth.sign_in(password=NEW_PASSWORD).status_code == 302


def test_reset_password_errors(runner, signed_in, monkeypatch):
    monkeypatch.setenv("JERICHO_ADMIN_PASSWORD", NEW_PASSWORD)
    result = runner.invoke(args=["jericho", "admin", "reset-password", "--email", "nobody@contoso.com"])
    assert result.exit_code == 1 and "no admin with the email 'nobody@contoso.com'" in result.output
    monkeypatch.setenv("JERICHO_ADMIN_PASSWORD", "short")
    result = runner.invoke(args=["jericho", "admin", "reset-password", "--email", "it@contoso.com"])
    assert result.exit_code == 1 and "at least 12 characters" in result.output
    assert signed_in.get("/wizard").status_code == 200  # nothing changed


def test_admin_list(runner, auth):
    auth.create()
    auth.create(email="it@fabrikam.com", organization="Fabrikam")
    result = runner.invoke(args=["jericho", "admin", "list"])
    assert result.exit_code == 0
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["EMAIL", "CREATED", "LAST", "SIGN-IN", "ORGANIZATION"]
    assert [row.split()[0] for row in rows] == ["it@contoso.com", "it@fabrikam.com"]
    assert rows[0].split()[-2:] == ["never", "Contoso"]

    result = runner.invoke(args=["jericho", "admin", "list", "--org", "Fabrikam"])
    assert [row.split()[0] for row in result.stdout.splitlines()[1:]] == ["it@fabrikam.com"]
    result = runner.invoke(args=["jericho", "admin", "list", "--org", "Nobody"])
    assert result.exit_code == 1 and "no organization named 'Nobody'" in result.output


def test_admin_remove_ends_their_sessions_and_keeps_their_audit_trail(app, runner, auth, signed_in):
    result = runner.invoke(args=["jericho", "admin", "remove", "--email", "it@contoso.com"])
    assert result.exit_code == 0, result.output
    assert "Removed admin it@contoso.com." in result.output
    assert signed_in.get("/wizard").status_code == 302
    assert auth.sign_in().status_code == 200
    with app.app_context():
        assert db.session.execute(db.select(AdminUser.email)).scalars().all() == ["colleague@contoso.com"]
    assert audit_of(app) == [("it@contoso.com", "signed in"), (None, "removed admin it@contoso.com")]


def test_admin_remove_keeps_an_organizations_only_admin(app, runner, auth, signed_in):
    assert runner.invoke(args=["jericho", "admin", "remove", "--email", "colleague@contoso.com"]).exit_code == 0
    result = runner.invoke(args=["jericho", "admin", "remove", "--email", "it@contoso.com"])
    assert result.exit_code == 1
    assert "it@contoso.com is the only admin of Contoso: create another first" in result.output
    result = runner.invoke(args=["jericho", "admin", "remove", "--email", "nobody@contoso.com"])
    assert result.exit_code == 1 and "no admin with the email" in result.output
    assert signed_in.get("/wizard").status_code == 200
