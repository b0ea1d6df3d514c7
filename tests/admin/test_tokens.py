"""The tokens page: listing, which token Entra uses, a second token for rotation, revocation that
takes effect at once, the admin audit log, and one organization never touching another's."""
from __future__ import annotations

import html
import re

import pytest

from jericho.extensions import db
from jericho.storage.models import AdminAuditEvent, ScimToken

from conftest import ScimClient, new_token

GUID_FILTER = "/Users?filter=userName+eq+%227d420df3-9995-4831-a406-ecf8166f5f6a%22"


@pytest.fixture
def admin(auth):
    auth.create()
    auth.sign_in()
    return auth


def prefix_of(secret: str) -> str:
    return secret.split("_")[1]


def created_secret(page: str) -> str:
    return re.search(r'id="secret-token">([^<]+)</code>', page).group(1)


def audit_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.execute(
            db.select(AdminAuditEvent.action).order_by(AdminAuditEvent.id)
        ).scalars())


@pytest.mark.parametrize("path", ["/tokens", "/tokens/abcd1234/revoke"])
def test_token_pages_need_sign_in(client, auth, path):
    auth.create()
    assert client.get(path).location.startswith("/sign-in?next=")
    assert client.post(path).location.startswith("/sign-in?next=")


def test_tokens_are_listed_by_prefix_never_by_secret(app, client, admin):
    secret = new_token(app, label="Entra production")
    page = client.get("/tokens").text
    assert f"jer_{prefix_of(secret)}_…" in page
    assert "Entra production" in page and "Active" in page
    assert secret not in page
    with app.app_context():
        assert db.session.execute(db.select(ScimToken.secret_hash)).scalar() not in page
    assert "No request from Entra has arrived" in page


def test_the_page_shows_which_token_entra_uses(app, client, admin):
    first = ScimClient(app.test_client(), new_token(app, label="old"))
    second = ScimClient(app.test_client(), new_token(app, label="new"))
    first.get(GUID_FILTER)
    page = client.get("/tokens").text
    assert f"Entra is using token {prefix_of(first.token)}" in re.sub(r"<[^>]+>", "", page)
    second.get(GUID_FILTER)
    page = client.get("/tokens").text
    assert f"Entra is using token {prefix_of(second.token)}" in re.sub(r"<[^>]+>", "", page)
    row = re.search(rf"<tr>\s*<td><code>jer_{prefix_of(second.token)}_…</code>(.*?)</tr>", page, re.S).group(1)
    assert "In use by Entra" in row
    assert re.search(r"<time datetime=", row)  # last used


def test_a_second_token_for_rotation_is_shown_once(app, client, admin):
    old = new_token(app, label="old")
    created = client.post("/tokens", data={"label": "rotation 2026"})
    assert (created.status_code, created.location) == (302, "/tokens")  # Reload never posts again
    response = client.get("/tokens")
    assert response.headers["Cache-Control"] == "no-store"
    secret = created_secret(response.text)
    assert "shown only this once" in response.text
    with app.app_context():
        tokens = {t.label: t for t in db.session.execute(db.select(ScimToken)).scalars()}
    assert tokens["old"].is_active and tokens["rotation 2026"].is_active  # no downtime
    assert secret.startswith(f"jer_{tokens['rotation 2026'].prefix}_")
    assert secret not in client.get("/tokens").text
    assert old not in response.text
    assert audit_actions(app)[-1] == f"created token {tokens['rotation 2026'].prefix} “rotation 2026”"


def test_a_too_long_label_is_refused(app, client, admin):
    response = client.post("/tokens", data={"label": "x" * 201})
    assert "Field cannot be longer than 200 characters" in response.text
    assert "secret-token" not in response.text
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(ScimToken.id))).scalar() == 0


def test_rotation_without_downtime(app, client, admin):
    entra = ScimClient(app.test_client(), new_token(app, label="old"))
    assert entra.get(GUID_FILTER).status_code == 200
    old_secret, old_prefix = entra.token, prefix_of(entra.token)

    entra.token = created_secret(client.post("/tokens", data={"label": "new"}, follow_redirects=True).text)
    assert entra.get(GUID_FILTER).status_code == 200  # Entra now sends the new token
    assert f"Entra is using token {prefix_of(entra.token)}" in re.sub(r"<[^>]+>", "", client.get("/tokens").text)

    confirm = client.get(f"/tokens/{old_prefix}/revoke").text
    assert "Entra is using this token" not in confirm
    response = client.post(f"/tokens/{old_prefix}/revoke")
    assert response.location == "/tokens"
    assert f"Token {old_prefix} is revoked" in client.get("/tokens").text
    assert entra.get(GUID_FILTER).status_code == 200
    assert ScimClient(app.test_client(), old_secret).get(GUID_FILTER).status_code == 401
    assert audit_actions(app)[-1] == f"revoked token {old_prefix}"


