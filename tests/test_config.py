"""Configuration precedence and the generated secret key."""
import os
import stat

from jericho import create_app


def test_defaults_use_sqlite_in_instance(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app(instance_path=tmp_path)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'jericho.sqlite3'}"
    assert app.config["PUBLIC_URL"] is None
    assert app.config["TRUST_PROXY"] is False


def test_precedence_instance_file_then_environment_then_test_config(tmp_path, monkeypatch):
    (tmp_path / "config.py").write_text(
        'PUBLIC_URL = "https://from-file.example"\nLOG_LEVEL = "WARNING"\nSECRET_KEY = "file"\n'
    )
    monkeypatch.setenv("PUBLIC_URL", "https://from-env.example/")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("LOG_LEVEL", raising=False)
    app = create_app(instance_path=tmp_path)
    assert app.config["PUBLIC_URL"] == "https://from-env.example"  # env beats file, slash trimmed
    assert app.config["LOG_LEVEL"] == "WARNING"  # file beats default
    assert app.config["SECRET_KEY"] == "file"
    assert app.config["SESSION_COOKIE_SECURE"] is True

    app = create_app({"PUBLIC_URL": "http://from-test.example"}, instance_path=tmp_path)
    assert app.config["PUBLIC_URL"] == "http://from-test.example"
    assert app.config["SESSION_COOKIE_SECURE"] is False


def test_postgres_urls_get_the_psycopg_driver(tmp_path):
    app = create_app({"DATABASE_URL": "postgres://u@db/jericho"}, instance_path=tmp_path)
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db/jericho"


def test_trust_proxy_flag_wraps_the_app(tmp_path, monkeypatch):
    monkeypatch.setenv("TRUST_PROXY", "1")
    app = create_app(instance_path=tmp_path)
    assert app.config["TRUST_PROXY"] is True
    assert type(app.wsgi_app).__name__ == "ProxyFix"
    monkeypatch.setenv("TRUST_PROXY", "0")
    assert create_app(instance_path=tmp_path).config["TRUST_PROXY"] is False


def test_webhooks_reach_private_networks_only_when_the_environment_allows_it(tmp_path, monkeypatch):
    monkeypatch.delenv("WEBHOOK_ALLOW_PRIVATE_NETWORKS", raising=False)
    assert create_app(instance_path=tmp_path).config["WEBHOOK_ALLOW_PRIVATE_NETWORKS"] is False
    monkeypatch.setenv("WEBHOOK_ALLOW_PRIVATE_NETWORKS", "1")
    assert create_app(instance_path=tmp_path).config["WEBHOOK_ALLOW_PRIVATE_NETWORKS"] is True
    monkeypatch.setenv("WEBHOOK_ALLOW_PRIVATE_NETWORKS", "0")
    assert create_app(instance_path=tmp_path).config["WEBHOOK_ALLOW_PRIVATE_NETWORKS"] is False


def test_create_app_writes_no_files(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app(instance_path=tmp_path / "instance")
    assert app.config["SECRET_KEY"] is None
    assert not (tmp_path / "instance").exists()


def test_init_generates_a_private_secret_key_once_and_reuses_it(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    instance = tmp_path / "instance"
    result = create_app(instance_path=instance).test_cli_runner().invoke(args=["jericho", "init"])
    assert result.exit_code == 0, result.output
    key_file = instance / "secret_key"
    key = key_file.read_text()
    assert len(key) == 64
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600

    app = create_app(instance_path=instance)
    assert app.config["SECRET_KEY"] == key
    app.test_cli_runner().invoke(args=["jericho", "init"])
    assert key_file.read_text() == key


def test_environment_secret_key_wins_and_is_not_written(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-env")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    app = create_app(instance_path=tmp_path)
    assert app.config["SECRET_KEY"] == "from-env"
    assert app.test_cli_runner().invoke(args=["jericho", "init"]).exit_code == 0
    assert not (tmp_path / "secret_key").exists()
