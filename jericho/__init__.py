"""Jericho SCIM: receives users and groups from Microsoft Entra ID or Okta over SCIM 2.0."""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Mapping

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import admin, api, cli, errors, status, storage, webhooks, wizard
from .extensions import csrf, db, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent
SQLITE_FILE = "jericho.sqlite3"

# Settings that may come from the environment (and, under the same names, instance/config.py).
ENVIRONMENT_KEYS = (
    "DATABASE_URL", "SECRET_KEY", "PUBLIC_URL", "TRUST_PROXY", "LOG_LEVEL", "PROVISIONING_LOG_RETENTION_DAYS",
    "ADMIN_SESSION_IDLE_MINUTES", "ADMIN_SESSION_LIFETIME_HOURS",
    "EVENT_RETENTION_DAYS", "WEBHOOK_ALLOW_PRIVATE_NETWORKS",
)


def create_app(
    test_config: Mapping[str, Any] | None = None, *, instance_path: str | Path | None = None
) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(instance_path or ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    load_config(app, test_config)
    configure_logging(app)
    register_extensions(app)
    register_blueprints(app)
    errors.init_app(app)
    cli.init_app(app)
    return app


def load_config(app: Flask, test_config: Mapping[str, Any] | None) -> None:
    app.config.from_object("jericho.config")
    app.config.from_pyfile("config.py", silent=True)
    for key in ENVIRONMENT_KEYS:
        if os.environ.get(key):
            app.config[key] = os.environ[key]
    if test_config:
        app.config.update(test_config)

    app.config["TRUST_PROXY"] = parse_flag(app.config.get("TRUST_PROXY"))
    app.config["WEBHOOK_ALLOW_PRIVATE_NETWORKS"] = parse_flag(app.config.get("WEBHOOK_ALLOW_PRIVATE_NETWORKS"))
    app.config["SQLALCHEMY_DATABASE_URI"] = database_uri(
        app.config.get("DATABASE_URL"), Path(app.instance_path)
    )
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = read_secret_key(
            Path(app.instance_path) / app.config["SECRET_KEY_FILE"]
        )
    if app.config.get("PUBLIC_URL"):
        app.config["PUBLIC_URL"] = app.config["PUBLIC_URL"].rstrip("/")
        app.config["SESSION_COOKIE_SECURE"] = app.config["PUBLIC_URL"].startswith("https://")


def parse_flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def database_uri(url: str | None, instance_path: Path) -> str:
    if not url:
        return f"sqlite:///{instance_path / SQLITE_FILE}"
    # Hosting providers hand out postgres:// URLs; SQLAlchemy needs the driver named.
    for scheme in ("postgres://", "postgresql://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme):]
    return url


def read_secret_key(path: Path) -> str | None:
    """The key `flask jericho init` generated; None until then (the CLI still works)."""
    try:
        return path.read_text().strip() or None
    except FileNotFoundError:
        return None


def configure_logging(app: Flask) -> None:
    level = str(app.config["LOG_LEVEL"]).upper()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app.logger.setLevel(level)


def register_extensions(app: Flask) -> None:
    if app.config["TRUST_PROXY"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
    db.init_app(app)
    storage.init_app(app)
    migrate.init_app(
        app, db, directory=str(Path(__file__).parent / "migrations"), render_as_batch=True
    )
    login_manager.init_app(app)
    csrf.init_app(app)


def register_blueprints(app: Flask) -> None:
    api.init_app(app)  # first: its provisioning log times every /scim_v2 request, rejected ones too
    admin.init_app(app)
    wizard.init_app(app)
    status.init_app(app)
    webhooks.init_app(app)  # its delivery thread is started by each server process (gunicorn.conf.py)