def test_revoking_the_token_in_use_warns_first_and_stops_it_at_once(app, client, admin):
    entra = ScimClient(app.test_client(), new_token(app))
    entra.get(GUID_FILTER)
    prefix = prefix_of(entra.token)
    confirm = client.get(f"/tokens/{prefix}/revoke").text
    assert "Entra is using this token" in confirm
    assert "provisioning stops" in confirm
    client.post(f"/tokens/{prefix}/revoke")
    assert entra.get(GUID_FILTER).status_code == 401
    page = client.get("/tokens").text
    assert "used the revoked token" in page
    assert "Revoked" in page


def test_revoking_twice_changes_nothing(app, client, admin):
    prefix = prefix_of(new_token(app))
    client.post(f"/tokens/{prefix}/revoke")
    client.post(f"/tokens/{prefix}/revoke")
    assert audit_actions(app).count(f"revoked token {prefix}") == 1
    assert "It is already revoked." in client.get(f"/tokens/{prefix}/revoke").text


def test_an_admin_cannot_see_or_revoke_another_organizations_tokens(app, client, admin, other_scim):
    other_scim.get(GUID_FILTER)
    other_prefix = prefix_of(other_scim.token)
    own = new_token(app, label="ours")

    page = client.get("/tokens").text
    assert other_prefix not in page and "Fabrikam" not in page
    assert prefix_of(own) in page
    assert client.get(f"/tokens/{other_prefix}/revoke").status_code == 404
    assert client.post(f"/tokens/{other_prefix}/revoke").status_code == 404
    assert other_scim.get(GUID_FILTER).status_code == 200


def test_the_audit_log_shows_this_organizations_sign_ins_and_token_changes(app, client, auth):
    auth.create()
    auth.create(email="it@fabrikam.com", organization="Fabrikam")
    other = app.test_client()
    auth.sign_in(email="it@fabrikam.com", client=other)
    other.post("/tokens", data={"label": "fabrikam's"})

    auth.sign_in(password="wrong password here")
    client.post("/sign-in", data={"email": "it@contoso.com", "password": "correct horse battery staple"},
                environ_base={"REMOTE_ADDR": "203.0.113.5"})
    created = created_secret(client.post("/tokens", data={"label": "Entra"}, follow_redirects=True).text)
    client.post(f"/tokens/{prefix_of(created)}/revoke")

    page = client.get("/tokens").text
    audit = page[page.index('id="audit-heading"'):]
    rows = re.findall(r"<tr><td>.*?</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", audit)
    assert [(who, what) for who, what, _ in rows] == [
        ("it@contoso.com", f"revoked token {prefix_of(created)}"),
        ("it@contoso.com", f"created token {prefix_of(created)} “Entra”"),
        ("it@contoso.com", "signed in"),
        ("it@contoso.com", "failed sign-in (wrong password)"),
    ]
    assert rows[2][2] == "203.0.113.5"
    assert "fabrikam" not in audit.lower()


@pytest.mark.parametrize("provider, field, paste", [
    ("Entra", "Secret Token", "In Entra, open the app's Provisioning page, paste it into Secret Token"),
    ("Okta", "Authorization", "In Okta, open the app's Provisioning > Integration, click Edit, paste it as the "
                              "Authorization token"),
])
def test_the_tokens_pages_name_the_organizations_provider(app, client, admin, provider, field, paste):
    """Okta's requests make the organization Okta's: the pages then speak of Okta and its field."""
    scim = ScimClient(app.test_client(), new_token(app, label="first"))
    headers = {"User-Agent": "Okta SCIM Client 1.0.0"} if provider == "Okta" else {}
    assert scim.get("/Users?startIndex=1&count=2", headers=headers).status_code == 200
    page = client.get("/tokens").text
    text = html.unescape(" ".join(re.sub(r"<[^>]+>", "", page).split()))
    other = "Entra" if provider == "Okta" else "Okta"
    assert f"{provider} sends one of these with every request, from its {field} field." in text
    assert f"{provider} is using token {prefix_of(scim.token)}" in text and f"In use by {provider}" in text
    assert paste in text and other not in text
    assert f'name="label" type="text" value="{provider}"' in page  # the next token's label
    confirm = " ".join(re.sub(r"<[^>]+>", "", client.get(f"/tokens/{prefix_of(scim.token)}/revoke").text).split())
    assert f"{provider} is using this token" in confirm and other not in confirm
