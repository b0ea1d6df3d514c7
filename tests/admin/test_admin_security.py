"""A security review of the admin side, page by page from the app's URL map, so a page added
later is covered the day it appears: sign-in on every page, a CSRF token on every form, the
security headers on every HTML answer, directory values escaped everywhere, and another
organization's admin unable to see, count or infer anything of this organization's."""
from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

import pytest
from flask import url_for

from jericho.extensions import db
from jericho.storage.api_keys import api_key_create
from jericho.storage.consumer_models import WebhookDelivery
from jericho.storage.models import ProvisioningEvent, ScimToken, utcnow
from jericho.storage.webhooks import webhook_endpoint_create
from jericho.urls import API_PREFIX, SCIM_PREFIX

from conftest import PASSWORD
from status_helpers import deactivate, provision_group, provision_user, shown_id

ANONYMOUS = {"auth.sign_in", "auth.setup", "static"}  # and /scim_v2 and /api/v1, which have their bearer tokens
SECRET = "contoso-only"
HOSTILE = {
    "user": '"><script>alert(1)</script>@contoso.com',
    "name": "<img src=x onerror=alert(1)>",
    "group": "\"'><svg onload=alert(1)>",
    "department": "</textarea><iframe src=javascript:alert(1)>",
}
# What must never appear raw: the start of every injected element.
RAW_MARKUP = ("<script>alert", "<img src=x", "<svg onload", "<iframe src=javascript")
STEPS = range(1, 9)


def admin_rules(app):
    return [rule for rule in app.url_map.iter_rules()
            if rule.endpoint != "static" and not rule.rule.startswith((SCIM_PREFIX, API_PREFIX))]


def paths(app, ids: dict, methods=("GET",)) -> list[tuple[str, str, str]]:
    """(endpoint, method, path) for every admin route, its arguments filled from `ids` (a key
    "<endpoint>.<argument>" before a plain "<argument>"); every wizard step."""
    found = []
    with app.test_request_context():
        for rule in admin_rules(app):
            arguments = {name: ids.get(f"{rule.endpoint}.{name}", ids.get(name)) for name in rule.arguments}
            for number in STEPS if "number" in rule.arguments else [None]:
                if number is not None:
                    arguments["number"] = number
                for method in sorted(rule.methods & set(methods)):
                    found.append((rule.endpoint, method, url_for(rule.endpoint, **arguments)))
    return found


