"""Migrations build the whole schema on an empty database and keep data on upgrade."""
import uuid

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, make_url, text

from jericho import create_app
from jericho.extensions import db

from conftest import DATABASE_URL, ON_POSTGRES


@pytest.fixture
def empty_database_url(tmp_path, postgres_schema):
    """A database of its own: a file on SQLite, a throw-away database on PostgreSQL."""
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
        return
    name = f"jericho_migration_{uuid.uuid4().hex[:8]}"
    admin = create_engine(DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    yield make_url(DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
    admin.dispose()


def migrated_app(tmp_path, url):
    return create_app({"DATABASE_URL": url, "SECRET_KEY": "x"}, instance_path=tmp_path)


def test_migrations_create_exactly_the_models_schema(tmp_path, empty_database_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    app = migrated_app(tmp_path, empty_database_url)
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {"users", "groups", "memberships", "scim_tokens", "provisioning_events"} <= tables
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": False})
            assert compare_metadata(context, db.metadata) == []
        db.engine.dispose()


def test_upgrade_of_an_existing_database_keeps_its_data(tmp_path, empty_database_url):
    app = migrated_app(tmp_path, empty_database_url)
    with app.app_context():
        upgrade()
        db.session.execute(text("INSERT INTO organizations (name, created_at) VALUES ('Kept', '2026-01-01')"))
        db.session.commit()
        upgrade()  # again, as every `make run` does
        assert db.session.execute(text("SELECT name FROM organizations")).scalar() == "Kept"
        db.session.remove()
        downgrade(revision="base")
        assert "organizations" not in inspect(db.engine).get_table_names()
        db.engine.dispose()
