"""SQLite set-up for several server processes, and write transactions."""
import pytest
from sqlalchemy import text

from jericho.extensions import db
from jericho.storage.database import writes
from jericho.storage.models import Organization

from conftest import make_app


@pytest.fixture
def sqlite_app(tmp_path):
    """The default database, whatever DATABASE_URL the suite runs on."""
    return make_app(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'pragmas.sqlite3'}")


def test_sqlite_pragmas(sqlite_app):
    with sqlite_app.app_context():
        pragma = lambda name: db.session.execute(text(f"PRAGMA {name}")).scalar()  # noqa: E731
        assert pragma("journal_mode") == "wal"
        assert pragma("foreign_keys") == 1
        assert pragma("busy_timeout") == 30000
        assert pragma("synchronous") == 1  # NORMAL


def test_sqlite_lower_folds_unicode_like_python(sqlite_app):
    with sqlite_app.app_context():
        assert db.session.execute(text("SELECT lower('ÅSA ÖBERG')")).scalar() == "åsa öberg"


def test_a_failed_write_leaves_nothing_behind(app):
    @writes
    def create_then_fail():
        db.session.add(Organization(name="Half"))
        db.session.flush()
        raise ValueError("boom")

    with app.app_context():
        with pytest.raises(ValueError):
            create_then_fail()
        assert db.session.execute(db.select(Organization)).first() is None


def test_a_write_commits(app):
    @writes
    def create():
        db.session.add(Organization(name="Whole"))

    with app.app_context():
        create()
        db.session.rollback()
        assert db.session.execute(db.select(Organization.name)).scalar() == "Whole"