def sign_in(client, email: str = "it@contoso.com") -> None:
    """Through the form, with its CSRF token when the app wants one."""
    page = client.get("/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    data = {"email": email, "password": PASSWORD, **({"csrf_token": token[1]} if token else {})}
    assert client.post("/sign-in", data=data).status_code == 302


@pytest.fixture
def contoso(app, scim, auth, client):
    """Contoso's admin signed in, and a directory whose every value carries SECRET."""
    auth.create()
    sign_in(client)
    manager = provision_user(scim, f"boss.{SECRET}@contoso.com", displayName=f"Boss {SECRET}")
    user = provision_user(scim, f"ava.{SECRET}@contoso.com", displayName=f"Ava {SECRET}", title=SECRET,
                          **{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": manager["id"]}})
    group = provision_group(scim, f"Finance {SECRET}", [user["id"]])
    deactivate(scim, manager["id"])
    scim.post("/Users", json={"userName": f"AVA.{SECRET}@contoso.com"})  # a conflict, with its detail
    with app.app_context():
        event = db.session.execute(db.select(db.func.max(ProvisioningEvent.id))).scalar_one()
        prefix = db.session.execute(db.select(ScimToken.prefix)).scalar_one()
        organization_id = db.session.execute(db.select(ScimToken.organization_id)).scalar_one()
        key, _ = api_key_create(organization_id=organization_id, label=f"Training {SECRET} {HOSTILE['name']}")
        endpoint = webhook_endpoint_create(organization_id=organization_id, url=f"https://93.184.216.34/{SECRET}",
                                           events="user.*", secret_salt="0" * 32, now=utcnow())
        delivery = WebhookDelivery(endpoint_id=endpoint.id, event_seq=1, event_type="user.created", outcome="failed",
                                   status=500, error="answered 500", response_excerpt=f"{SECRET} {HOSTILE['user']}")
        db.session.add(delivery)
        db.session.commit()
        ids = {"key_prefix": key.prefix, "endpoint_ref": shown_id(app, endpoint.id),
               "delivery_ref": shown_id(app, delivery.id)}
    return {"scim_id": user["id"], "status.group.scim_id": group["id"], "event_ref": shown_id(app, event), "number": 1,
            "prefix": prefix, "action": "disable", **ids}


def test_every_admin_page_needs_sign_in(app, contoso):
    anonymous = app.test_client()
    for endpoint, method, path in paths(app, contoso, ("GET", "POST")):
        if endpoint in ANONYMOUS:
            continue
        response = anonymous.open(path, method=method)
        assert response.status_code in (302, 401, 403), (method, path, response.status_code)
        if response.status_code == 302:
            target = urlsplit(response.headers["Location"]).path
            assert target == url_for_sign_in(app) or (endpoint == "wizard.home" and target != path), (path, target)


def url_for_sign_in(app) -> str:
    with app.test_request_context():
        return url_for("auth.sign_in")


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_every_form_needs_its_csrf_token(app, contoso, client):
    for endpoint, method, path in paths(app, contoso, ("POST",)):
        response = client.post(path, data={"label": "forged", "email": "it@contoso.com", "password": PASSWORD})
        assert response.status_code == 400, (path, response.status_code)
    with app.app_context():
        assert db.session.execute(db.select(db.func.count()).select_from(ScimToken)).scalar_one() == 1
    for endpoint, method, path in paths(app, contoso):
        page = client.get(path).get_data(as_text=True)
        for form in re.findall(r"<form\b[^>]*>.*?</form>", page, flags=re.S | re.I):
            if re.search(r'method="post"', form, re.I):
                assert 'name="csrf_token"' in form, (path, form[:200])


def test_every_html_answer_carries_the_security_headers_and_no_inline_script(app, contoso, client):
    answers = [(path, client.get(path)) for _, _, path in paths(app, contoso)]
    answers += [("404", client.get("/no-such-page")), ("sign-in", app.test_client().get("/sign-in"))]
    bodies = [(path, response, response.get_data(as_text=True)) for path, response in answers]  # streams end
    html_answers = [(path, response, body) for path, response, body in bodies if response.mimetype == "text/html"]
    assert len(html_answers) > 15
    for path, response, body in html_answers:
        headers = response.headers
        policy = dict(part.strip().split(" ", 1) for part in headers["Content-Security-Policy"].split(";"))
        assert policy["script-src"] == "'self'" and policy["frame-ancestors"] == "'none'", path
        assert policy["object-src"] == "'none'" and "unsafe" not in headers["Content-Security-Policy"], path
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["Referrer-Policy"] in ("same-origin", "no-referrer", "strict-origin-when-cross-origin"), path
        assert headers["Cache-Control"] == "no-store", path
        # The policy would block these; a page that needs them is broken, not merely unsafe.
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body, re.I), path
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", body, re.I), path
        assert not re.search(r"href\s*=\s*[\"']?\s*javascript:", body, re.I), path


def test_directory_values_are_escaped_on_every_page(app, scim, contoso, client):
    user = provision_user(scim, HOSTILE["user"], displayName=HOSTILE["name"], title=HOSTILE["name"],
                          **{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":
                             {"department": HOSTILE["department"]}})
    group = provision_group(scim, HOSTILE["group"], [user["id"]])
    scim.post("/Users", json={"userName": HOSTILE["user"]})  # 409: the error detail echoes it
    scim.get("/Users?filter=" + quote(f'userName eq "{HOSTILE["name"]}"'))
    with app.app_context():
        event = db.session.execute(db.select(db.func.max(ProvisioningEvent.id))).scalar_one()
    ids = {**contoso, "scim_id": user["id"], "status.group.scim_id": group["id"], "event_ref": shown_id(app, event)}
    searches = [f"/status/why?q={quote(value)}" for value in HOSTILE.values()]
    searches += [f"/status/users?q={quote(HOSTILE['name'])}", f"/status/log?q={quote(HOSTILE['user'])}"]
    seen = 0
    for path in [path for _, _, path in paths(app, ids)] + searches:
        response = client.get(path)
        body = response.get_data(as_text=True)
        if response.mimetype == "text/html":
            for markup in RAW_MARKUP:
                assert markup not in body, (path, markup)
            seen += any("&lt;" + markup[1:] in body for markup in RAW_MARKUP)
    assert seen >= 5  # the values were on the pages, escaped


def normalised(body: str) -> str:
    """A page without what changes between two renderings anyway: times and request ids."""
    body = re.sub(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z?", "<time>", body)
    body = re.sub(r"\b\d{1,2}:\d{2}(:\d{2})?\b", "<time>", body)
    return re.sub(r'name="csrf_token"[^>]*>', "", body)


def test_another_organizations_admin_sees_counts_and_infers_nothing(app, scim, contoso, other_scim, auth, client):
    fabrikam = app.test_client()
    auth.create(email="it@fabrikam.com", organization="Fabrikam")
    sign_in(fabrikam, "it@fabrikam.com")
    provision_user(other_scim, "someone@fabrikam.com")
    with app.app_context():
        own = db.session.execute(
            db.select(ScimToken.prefix).where(ScimToken.prefix != contoso["prefix"])).scalar_one()
    own_ids = {"scim_id": "0" * 36, "status.group.scim_id": "0" * 36, "event_ref": shown_id(app, 1), "number": 1, "prefix": own,
               "key_prefix": "00000000", "endpoint_ref": shown_id(app, 999), "delivery_ref": shown_id(app, 999),
               "action": "disable"}
    before = {path: normalised(fabrikam.get(path).get_data(as_text=True)) for _, _, path in paths(app, own_ids)}

    # Contoso keeps working: more users, a failure, a second token, an admin sign-in.
    for number in range(3):
        provision_user(scim, f"more{number}.{SECRET}@contoso.com")
    scim.post("/Users", json={"userName": f"more0.{SECRET}@contoso.com"})
    client.post("/tokens", data={"label": SECRET})
    sign_in(app.test_client())

    for _, _, path in paths(app, own_ids):
        body = fabrikam.get(path).get_data(as_text=True)
        assert SECRET not in body, path
        assert normalised(body) == before[path], path
    # Contoso's ids and token are not there for Fabrikam, whatever the page.
    for endpoint, method, path in paths(app, contoso, ("GET", "POST")):
        if any(str(contoso[key]) in path for key in ("scim_id", "status.group.scim_id", "event_ref", "prefix")) or (
                path.startswith(("/api/keys/", "/api/webhooks/"))):  # a key's or an endpoint's own pages
            response = fabrikam.open(path, method=method)
            assert response.status_code == 404, (method, path, response.status_code)
            assert SECRET not in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(db.select(ScimToken.revoked_at).where(
            ScimToken.prefix == contoso["prefix"])).scalar_one() is None
