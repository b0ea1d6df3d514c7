"""The API page: API keys and webhook endpoints made, shown once, listed with their health,
revoked, disabled, resumed, deleted and redelivered; the delivery log; the dashboard's consumers
section; and one organization never touching another's."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from jericho.extensions import db
from jericho.storage.consumer_models import ApiKey, WebhookDelivery, WebhookEndpoint
from jericho.storage.models import AdminAuditEvent, utcnow
from jericho.storage.webhooks import webhook_endpoint_create
from jericho.webhooks.delivery import deliver_due
from jericho.webhooks.signing import derive_secret

from receiver import receiver  # noqa: F401 (a fixture)
from status_helpers import admin, page_text, shown_id  # noqa: F401 (admin: a fixture)


@pytest.fixture
def app_config():
    return {"WEBHOOK_ALLOW_PRIVATE_NETWORKS": True}


def shown_secret(page: str) -> str:
    return re.search(r'id="secret-token">([^<]+)</code>', page).group(1)


def audit_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.execute(select(AdminAuditEvent.action).order_by(AdminAuditEvent.id)).scalars())


def endpoint_page(app, endpoint_id: int = 1) -> str:
    """An endpoint's page, by the id admins see."""
    return f"/api/webhooks/{shown_id(app, endpoint_id)}"


def deliver(app) -> None:
    with app.app_context():
        while deliver_due(clock=utcnow, config=app.config):
            pass
        db.session.remove()


