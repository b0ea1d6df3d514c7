"""Fixtures: the app's clock, set for every test; an app on a fresh database per test (SQLite by
default, PostgreSQL when DATABASE_URL names one), its test client and CLI runner, a SCIM client
with a bearer token, and an admin login helper."""
from __future__ import annotations

import functools
import os
import tempfile
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from argon2 import PasswordHasher
from flask import Flask
from jinja2 import FileSystemBytecodeCache
from sqlalchemy import Engine, create_engine, event, make_url, text
from werkzeug.routing import Rule

from jericho import create_app, security
from jericho.extensions import db
from jericho.storage import accounts, models
from jericho.storage.models import AdminUser, Organization

SQLITE_FILE = "test.sqlite3"
ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgres")
# Tests run in parallel processes (pytest-xdist), each with a database of its own that every test
# of the process starts empty: on PostgreSQL, named after the one given and the process (test_gw0,
# test_gw1...); on SQLite, a file in a folder removed at exit.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if ON_POSTGRES and WORKER:
    DATABASE_URL = make_url(DATABASE_URL).set(database=f"{make_url(DATABASE_URL).database}_{WORKER}") \
        .render_as_string(hide_password=False)
# In memory where the machine has a memory file system: the file is thrown away, and waiting for
# the disk at each commit would only cost time.
_SQLITE_FOLDER = tempfile.TemporaryDirectory(prefix="jericho-database-",
                                             dir="/dev/shm" if os.access("/dev/shm", os.W_OK) else None)
SQLITE_DATABASE = Path(_SQLITE_FOLDER.name) / SQLITE_FILE
if not ON_POSTGRES:
    DATABASE_URL = f"sqlite:///{SQLITE_DATABASE}"


# Where every test starts: a fixed moment, mid-day and mid-bucket (the dashboard counts requests
# by ten minutes), so that no run depends on the minute it starts in.
START = datetime(2026, 11, 30, 12, 4, 30, tzinfo=timezone.utc)


class Clock:
    """The app's clock in a test: it stands still until the test moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture(autouse=True)
def clock(monkeypatch) -> Clock:
    """Every test runs on a clock of its own, at START: the app reads no wall clock."""
    clock = Clock(START)
    monkeypatch.setattr(models, "clock", clock)
    return clock


@pytest.fixture(scope="session", autouse=True)
def url_builders_compiled_once() -> Iterator[None]:
    """Werkzeug compiles two URL builders for every route of every app, which was most of what
    making a test's app cost. Every test app has the same routes, so a process compiles each
    once: a builder depends on its rule's parts and defaults, and reads the rest from the rule
    it is bound to."""
    compile_builder = Rule._compile_builder
    compiled: dict[tuple, Callable] = {}

    def compiled_once(rule: Rule, append_unknown: bool = True) -> Callable:
        key = (tuple(rule._trace), repr(sorted((rule.defaults or {}).items())), append_unknown)
        if key not in compiled:
            compiled[key] = compile_builder(rule, append_unknown)
        return compiled[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Rule, "_compile_builder", compiled_once)
        yield


@pytest.fixture(scope="session", autouse=True)
def one_engine_per_database() -> Iterator[None]:
    """SQLAlchemy compiles each statement once per engine, and compiling every statement again for
    each test's app cost more than running them. The apps of a process share one engine for each
    database and settings; each test leaves the engine's connections closed."""
    make_engine = db._make_engine
    engines: dict[str, Engine] = {}

    def shared(bind_key: str | None, options: dict[str, Any], app: Flask) -> Engine:
        key = repr(sorted(options.items(), key=lambda item: item[0]))
        if key not in engines:
            engines[key] = make_engine(bind_key, options, app)
        return engines[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(db, "_make_engine", shared)
        yield
    for engine in engines.values():
        engine.dispose()


# Each test's app has a template environment of its own. Compiled once per process and kept in a
# folder removed at exit, the templates cost the suite a fraction of compiling them for each test.
_COMPILED_TEMPLATES_FOLDER = tempfile.TemporaryDirectory(prefix="jericho-templates-")
COMPILED_TEMPLATES = FileSystemBytecodeCache(_COMPILED_TEMPLATES_FOLDER.name)


def make_app(instance_path, **config: Any):
    settings = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "WTF_CSRF_ENABLED": False,
        # Each request's log entry is stored before its answer, so a test can read it at once;
        # test_provisioning_log.py covers the batched writer that servers use.
        "PROVISIONING_LOG_FLUSH_SECONDS": 0,
        "DATABASE_URL": DATABASE_URL,
    }
    settings.update(config)
    app = create_app(settings, instance_path=instance_path)
    app.jinja_env.bytecode_cache = COMPILED_TEMPLATES
    return app


@pytest.fixture(scope="session")
def postgres_schema(tmp_path_factory):
    """On PostgreSQL, the schema is created once; each test then empties the tables."""
    if not ON_POSTGRES:
        yield
        return
    if WORKER:
        create_worker_database()
    app = make_app(tmp_path_factory.mktemp("pg"))
    with app.app_context():
        empty_schema()  # whatever an earlier run, or an earlier version of the models, left
        db.create_all()
    yield
    with app.app_context():
        empty_schema()
        db.engine.dispose()


