"""Provisioning log retention: old requests are deleted in small batches, by command or in the
background, and a SCIM request never waits for it."""
import threading
from datetime import timedelta

import pytest

from jericho import create_app
from jericho.extensions import db
from jericho.status import retention
from jericho.storage.models import ProvisioningEvent, utcnow

from status_helpers import TEST_CONNECTION, age_log, lookup


def kept(app) -> list[str]:
    with app.app_context():
        return list(db.session.execute(
            db.select(ProvisioningEvent.action).order_by(ProvisioningEvent.id)).scalars())


@pytest.fixture
def old_and_new(app, client, scim, other_scim):
    for number in range(5):
        lookup(scim, f"old{number}@contoso.com")
    lookup(other_scim, "old@fabrikam.com")
    client.get("/scim_v2/Users", headers={"Authorization": "Bearer mistyped"})  # no organization
    age_log(app, timedelta(days=31))
    scim.get(TEST_CONNECTION)
    lookup(other_scim, "new@fabrikam.com")


def test_prune_deletes_what_is_older_than_the_retention_in_batches(app, old_and_new, monkeypatch):
    batches = []
    delete_batch = retention._delete_batch
    monkeypatch.setattr(retention, "_delete_batch", lambda **kw: batches.append(delete_batch(**kw)) or batches[-1])
    with app.app_context():
        assert retention.prune_log(now=utcnow(), days=30, batch_size=2, pause=0) == 7
    assert kept(app) == ["Test Connection: lookup of a random GUID", "look up user new@fabrikam.com"]
    assert batches == [2, 2, 1, 1, 1]  # Contoso in three batches, then Fabrikam, then no organization


def test_nothing_to_prune(app, old_and_new):
    with app.app_context():
        assert retention.prune_log(now=utcnow(), days=40) == 0
    assert len(kept(app)) == 9


def test_the_prune_command(app, runner, old_and_new):
    result = runner.invoke(args=["jericho", "prune-log"])
    assert result.exit_code == 0, result.output
    assert "Deleted 7 provisioning log entries older than 30 days." in result.stderr
    assert len(kept(app)) == 2


def test_the_prune_command_with_days(app, runner, scim):
    scim.get(TEST_CONNECTION)
    age_log(app, timedelta(days=8))
    assert runner.invoke(args=["jericho", "prune-log", "--days", "10"]).exit_code == 0
    assert len(kept(app)) == 1
    result = runner.invoke(args=["jericho", "prune-log", "--days", "7"])
    assert "Deleted 1 provisioning log entries older than 7 days." in result.stderr and kept(app) == []
    assert runner.invoke(args=["jericho", "prune-log", "--days", "0"]).exit_code == 2


@pytest.mark.parametrize("app_config", [{"PROVISIONING_LOG_RETENTION_DAYS": 0}])
def test_a_retention_of_zero_keeps_everything(app, runner, old_and_new):
    result = runner.invoke(args=["jericho", "prune-log"])
    assert "kept in full" in result.stderr and len(kept(app)) == 9


@pytest.mark.parametrize("app_config", [{"PROVISIONING_LOG_RETENTION_DAYS": "7"}])
def test_the_retention_is_configurable(app, runner, scim):
    scim.get(TEST_CONNECTION)
    age_log(app, timedelta(days=8))
    assert "older than 7 days" in runner.invoke(args=["jericho", "prune-log"]).stderr
    assert kept(app) == []


@pytest.mark.parametrize("value", ["thirty", -1])
def test_a_wrong_retention_stops_the_start(tmp_path, value):
    with pytest.raises(ValueError, match="PROVISIONING_LOG_RETENTION_DAYS"):
        create_app({"SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
                    "PROVISIONING_LOG_RETENTION_DAYS": value}, instance_path=tmp_path)


def test_pruning_runs_in_the_background_and_scim_requests_never_wait(app, scim, old_and_new, monkeypatch):
    schedule = app.extensions[retention.EXTENSION]
    assert schedule.next_at > utcnow()  # not right after start
    release, started = threading.Event(), threading.Event()
    prune = retention.prune_log

    def slow_prune(**kwargs):
        started.set()
        release.wait(10)
        return prune(**kwargs)

    monkeypatch.setattr(retention, "prune_log", slow_prune)
    schedule.next_at = utcnow() - timedelta(seconds=1)
    assert scim.get(TEST_CONNECTION).status_code == 200  # starts the pruning, does not wait for it
    assert started.wait(10) and schedule.running.is_alive()
    assert lookup(scim, "during@contoso.com").status_code == 200
    release.set()
    schedule.running.join(10)
    assert not schedule.running.is_alive()
    assert "look up user old0@contoso.com" not in kept(app)
    assert "look up user during@contoso.com" in kept(app)
    assert schedule.next_at > utcnow() + timedelta(minutes=59)  # once an hour


def test_a_failing_background_prune_is_logged_and_retried_later(app, scim, monkeypatch, caplog):
    def broken(**kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(retention, "prune_log", broken)
    schedule = app.extensions[retention.EXTENSION]
    schedule.next_at = utcnow() - timedelta(seconds=1)
    assert scim.get(TEST_CONNECTION).status_code == 200
    schedule.running.join(10)
    assert "could not prune the provisioning log" in caplog.text


@pytest.mark.parametrize("app_config, words", [({}, "newest first, for 30 days."),
                                               ({"PROVISIONING_LOG_RETENTION_DAYS": 0}, "newest first.")])
def test_the_log_page_says_how_long_it_keeps_requests(app, auth, scim, client, words):
    auth.create()
    auth.sign_in()
    assert words in client.get("/status/log").get_data(as_text=True)