def test_an_admin_creates_a_key_that_reads_the_api_and_is_shown_once(app, admin):
    response = admin.post("/api/keys", data={"label": "Training platform"})
    assert response.status_code == 200
    key = shown_secret(response.text)
    assert key.startswith("jak_")
    assert admin.get("/api/v1/users", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    page = admin.get("/api").text
    assert key not in page and f"jak_{key.split('_')[1]}_…" in page and "Training platform" in page
    assert "never read the events feed" in page
    assert audit_actions(app)[-1] == f"created API key {key.split('_')[1]} “Training platform”"


def test_an_admin_revokes_a_key(app, admin):
    key = shown_secret(admin.post("/api/keys", data={"label": ""}).text)
    prefix = key.split("_")[1]
    response = admin.post(f"/api/keys/{prefix}/revoke", follow_redirects=True)
    assert f"API key {prefix} is revoked" in page_text(response)
    assert "Revoked" in page_text(response)
    assert admin.get("/api/v1/users", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    assert audit_actions(app)[-1] == f"revoked API key {prefix}"


def test_an_admin_adds_a_webhook_and_sees_its_deliveries(app, admin, scim, receiver):
    response = admin.post("/api/webhooks", data={"url": receiver.url, "events": ["user.*", "group.*"]})
    assert response.status_code == 200
    secret = shown_secret(response.text)
    with app.app_context():
        endpoint = db.session.execute(select(WebhookEndpoint)).scalar_one()
        assert secret == derive_secret(app.config["SECRET_KEY"], endpoint.secret_salt)
        assert endpoint.events == "user.*,group.*"
    assert secret not in admin.get("/api").text
    assert "Waiting for the first event" in page_text(admin.get("/api"))

    receiver.answer(502)
    scim.post("/Users", json={"userName": "ava@contoso.com"})
    deliver(app)
    page = page_text(admin.get(endpoint_page(app, endpoint.id)))
    assert "Retrying" in page and "failed 1 time" in page and "answered 502 Bad Gateway" in page
    assert "down for maintenance" in page  # the start of the answer, escaped
    # Each attempt's time, outcome, status line, answer and duration, and a way to send it again.
    assert re.search(r"12:04 UTC 1 user.created Failed answered 502 Bad Gateway <h1>down for maintenance</h1>x+ "
                     r"\d+ ms Redeliver event 1", page)
    assert "Retrying 1 waiting 12:04 UTC Failed event 1, 502" in page_text(admin.get("/api"))


def test_an_endpoint_failing_for_a_day_shows_on_the_api_page_and_the_dashboard(app, admin, auth, scim, receiver,
                                                                              clock):
    admin.post("/api/webhooks", data={"url": receiver.url, "events": ["user.*"]})
    receiver.answer(*[500] * 40)
    scim.post("/Users", json={"userName": "ava@contoso.com"})
    while True:
        deliver(app)
        with app.app_context():
            endpoint = db.session.execute(select(WebhookEndpoint)).scalar_one()
        if endpoint.failing_since is not None:
            break
        clock.now = endpoint.next_attempt_at
    assert auth.sign_in().status_code == 302  # a day later
    assert "Failing 1 waiting" in page_text(admin.get("/api"))
    assert f"Webhook {receiver.url}: Failing 1 waiting" in page_text(admin.get("/status/"))
    page = page_text(admin.get(endpoint_page(app)))
    assert "Delivery stopped" in page and "failed for 24 hours" in page and "Resume delivery" in page
    # Stopped longer than the events are kept, it would miss some: the admin is told in time.
    assert "Events are kept 30 days: if it stays stopped longer, the events pruned meanwhile are never sent" in page


def test_the_delivery_log_shows_only_a_short_escaped_excerpt(app, admin, scim, receiver):
    admin.post("/api/webhooks", data={"url": receiver.url, "events": ["user.*"]})
    receiver.answer(500)
    scim.post("/Users", json={"userName": "ava@contoso.com"})
    deliver(app)
    body = admin.get(endpoint_page(app)).text
    assert "<h1>down for maintenance" not in body
    assert "&lt;h1&gt;down for maintenance" in body
    assert "x" * 201 not in body


def test_a_webhook_is_disabled_resumed_redelivered_and_deleted(app, admin, scim, receiver):
    admin.post("/api/webhooks", data={"url": receiver.url, "events": ["user.*"]})
    scim.post("/Users", json={"userName": "ava@contoso.com"})
    deliver(app)
    assert "Healthy" in page_text(admin.get(endpoint_page(app)))

    assert "is disabled" in page_text(admin.post(endpoint_page(app) + "/disable", follow_redirects=True))
    assert "Disabled" in page_text(admin.get("/api"))
    assert "Events are kept 30 days" in page_text(admin.get(endpoint_page(app)))
    assert "delivers again" in page_text(admin.post(endpoint_page(app) + "/resume", follow_redirects=True))

    with app.app_context():
        delivery_id = db.session.execute(select(WebhookDelivery.id)).scalar_one()
    page = page_text(admin.post(f"{endpoint_page(app)}/deliveries/{shown_id(app, delivery_id)}/redeliver",
                                follow_redirects=True))
    assert "Event 1 is queued for redelivery" in page and "Queued" in page
    deliver(app)
    assert [e["id"] for e in receiver.delivered()] == ["1", "1"]

    assert "is deleted" in page_text(admin.post(endpoint_page(app) + "/delete", follow_redirects=True))
    assert admin.get(endpoint_page(app)).status_code == 404
    assert audit_actions(app)[-4:] == [
        f"disabled webhook endpoint {receiver.url}", f"resumed webhook endpoint {receiver.url}",
        f"redelivered event 1 to webhook endpoint {receiver.url}", f"deleted webhook endpoint {receiver.url}",
    ]


def test_the_webhook_ids_an_admin_sees_tell_nothing_of_other_organizations(app, admin, scim, other_scim, receiver):
    """Endpoints and deliveries are numbered across organizations: shown as they are, an admin
    could count the endpoints the others add and the changes sent to them. Links and forms carry
    them only through a keyed permutation, and a raw id names nothing."""
    with app.app_context():
        webhook_endpoint_create(organization_id=2, url=receiver.url, events="user.*", secret_salt="0" * 32, now=utcnow())
    admin.post("/api/webhooks", data={"url": receiver.url, "events": ["user.*"]})
    for number in range(3):
        other_scim.post("/Users", json={"userName": f"u{number}@fabrikam.com"})  # Fabrikam's deliveries between
        scim.post("/Users", json={"userName": f"u{number}@contoso.com"})
        deliver(app)
    with app.app_context():
        endpoint_id = db.session.execute(select(WebhookEndpoint.id).where(WebhookEndpoint.organization_id == 1)
                                         ).scalar_one()
        own = list(db.session.execute(select(WebhookDelivery.id).where(WebhookDelivery.endpoint_id == endpoint_id)
                                      .order_by(WebhookDelivery.id)).scalars())
    assert (endpoint_id, own) == (2, [2, 4, 6])
    html = admin.get("/api").text + admin.get(endpoint_page(app, endpoint_id)).text
    shown = set(re.findall(r'"/api/webhooks/([^"/]+)(?:/deliveries/([^"/]+))?', html))
    assert {ref for pair in shown for ref in pair if ref} == {shown_id(app, row) for row in [endpoint_id, *own]}
    assert not re.search(r'/(?:webhooks|deliveries)/\d{1,15}[/"]|[Ee]ndpoint \d', html)  # no raw id
    assert admin.get(f"/api/webhooks/{endpoint_id}").status_code == 404
    assert admin.post(f"{endpoint_page(app, endpoint_id)}/deliveries/{own[0]}/redeliver").status_code == 404


@pytest.mark.parametrize(("data", "message"), [
    ({"url": "", "events": ["user.*"]}, "Enter the URL that receives the events."),
    ({"url": "https://169.254.169.254/latest", "events": ["user.*"]}, "a link-local address"),
    ({"url": "https://user:secret@hooks.example.com/", "events": ["user.*"]}, "no user name or password"),
    ({"url": "https://hooks.example.com/"}, "Choose the events to send."),
    ({"url": "https://hooks.example.com/", "events": ["everything"]}, "is not a valid choice"),
])
def test_a_refused_webhook_says_why(app, admin, data, message):
    response = admin.post("/api/webhooks", data=data)
    assert response.status_code == 400
    assert message in page_text(response)
    with app.app_context():
        assert db.session.execute(select(WebhookEndpoint)).first() is None


def test_the_dashboard_says_whether_consumers_keep_up(app, admin, scim, receiver):
    assert "No product reads the directory yet" in page_text(admin.get("/status/"))
    key = shown_secret(admin.post("/api/keys", data={"label": "Training"}).text)
    admin.post("/api/webhooks", data={"url": receiver.url, "events": ["user.*"]})
    scim.post("/Users", json={"userName": "ava@contoso.com"})
    admin.get("/api/v1/events", headers={"Authorization": f"Bearer {key}"})
    scim.post("/Users", json={"userName": "bo@contoso.com"})
    page = page_text(admin.get("/status/"))
    assert "“Training”" in page and "1 event behind" in page
    assert receiver.url in page and "2 waiting" in page


def test_another_organization_s_keys_and_webhooks_answer_404(app, admin, scim, other_scim, auth, receiver):
    admin.post("/api/webhooks", data={"url": receiver.url, "events": ["user.*"]})
    key = shown_secret(admin.post("/api/keys", data={"label": "contoso-only"}).text)
    scim.post("/Users", json={"userName": "ava@contoso.com"})
    deliver(app)
    with app.app_context():
        delivery_id = db.session.execute(select(WebhookDelivery.id)).scalar_one()
    fabrikam = app.test_client()
    auth.create(email="it@fabrikam.com", organization="Fabrikam")
    assert auth.sign_in(email="it@fabrikam.com", client=fabrikam).status_code == 302
    page = fabrikam.get("/api").text
    assert "contoso-only" not in page and receiver.url not in page
    assert fabrikam.get(endpoint_page(app)).status_code == 404
    for path in (endpoint_page(app) + "/disable", endpoint_page(app) + "/resume", endpoint_page(app) + "/delete",
                 f"{endpoint_page(app)}/deliveries/{shown_id(app, delivery_id)}/redeliver",
                 f"/api/keys/{key.split('_')[1]}/revoke"):
        assert fabrikam.post(path).status_code == 404, path
    with app.app_context():
        assert db.session.execute(select(ApiKey.revoked_at)).scalar_one() is None
        assert db.session.execute(select(WebhookEndpoint.disabled_at)).scalar_one() is None
        assert db.session.execute(select(WebhookDelivery.outcome)).scalars().all() == ["delivered"]
