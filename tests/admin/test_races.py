"""Sign-in throttling and first-run setup under real concurrency: threads, each with its own app
context and database connection, released together against the suite's database (on
PostgreSQL, READ COMMITTED lets a count-then-insert race; on SQLite, writers queue)."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from jericho.admin import signin
from jericho.extensions import db
from jericho.storage.accounts import AccountError
from jericho.storage.models import AdminUser, Organization, SignInFailures

from conftest import PASSWORD

SECRET_KEY = "test-secret-key"  # conftest's


def at_once(app, call: Callable[[int], object], count: int) -> list[object]:
    """`call(n)` for n in range(count), each in a thread of its own with its own app context,
    released together; what each returned or raised."""
    barrier = threading.Barrier(count)

    def run(number: int):
        with app.app_context():
            barrier.wait(timeout=30)
            try:
                return call(number)
            except Exception as error:
                return error
            finally:
                db.session.remove()

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def test_30_simultaneous_wrong_passwords_for_one_account_get_exactly_the_free_attempts(app, auth, clock):
    auth.create()
    now = clock()

    def wrong_password(_):
        signin.sign_in(email="it@contoso.com", password="wrong password!", remote_addr="203.0.113.7", now=now)

    outcomes = at_once(app, wrong_password, 30)
    checked = [outcome for outcome in outcomes if type(outcome) is AccountError]
    refused = [outcome for outcome in outcomes if isinstance(outcome, signin.TooManyAttempts)]
    assert (len(checked), len(refused)) == (signin.FREE_FAILURES_PER_PAIR, 30 - signin.FREE_FAILURES_PER_PAIR)
    with app.app_context():
        counts = set(db.session.execute(db.select(SignInFailures.failures)).scalars())
        assert counts == {signin.FREE_FAILURES_PER_PAIR}  # the pair's and the address's


def test_8_simultaneous_first_runs_create_one_organization_and_one_admin(app, clock):
    def first_run(number: int):
        return signin.complete_setup(
            secret_key=SECRET_KEY,
            code=signin.setup_code(SECRET_KEY),
            organization_name=f"Organization {number}",
            email=f"admin{number}@example.com",
            password=PASSWORD,
            remote_addr=f"198.51.100.{number}",
            now=clock(),
        )

    outcomes = at_once(app, first_run, 8)
    assert sum(isinstance(outcome, AdminUser) for outcome in outcomes) == 1
    assert {str(outcome) for outcome in outcomes if not isinstance(outcome, AdminUser)} == {signin.SETUP_COMPLETE}
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(AdminUser.id))).scalar() == 1
        assert db.session.execute(db.select(db.func.count(Organization.id))).scalar() == 1
