"""`flask jericho ...` commands: output contract, effects and errors."""
from jericho.extensions import db
from jericho.storage.models import AdminUser, Organization, ScimToken
from jericho.security import hash_token


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


def test_commands_explain_an_uninitialised_database(tmp_path, monkeypatch):
    from jericho import create_app

    monkeypatch.delenv("DATABASE_URL", raising=False)
    (tmp_path / "instance").mkdir()
    app = create_app({"SECRET_KEY": "x"}, instance_path=tmp_path / "instance")
    result = app.test_cli_runner().invoke(args=["jericho", "token", "create", "--org", "C"])
    assert result.exit_code == 1
    assert "jericho init" in result.output
