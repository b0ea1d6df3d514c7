"""`flask jericho webhook ...` and `prune-events`: output contract, effects and errors."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import select, update

from conftest import new_token
from jericho.extensions import db
from jericho.storage.consumer_models import DirectoryEvent, WebhookEndpoint
from jericho.webhooks.signing import derive_secret
from receiver import receiver  # noqa: F401 (a fixture)


@pytest.fixture
def app_config():
    return {"WEBHOOK_ALLOW_PRIVATE_NETWORKS": True}


def test_webhook_create_prints_only_the_signing_secret(app, runner, receiver):
    new_token(app)
    created = runner.invoke(args=["jericho", "webhook", "create", "--org", "Contoso", "--url", receiver.url,
                                  "--events", "user.*, group.member_added"])
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip()
    assert secret.startswith("jwh_") and len(created.stdout.splitlines()) == 1
    with app.app_context():
        endpoint = db.session.execute(select(WebhookEndpoint)).scalar_one()
        assert endpoint.events == "user.*,group.member_added" and endpoint.url == receiver.url
        assert secret == derive_secret(app.config["SECRET_KEY"], endpoint.secret_salt)
        assert secret not in endpoint.secret_salt


def test_webhook_list_disable_enable_delete(app, runner, receiver):
    new_token(app)
    runner.invoke(args=["jericho", "webhook", "create", "--org", "Contoso", "--url", receiver.url])
    listing = runner.invoke(args=["jericho", "webhook", "list", "--org", "Contoso"])
    assert receiver.url in listing.stdout and "Waiting for the first event" in listing.stdout
    assert runner.invoke(args=["jericho", "webhook", "disable", "1"]).exit_code == 0
    assert "Disabled" in runner.invoke(args=["jericho", "webhook", "list", "--org", "Contoso"]).stdout
    assert runner.invoke(args=["jericho", "webhook", "enable", "1"]).exit_code == 0
    assert "Disabled" not in runner.invoke(args=["jericho", "webhook", "list", "--org", "Contoso"]).stdout
    assert runner.invoke(args=["jericho", "webhook", "delete", "1"]).exit_code == 0
    assert receiver.url not in runner.invoke(args=["jericho", "webhook", "list", "--org", "Contoso"]).stdout


@pytest.mark.parametrize(("arguments", "message"), [
    (["create", "--org", "Nobody", "--url", "https://hooks.example.com/"], "no organization named 'Nobody'"),
    (["create", "--org", "Contoso", "--url", "https://169.254.169.254/"], "refused: 169.254.169.254 resolves to"),
    (["create", "--org", "Contoso", "--url", "https://127.0.0.1/", "--events", "user.renamed"],
     "'user.renamed' is not an event type"),
    (["disable", "42"], "no webhook endpoint 42"),
    (["delete", "42"], "no webhook endpoint 42"),
])
def test_webhook_command_errors(app, runner, arguments, message):
    new_token(app)
    result = runner.invoke(args=["jericho", "webhook", *arguments])
    assert result.exit_code == 1 and message in result.output and result.stdout == ""


def test_prune_events(app, runner, scim):
    scim.post("/Users", json={"userName": "ava@contoso.com"})
    with app.app_context():
        # Long before the day the test runs, whichever it is.
        db.session.execute(update(DirectoryEvent).values(occurred_at=datetime(2020, 1, 1, tzinfo=timezone.utc)))
        db.session.commit()
    result = runner.invoke(args=["jericho", "prune-events", "--days", "40"])
    assert result.exit_code == 0 and "Deleted 1 events and 0 webhook deliveries older than 40 days" in result.output
