"""Throttling of failed sign-ins: each (account, address) pair waits longer after each failure
beyond a few free ones, and so does an address that fails often, while the owner signing in from
elsewhere never waits."""
from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from jericho.admin import signin
from jericho.extensions import db
from jericho.storage.accounts import AccountError
from jericho.storage.models import SignInFailures

from conftest import PASSWORD

OWNER = "192.0.2.10"
ATTACKER = "203.0.113.66"
WRONG = "not the password at all"


@pytest.fixture
def fewer_free_failures(monkeypatch):
    """Fewer free failures, where they are spent on unknown accounts: each one costs a whole
    Argon2 check at the library's real parameters."""
    monkeypatch.setattr(signin, "FREE_FAILURES_PER_PAIR", 2)
    monkeypatch.setattr(signin, "FREE_FAILURES_PER_ADDRESS", 4)


def attempt(app, now, *, email="it@contoso.com", password=WRONG, address=ATTACKER):
    """"signed in", "wrong", or the seconds to wait when the attempt was refused."""
    with app.app_context():
        try:
            signin.sign_in(email=email, password=password, remote_addr=address, now=now)
        except signin.TooManyAttempts as refused:
            return refused.retry_after
        except AccountError:
            return "wrong"
    return "signed in"


def post(client, *, address=ATTACKER, password=WRONG, email="it@contoso.com", **headers):
    return client.post("/sign-in", data={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address}, headers=headers)


def test_an_attacker_cannot_keep_the_owner_out(app, client, auth, clock):
    auth.create()
    for _ in range(20):  # as fast as the server lets them, for hours
        response = post(client)
        if response.status_code == 429:
            clock.advance(seconds=int(response.headers["Retry-After"]))
            assert post(client).status_code == 200  # the wrong password again, at once
    assert post(client).status_code == 429
    owner = app.test_client()
    response = post(owner, address=OWNER, password=PASSWORD)
    assert response.status_code == 302
    assert owner.get("/wizard").status_code == 200


def test_a_refusal_is_429_with_retry_after_and_the_same_for_unknown_accounts(client, auth, fewer_free_failures):
    auth.create()
    for email in ("it@contoso.com", "ghost@contoso.com"):
        for _ in range(signin.FREE_FAILURES_PER_PAIR):
            assert post(client, email=email).status_code == 200
        refused = post(client, email=email, password=PASSWORD)  # the right password waits too
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "1"
        assert "Too many failed attempts. Wait 1 second and try again." in refused.text
    assert client.get("/wizard").status_code == 302


def test_each_failure_beyond_the_free_ones_doubles_the_wait_up_to_the_longest(app, auth, clock):
    auth.create()
    now = clock()
    for _ in range(signin.FREE_FAILURES_PER_PAIR):
        assert attempt(app, now) == "wrong"
    waits = []
    while len(waits) < 13:
        wait = attempt(app, now)
        assert attempt(app, now) == wait  # refused attempts are not counted
        waits.append(wait)
        now += timedelta(seconds=wait)
        assert attempt(app, now) == "wrong"
    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900]
    assert signin.LONGEST_DELAY == timedelta(minutes=15)


@pytest.mark.parametrize("seconds, words", [(0.2, "1 second"), (30, "30 seconds"), (61, "2 minutes"), (900, "15 minutes")])
def test_the_refusal_says_how_long_to_wait(seconds, words):
    assert f"Wait {words} and try again." in str(signin.TooManyAttempts(timedelta(seconds=seconds)))


def test_a_successful_sign_in_forgives_the_pairs_failures(app, auth, clock):
    auth.create()
    for _ in range(2):
        for _ in range(signin.FREE_FAILURES_PER_PAIR - 1):
            assert attempt(app, clock()) == "wrong"
        assert attempt(app, clock(), password=PASSWORD) == "signed in"
    for _ in range(signin.FREE_FAILURES_PER_PAIR):
        assert attempt(app, clock()) == "wrong"
    assert attempt(app, clock()) == 1


def test_one_address_guessing_many_accounts_is_slowed_and_only_that_address(app, auth, clock, fewer_free_failures):
    auth.create()
    for number in range(signin.FREE_FAILURES_PER_ADDRESS):
        assert attempt(app, clock(), email=f"guess{number}@contoso.com") == "wrong"
    assert attempt(app, clock(), password=PASSWORD) == 1
    assert attempt(app, clock(), password=PASSWORD, address=OWNER) == "signed in"


def test_signing_in_does_not_wipe_the_addresss_count_of_guesses(app, auth, clock, fewer_free_failures):
    auth.create()
    for number in range(signin.FREE_FAILURES_PER_ADDRESS - 1):
        assert attempt(app, clock(), email=f"guess{number}@contoso.com") == "wrong"
    assert attempt(app, clock(), password=PASSWORD) == "signed in"
    assert attempt(app, clock(), email="one-more@contoso.com") == "wrong"
    assert attempt(app, clock(), email="and-another@contoso.com") == 1


def test_failures_are_forgotten_after_a_quiet_day(app, auth, clock):
    auth.create()
    auth.create(email="someone.else@contoso.com")
    for _ in range(signin.FREE_FAILURES_PER_PAIR):
        attempt(app, clock())
    clock.advance(seconds=1)
    assert attempt(app, clock()) == "wrong"
    clock.advance(seconds=2)
    assert attempt(app, clock()) == "wrong"
    assert attempt(app, clock()) == 4
    clock.advance(days=1)
    for _ in range(signin.FREE_FAILURES_PER_PAIR):
        assert attempt(app, clock(), email="someone.else@contoso.com", address="198.51.100.1") == "wrong"
    with app.app_context():  # the attacker's counts are gone; only the new ones are kept
        assert db.session.execute(db.select(db.func.count()).select_from(SignInFailures)).scalar() == 2
    for _ in range(signin.FREE_FAILURES_PER_PAIR):
        assert attempt(app, clock()) == "wrong"
    assert attempt(app, clock()) == 1


def test_a_refusal_behind_an_untrusted_proxy_tells_the_operator(client, auth, caplog):
    auth.create()
    for _ in range(signin.FREE_FAILURES_PER_PAIR):
        post(client, **{"X-Forwarded-For": "198.51.100.23"})
    with caplog.at_level(logging.WARNING):
        assert post(client, **{"X-Forwarded-For": "198.51.100.23"}).status_code == 429
    assert f"if {ATTACKER} is your reverse proxy, set TRUST_PROXY=1" in caplog.text
