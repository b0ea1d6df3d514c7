"""The setup guide (its last step and the summary) and the sync status dashboard grade the same
requests the same way: one severity model (providers/severity.py), rendered by both."""
import re

import pytest

from jericho.extensions import db
from jericho.storage import accounts
from jericho.storage.models import ProvisioningEvent, utcnow
from jericho.storage.rollups import rollups_count_log

from status_helpers import TEST_CONNECTION, admin, lookup, page_text, provision_group, provision_user, revoke_the_token  # noqa: F401 (fixtures)


def levels(client) -> dict[str, str]:
    """The level each page shows, as its data-severity says."""
    pages = {"step 8": client.get("/wizard/step/8").text, "summary": client.get("/wizard/summary").text,
             "dashboard": client.get("/status/").text}
    patterns = {"step 8": r'id="live"[^>]*data-severity="(\w+)"',
                "summary": r'class="sync-banner" data-severity="(\w+)"',
                "dashboard": r'id="sync-health"[^>]*data-severity="(\w+)"'}
    return {name: re.search(patterns[name], page).group(1) for name, page in pages.items()}


def running(scim, users: int = 3) -> list[dict]:
    scim.get(TEST_CONNECTION)
    created = [provision_user(scim, f"user{n}@contoso.com") for n in range(users)]
    provision_group(scim, "Finance", [user["id"] for user in created])
    return created


def answered(app, *statuses: int) -> None:
    """Requests about a user answered with `statuses`, as the provisioning log keeps them."""
    with app.app_context():
        organization = accounts.organization_by_name("Contoso")
        for status in statuses:
            db.session.add(ProvisioningEvent(
                occurred_at=utcnow(), organization_id=organization.id, method="PATCH", path="/scim_v2/Users/x",
                status=status, operation="update", resource_type="User", action="update user user0@contoso.com",
                error_detail="busy" if status in (429, 503) else "boom"))
        db.session.flush()
        rollups_count_log(db.session.connection())
        db.session.commit()


def test_one_duplicate_among_many_successes_is_amber_everywhere(admin, scim, clock):
    running(scim, users=47)
    assert scim.post("/Users", json={"userName": "USER0@contoso.com"}).status_code == 409
    assert levels(admin) == {"step 8": "amber", "summary": "amber", "dashboard": "amber"}
    step = page_text(admin.get("/wizard/step/8"))
    assert "Some users need you 1 of the last 50 requests failed." in step
    assert "The others arrive as usual. Entra retries them on later cycles." in step
    assert "Connected, some users need you" in page_text(admin.get("/status/"))


@pytest.mark.parametrize("statuses", [(500,), (502,)])
def test_an_error_in_this_server_is_red_everywhere(app, admin, scim, clock, statuses):
    running(scim)
    answered(app, *statuses)
    assert levels(admin) == {"step 8": "red", "summary": "red", "dashboard": "red"}


def test_busy_answers_are_neutral_everywhere(app, admin, scim, clock):
    running(scim)
    answered(app, 429, 503)
    assert levels(admin) == {"step 8": "neutral", "summary": "neutral", "dashboard": "neutral"}
    assert "will succeed when retried (this server asked to retry later)" in page_text(admin.get("/status/"))


def test_a_revoked_token_is_red_everywhere(app, admin, scim, clock):
    running(scim)
    revoke_the_token(app)
    assert lookup(scim, "user0@contoso.com").status_code == 401
    assert levels(admin) == {"step 8": "red", "summary": "red", "dashboard": "red"}


def test_entra_silent_for_two_cycles_is_red_everywhere(admin, scim, clock):
    running(scim)
    assert levels(admin) == {"step 8": "neutral", "summary": "neutral", "dashboard": "neutral"}
    clock.advance(minutes=80)
    assert levels(admin) == {"step 8": "red", "summary": "red", "dashboard": "red"}
    assert "Nothing has arrived from Entra since" in page_text(admin.get("/wizard/step/8"))