def create_worker_database() -> None:
    given, name = os.environ["DATABASE_URL"], make_url(DATABASE_URL).database
    engine = create_engine(given, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        if not connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}).first():
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


def empty_schema() -> None:
    with db.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Override in a test module to start the app with other settings."""
    return {}


@functools.cache
def empty_sqlite_database() -> bytes:
    """An SQLite file with the schema and no rows, made once per run: each test starts from a copy
    of it, which costs far less than creating the schema again."""
    with tempfile.TemporaryDirectory() as folder:
        app = make_app(Path(folder), DATABASE_URL=f"sqlite:///{Path(folder) / SQLITE_FILE}")
        with app.app_context():
            db.create_all()
            db.engine.dispose()  # the last connection to close folds the WAL into the file
        return (Path(folder) / SQLITE_FILE).read_bytes()


@contextmanager
def fresh_app(instance_path, **config: Any) -> Iterator[Flask]:
    """An app on an empty database: the process's SQLite file made empty again, or PostgreSQL (its
    schema made by `postgres_schema`) emptied again afterwards."""
    copied = not ON_POSTGRES and "DATABASE_URL" not in config
    if copied:  # no connection is open: the last test's app closed them
        for leftover in (Path(f"{SQLITE_DATABASE}-wal"), Path(f"{SQLITE_DATABASE}-shm")):
            leftover.unlink(missing_ok=True)
        SQLITE_DATABASE.write_bytes(empty_sqlite_database())
    app = make_app(instance_path, **config)
    if not ON_POSTGRES and not copied:
        with app.app_context():
            db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        if ON_POSTGRES:
            tables = ", ".join(table.name for table in db.metadata.sorted_tables)
            with db.engine.begin() as connection:
                connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.engine.dispose()


@pytest.fixture
def app(tmp_path, postgres_schema, app_config):
    with fresh_app(tmp_path, **app_config) as app:
        yield app


@pytest.fixture
def listen(app) -> Iterator[Callable[[str, Callable], None]]:
    """listen(name, listener): a listener to the app's engine for this test only (the apps of a
    process share their engine)."""
    with app.app_context():
        engine = db.engine
    added: list[tuple[str, Callable]] = []

    def add(name: str, listener: Callable) -> None:
        event.listen(engine, name, listener)
        added.append((name, listener))

    yield add
    for name, listener in added:
        event.remove(engine, name, listener)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class ScimClient:
    """The test client speaking to /scim_v2 with a bearer token, as Entra does."""

    def __init__(self, client, token: str) -> None:
        self.client = client
        self.token = token

    def request(self, method: str, path: str, *, headers: dict | None = None, **kwargs):
        headers = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        if "json" in kwargs:
            kwargs.setdefault("content_type", "application/scim+json; charset=utf-8")
        return self.client.open("/scim_v2" + path, method=method, headers=headers, **kwargs)

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs):
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs):
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs):
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs):
        return self.request("DELETE", path, **kwargs)


def new_token(app, organization: str = "Contoso", label: str = "") -> str:
    with app.app_context():
        _, secret = accounts.token_create(organization_name=organization, label=label)
    return secret


@pytest.fixture
def scim(app, client) -> ScimClient:
    return ScimClient(client, new_token(app))


@pytest.fixture
def other_scim(app) -> ScimClient:
    """A second organization's SCIM client, for tenant-isolation tests."""
    return ScimClient(app.test_client(), new_token(app, "Fabrikam"))


PASSWORD = "correct horse battery staple"


# Argon2 with its cheapest parameters: a check costs what its hash says, and the recommended
# parameters take a tenth of a second for each hash and check.
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(scope="session")
def password_hash() -> str:
    return CHEAP_HASHER.hash(PASSWORD)  # once per run


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashes() -> Iterator[None]:
    """The passwords the app hashes in a test (first run, resets, the check spent on unknown
    accounts) take the cheap parameters too."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(security, "_password_hasher", CHEAP_HASHER)
        patch.setattr(security, "_DUMMY_HASH", CHEAP_HASHER.hash("an account nobody has"))
        yield


class AuthActions:
    """Admin accounts and signing in through the real form (flaskr's AuthActions)."""

    def __init__(self, app, client, password_hash: str) -> None:
        self.app = app
        self.client = client
        self.password_hash = password_hash

    def create(self, email: str = "it@contoso.com", organization: str = "Contoso") -> None:
        with self.app.app_context():
            found = accounts.organization_by_name(organization) or Organization(name=organization)
            db.session.add(AdminUser(organization=found, email=email, password_hash=self.password_hash))
            db.session.commit()

    def sign_in(self, email: str = "it@contoso.com", password: str = PASSWORD, *, client=None):
        return (client or self.client).post("/sign-in", data={"email": email, "password": password})

    def sign_out(self, *, client=None):
        return (client or self.client).post("/sign-out")


@pytest.fixture
def auth(app, client, password_hash) -> AuthActions:
    return AuthActions(app, client, password_hash)
