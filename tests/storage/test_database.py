"""SQLite set-up for several server processes, write transactions, and deadlines."""
import pytest
from sqlalchemy import text

from jericho.extensions import db
from jericho.storage.database import StatementTimeout, lift_statement_limit, limit_statements, writes
from jericho.storage.models import Organization

from conftest import make_app
from deadline_helpers import SLOW, deadline_clock, run, stall  # noqa: F401 (fixture)


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


# -- deadlines (the SCIM API sets one per request) -------------------------------------------------

DEADLINE_SECONDS = 3


@pytest.fixture
def deadline(app, deadline_clock):
    with app.app_context():
        limit_statements(DEADLINE_SECONDS)
        try:
            yield
        finally:
            lift_statement_limit()


def test_a_statement_before_the_deadline_runs(deadline):
    assert run(SLOW) >= 1


def test_a_statement_begun_past_the_deadline_is_stopped(deadline, deadline_clock):
    deadline_clock.now += DEADLINE_SECONDS + 1  # before the transaction begins: PostgreSQL gives it 1 ms
    with pytest.raises(StatementTimeout):
        run(SLOW)


def test_a_write_that_runs_out_of_time_is_rolled_back_whole(deadline, deadline_clock):
    @writes
    def create_then_stall():
        db.session.add(Organization(name="Half"))
        db.session.flush()
        stall(deadline_clock)

    with pytest.raises(StatementTimeout):
        create_then_stall()
    lift_statement_limit()
    assert db.session.execute(db.select(Organization)).first() is None


def test_without_a_deadline_nothing_is_stopped(app, deadline_clock):
    # Admin pages, the CLI and migrations set none.
    with app.app_context():
        limit_statements(DEADLINE_SECONDS)
        lift_statement_limit()
        deadline_clock.now += DEADLINE_SECONDS + 1
        assert run(SLOW) >= 1
