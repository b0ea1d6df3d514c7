"""Rate limits under /scim_v2: per token far above what Entra needs, per client address on failed
authentication, 429 + Retry-After as a SCIM error beyond, shared by every gunicorn worker."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from jericho.api import rate_limits
from jericho.api.rate_limits import RateLimit
from jericho.extensions import db
from jericho.scim.errors import ERROR_URN, TooManyRequests
from jericho.storage import accounts
from jericho.storage.models import ProvisioningEvent

from conftest import make_app, new_token

START = datetime(2026, 11, 30, 9, 0, tzinfo=timezone.utc)


def admitted(app, requests: list[datetime], limit=rate_limits.limit_token, key=1) -> int:
    """How many of the requests, made at these moments, the limit lets through."""
    count = 0
    with app.app_context():
        for moment in requests:
            try:
                limit(key, now=moment)
                count += 1
            except TooManyRequests:
                pass
    return count


def at_rate(per_second: float, seconds: float, start: datetime = START) -> list[datetime]:
    step = timedelta(seconds=1 / per_second)
    return [start + step * index for index in range(int(per_second * seconds))]


def assert_429(response) -> None:
    assert response.status_code == 429
    assert response.mimetype == "application/scim+json"
    assert response.json["schemas"] == [ERROR_URN] and response.json["status"] == "429"
    assert int(response.headers["Retry-After"]) >= 1


# -- the limit itself, on a clock of our own -----------------------------------------------------


def test_defaults_admit_a_burst_of_500_at_once_then_refuse(app):
    assert admitted(app, [START] * 501) == 500


def test_defaults_sustain_entras_25_per_second_even_right_after_a_whole_burst(app):
    after_burst = START + timedelta(seconds=0.04)
    assert admitted(app, [START] * 500 + at_rate(25, 20, start=after_burst)) == 500 + 500


def test_a_runaway_client_is_held_to_the_sustained_rate(app):
    # 200/s for 4 s: the burst of 500, then 50 per second.
    assert admitted(app, at_rate(200, 4)) == pytest.approx(500 + 50 * 4, abs=2)


def test_retry_after_is_when_the_next_request_would_pass(app):
    app.config.update(RATE_LIMIT_TOKEN_PER_SECOND=0.1, RATE_LIMIT_TOKEN_BURST=2)
    with app.app_context():
        rate_limits.limit_token(1, now=START)
        rate_limits.limit_token(1, now=START)
        with pytest.raises(TooManyRequests) as refused:
            rate_limits.limit_token(1, now=START + timedelta(seconds=1))
        assert refused.value.retry_after == 9
        rate_limits.limit_token(1, now=START + timedelta(seconds=10))


def test_a_refused_request_does_not_use_up_the_allowance(app):
    app.config.update(RATE_LIMIT_TOKEN_PER_SECOND=1, RATE_LIMIT_TOKEN_BURST=1)
    hammering = [START + timedelta(milliseconds=10 * index) for index in range(100)]
    assert admitted(app, hammering) == 1
    assert admitted(app, [START + timedelta(seconds=3)]) == 1


def test_tokens_and_addresses_are_limited_separately(app):
    app.config.update(RATE_LIMIT_TOKEN_BURST=3, RATE_LIMIT_FAILED_AUTH_BURST=3)
    assert admitted(app, [START] * 5, key=1) == 3
    assert admitted(app, [START] * 5, key=2) == 3
    assert admitted(app, [START] * 5, limit=rate_limits.limit_failed_authentication, key="192.0.2.1") == 3
    assert admitted(app, [START] * 5, limit=rate_limits.limit_failed_authentication, key="192.0.2.2") == 3


def test_idle_keys_are_swept_on_the_failed_authentication_path(app):
    with app.app_context():
        for address in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):
            rate_limits.limit_failed_authentication(address, now=START)
        rate_limits.limit_failed_authentication("192.0.2.9", now=START + timedelta(hours=1))
        assert db.session.execute(select(func.count()).select_from(RateLimit)).scalar_one() == 1


def test_no_client_address_is_stored_in_the_clear(app):
    with app.app_context():
        rate_limits.limit_failed_authentication("198.51.100.23", now=START)
        (key,) = db.session.execute(select(RateLimit.key)).one()
    assert "198.51.100.23" not in key and len(key) == 64


# -- over HTTP -----------------------------------------------------------------------------------


@pytest.fixture
def tight(app):
    app.config.update(
        RATE_LIMIT_TOKEN_PER_SECOND=0.01, RATE_LIMIT_TOKEN_BURST=3,
        RATE_LIMIT_FAILED_AUTH_PER_SECOND=0.01, RATE_LIMIT_FAILED_AUTH_BURST=3,
    )
    return app


def test_a_token_beyond_its_limit_gets_429_with_retry_after(tight, scim, other_scim):
    for _ in range(3):
        assert scim.get("/Users").status_code == 200
    refused = scim.get("/Users")
    assert_429(refused)
    assert 98 <= int(refused.headers["Retry-After"]) <= 100
    assert other_scim.get("/Users").status_code == 200  # another token is not affected


def test_a_refused_request_is_in_the_provisioning_log(tight, scim):
    for _ in range(4):
        scim.get("/Users")
    with tight.app_context():
        event = db.session.execute(
            select(ProvisioningEvent).order_by(ProvisioningEvent.id.desc())
        ).scalars().first()
    assert (event.status, event.operation) == (429, "rejected")
    assert event.organization_id is not None


@pytest.mark.parametrize("authorization", [None, "Bearer not-a-token", "Basic dXNlcjpwYXNz", "Bearer "])
def test_failed_authentication_from_one_address_gets_429(tight, client, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    for _ in range(3):
        assert client.get("/scim_v2/Users", headers=headers).status_code == 401
    assert_429(client.get("/scim_v2/Users", headers=headers))


def test_a_revoked_token_counts_as_a_failure(tight, client):
    secret = new_token(tight)
    with tight.app_context():
        accounts.token_revoke(prefix=secret.split("_")[1])
    headers = {"Authorization": f"Bearer {secret}"}
    assert [client.get("/scim_v2/Users", headers=headers).status_code for _ in range(4)] == [401] * 3 + [429]


def test_failures_from_a_shared_address_never_block_a_valid_token(tight, client, scim):
    # Entra calls from Azure addresses shared by many tenants: a stranger's bad token from the
    # same address must not lock a customer out.
    for _ in range(5):
        client.get("/scim_v2/Users", headers={"Authorization": "Bearer wrong"})
    assert scim.get("/Users").status_code == 200


def test_another_address_is_not_blocked(tight, client):
    bad = {"Authorization": "Bearer wrong"}
    for _ in range(4):
        client.get("/scim_v2/Users", headers=bad, environ_base={"REMOTE_ADDR": "192.0.2.1"})
    assert client.get("/scim_v2/Users", headers=bad, environ_base={"REMOTE_ADDR": "192.0.2.2"}).status_code == 401


def test_a_spoofed_forwarded_for_does_not_evade_the_limit(tight, client):
    # Without TRUST_PROXY the header is the client's word, not its address.
    statuses = [
        client.get("/scim_v2/Users", headers={"Authorization": "Bearer wrong", "X-Forwarded-For": f"10.0.0.{n}"}).status_code
        for n in range(5)
    ]
    assert statuses == [401] * 3 + [429] * 2


@pytest.mark.parametrize("app_config", [{
    "TRUST_PROXY": True, "RATE_LIMIT_FAILED_AUTH_PER_SECOND": 0.01, "RATE_LIMIT_FAILED_AUTH_BURST": 1,
}])
def test_behind_a_trusted_proxy_the_forwarded_address_is_limited(app, client):
    bad = {"Authorization": "Bearer wrong"}
    assert client.get("/scim_v2/Users", headers={**bad, "X-Forwarded-For": "192.0.2.1"}).status_code == 401
    assert client.get("/scim_v2/Users", headers={**bad, "X-Forwarded-For": "192.0.2.1"}).status_code == 429
    assert client.get("/scim_v2/Users", headers={**bad, "X-Forwarded-For": "192.0.2.2"}).status_code == 401


@pytest.mark.parametrize("app_config", [{
    "RATE_LIMIT_TOKEN_PER_SECOND": 0, "RATE_LIMIT_TOKEN_BURST": 1,
    "RATE_LIMIT_FAILED_AUTH_PER_SECOND": 0, "RATE_LIMIT_FAILED_AUTH_BURST": 1,
}])
def test_limits_can_be_turned_off(app, client, scim):
    assert {scim.get("/Users").status_code for _ in range(10)} == {200}
    assert {client.get("/scim_v2/Users").status_code for _ in range(10)} == {401}
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(RateLimit)).scalar_one() == 0


# -- leases: a busy token is counted a twentieth of its burst at a time ----------------------------


def counted_until(app) -> float:
    with app.app_context():
        return db.session.execute(select(RateLimit.tat)).scalar_one()


def test_a_process_counts_a_lease_of_requests_with_one_write(app):
    interval = 1 / app.config["RATE_LIMIT_TOKEN_PER_SECOND"]  # defaults: 50/s, burst 500, lease 25
    assert admitted(app, [START]) == 1
    assert counted_until(app) == pytest.approx(START.timestamp() + 25 * interval)
    assert admitted(app, [START] * 24) == 24
    assert counted_until(app) == pytest.approx(START.timestamp() + 25 * interval)
    assert admitted(app, [START]) == 1
    assert counted_until(app) == pytest.approx(START.timestamp() + 50 * interval)


def test_processes_sharing_the_database_admit_exactly_the_burst_together(app, tmp_path):
    other_process = make_app(tmp_path)  # the same database, its own leases
    admitted_by_either = sum(admitted(process, [START] * 30) for _ in range(20) for process in (app, other_process))
    assert admitted_by_either == 500


def test_an_unused_lease_lapses_after_a_second(app):
    interval = 1 / app.config["RATE_LIMIT_TOKEN_PER_SECOND"]
    admitted(app, [START])
    later = START + timedelta(seconds=rate_limits.LEASE_SECONDS)
    assert admitted(app, [later]) == 1
    assert counted_until(app) == pytest.approx(later.timestamp() + 25 * interval)


def test_a_lapsed_lease_gives_back_nothing_once_its_time_has_passed(app):
    interval = 1 / app.config["RATE_LIMIT_TOKEN_PER_SECOND"]
    admitted(app, [START] * 5)  # a lease of 25, 20 unused
    later = START + timedelta(seconds=0.2)  # still 0.3 s of counted requests ahead
    admitted(app, [later + timedelta(seconds=rate_limits.LEASE_SECONDS)])
    # Lapsed at 1.2 s: nothing ahead of now is left to give back, so a fresh lease of 25 from then.
    assert counted_until(app) == pytest.approx(later.timestamp() + rate_limits.LEASE_SECONDS + 25 * interval)


def test_an_unused_lease_is_given_back_while_still_ahead(app):
    app.config.update(RATE_LIMIT_TOKEN_PER_SECOND=5, RATE_LIMIT_TOKEN_BURST=500)  # a lease is 5 s
    admitted(app, [START] * 5)  # 20 of 25 unused
    later = START + timedelta(seconds=rate_limits.LEASE_SECONDS)
    admitted(app, [later])
    # 5 used by 0.2 s each = START + 1 s; then a new lease of 25 from `later` = START + 1 s.
    assert counted_until(app) == pytest.approx(later.timestamp() + 25 * 0.2)
