"""Tenant isolation on every sync status page and export: Fabrikam's admin never sees Contoso's
users, groups, requests or errors, and Contoso's ids answer 404."""
import pytest

from jericho.extensions import db
from jericho.status import directory
from jericho.storage.models import ProvisioningEvent

from status_helpers import (  # noqa: F401 (fixtures)
    TEST_CONNECTION,
    admin,
    deactivate,
    other_admin,
    page_text,
    provision_group,
    provision_user,
    shown_id,
)

SECRET = "contoso-secret"


@pytest.fixture
def contoso(app, admin, scim):
    """Contoso's directory, its requests and errors; every value carries SECRET."""
    scim.get(TEST_CONNECTION)
    manager = provision_user(scim, f"boss.{SECRET}@contoso.com", displayName=f"Boss {SECRET}")
    ava = provision_user(scim, f"ava.{SECRET}@contoso.com", displayName=f"Ava {SECRET}",
                         **{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": manager["id"]}})
    gone = provision_user(scim, f"gone.{SECRET}@contoso.com")
    group = provision_group(scim, f"Finance {SECRET}", [ava["id"]])
    deactivate(scim, manager["id"])
    scim.delete(f"/Users/{gone['id']}")
    scim.post("/Users", json={"userName": f"AVA.{SECRET}@contoso.com"})
    with app.app_context():
        event_id = db.session.execute(db.select(db.func.max(ProvisioningEvent.id))).scalar_one()
    return {"user": ava["id"], "manager": manager["id"], "group": group["id"], "event": shown_id(app, event_id)}


def test_contoso_sees_its_own(admin, contoso):
    assert SECRET in page_text(admin.get("/status/users"))
    assert admin.get(f"/status/users/{contoso['user']}").status_code == 200
    assert admin.get(f"/status/log/{contoso['event']}").status_code == 200


@pytest.mark.parametrize("path", [
    "/status/", "/status/?range=7d", "/status/users", "/status/users?q=ava", "/status/users?state=deactivated",
    "/status/users?group_name=finance",
    "/status/users/deleted", "/status/groups", "/status/groups?q=finance", "/status/groups?empty=1",
    "/status/log", "/status/log?q=ava", "/status/log?outcome=failed", "/status/log/errors",
    f"/status/why?q=ava.{SECRET}@contoso.com", f"/status/why?q=gone.{SECRET}@contoso.com",
    "/status/export/users.csv", "/status/export/log.csv", "/status/export/users.csv?q=ava",
])
def test_another_organization_sees_nothing_of_it(other_admin, other_scim, contoso, path):
    provision_user(other_scim, "someone@fabrikam.com")
    response = other_admin.get(path)
    assert response.status_code == 200
    echoed = path.partition("q=")[2]  # the search typed is shown again, naturally
    body = response.get_data(as_text=True)
    assert SECRET not in (body.replace(echoed, "") if echoed else body)


def test_another_organizations_counts_and_state_are_its_own(other_admin, contoso):
    text = page_text(other_admin.get("/status/"))
    assert "Waiting for the first request" in text
    assert "Active users 0 Deactivated users 0 Deleted users (in the log) 0 Groups 0" in text


@pytest.mark.parametrize("path", [
    "/status/users/{user}", "/status/users/{manager}", "/status/groups/{group}", "/status/log/{event}",
    "/status/users?manager={manager}",
])
def test_another_organizations_ids_are_404(other_admin, contoso, path):
    assert other_admin.get(path.format(**contoso)).status_code == 404


@pytest.mark.parametrize("path", [
    "/status/users?group={group}", "/status/log?object={user}", "/status/export/users.csv?group={group}",
    "/status/export/log.csv?object={user}",
])
def test_another_organizations_ids_filter_nothing(other_admin, contoso, path):
    response = other_admin.get(path.format(**contoso))
    assert response.status_code == 200 and SECRET not in response.get_data(as_text=True)


def test_a_group_named_in_a_link_is_the_organizations_own(other_admin, contoso, monkeypatch):
    monkeypatch.setattr(directory, "GROUP_CHOICES", 0)  # the group filter as a name to type
    response = other_admin.get(f"/status/users?group={contoso['group']}")
    assert response.status_code == 200 and SECRET not in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/status/", "/status/users", "/status/users?state=deactivated"])
def test_pages_are_per_organization(admin, other_admin, other_scim, contoso, path):
    provision_user(other_scim, "someone@fabrikam.com")
    assert SECRET in admin.get(path).get_data(as_text=True)
    assert SECRET in admin.get(path).get_data(as_text=True)
    assert SECRET not in other_admin.get(path).get_data(as_text=True)
