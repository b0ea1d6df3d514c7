"""The provisioning log: every request in words, its filters and search, keyset pagination,
a request's detail with its SCIM error, and errors grouped by cause with their fix."""
import re
from datetime import timedelta

import pytest

from jericho.extensions import db
from jericho.status import log_queries
from jericho.storage.models import ProvisioningEvent

from status_helpers import (  # noqa: F401 (fixtures)
    TEST_CONNECTION,
    admin,
    age_log,
    deactivate,
    lookup,
    page_html,
    page_text,
    provision_group,
    provision_user,
    shown_id,
)


def actions(response) -> list[str]:
    assert response.status_code == 200
    return re.findall(r'<td><a href="/status/log/[0-9a-f]{16}">([^<]+)</a>', page_html(response))


def event_ids(app) -> list[str]:
    """The requests' ids as admins see them, oldest first."""
    with app.app_context():
        ids = db.session.execute(db.select(ProvisioningEvent.id).order_by(ProvisioningEvent.id)).scalars()
        return [shown_id(app, event_id) for event_id in ids]


@pytest.fixture
def traffic(scim):
    scim.get(TEST_CONNECTION)
    ava = provision_user(scim, "ava@contoso.com")
    group = provision_group(scim, "Finance", [ava["id"]])
    scim.post("/Users", json={"userName": "AVA@contoso.com"})  # 409
    deactivate(scim, ava["id"])
    scim.get("/Users/00000000-0000-0000-0000-000000000000")  # 404
    return {"ava": ava, "group": group}


def test_every_request_in_words_newest_first(admin, traffic):
    response = admin.get("/status/log")
    assert actions(response) == [
        "read user 00000000-0000-0000-0000-000000000000",
        "disable user ava@contoso.com",
        "create user AVA@contoso.com",
        "add 1 member to Finance",
        "create group Finance",
        "look up group Finance",
        "create user ava@contoso.com",
        "look up user ava@contoso.com",
        "Test Connection: lookup of a random GUID",
    ]
    text = page_text(response)
    assert re.search(r"create user AVA@contoso.com Create User Failed 409 a user with userName "
                     r"'AVA@contoso.com' already exists \d+ ms", text)
    assert re.search(r"disable user ava@contoso.com Deactivate ava@contoso.com Succeeded 200 \d+ ms", text)
    assert re.search(r"add 1 member to Finance Change members Group Finance Succeeded 204", text)


@pytest.mark.parametrize("args, expected", [
    ({"outcome": "failed"}, ["read user 00000000-0000-0000-0000-000000000000", "create user AVA@contoso.com"]),
    ({"outcome": "succeeded", "operation": "create"}, ["create group Finance", "create user ava@contoso.com"]),
    ({"operation": "test_connection"}, ["Test Connection: lookup of a random GUID"]),
    ({"type": "Group"}, ["add 1 member to Finance", "create group Finance", "look up group Finance"]),
    ({"q": "FINANCE"}, ["add 1 member to Finance", "create group Finance", "look up group Finance"]),
    ({"q": "already exists"}, ["create user AVA@contoso.com"]),  # the error's words
    ({"q": "100%"}, []),
    ({"cause": "user_conflict"}, ["create user AVA@contoso.com"]),
    ({"cause": "unknown_object"}, ["read user 00000000-0000-0000-0000-000000000000"]),
    ({"operation": "nonsense", "outcome": "nonsense", "type": "nonsense", "cause": "nonsense"}, None),
])
def test_filters(admin, traffic, args, expected):
    if expected is None:  # unknown values are ignored
        expected = actions(admin.get("/status/log"))
    assert actions(admin.get("/status/log", query_string=args)) == expected


def test_requests_about_one_object(admin, traffic):
    response = admin.get(f"/status/log?object={traffic['ava']['id']}")
    assert actions(response) == ["disable user ava@contoso.com", "create user ava@contoso.com"]
    assert f"Only requests about {traffic['ava']['id']}" in page_text(response)
    assert actions(admin.get(f"/status/log?q={traffic['ava']['id']}")) == actions(response)


def test_date_range(app, admin, scim, clock):
    scim.get(TEST_CONNECTION)
    age_log(app, timedelta(days=2))
    lookup(scim, "ava@contoso.com")
    today = clock.now
    yesterday = today - timedelta(days=1)
    earlier = today - timedelta(days=2)
    assert actions(admin.get(f"/status/log?from={today:%Y-%m-%d}")) == ["look up user ava@contoso.com"]
    assert actions(admin.get(f"/status/log?to={yesterday:%Y-%m-%d}")) == ["Test Connection: lookup of a random GUID"]
    assert actions(admin.get(f"/status/log?from={earlier:%Y-%m-%d}&to={earlier:%Y-%m-%d}")) == [
        "Test Connection: lookup of a random GUID"]
    minute = f"{today:%Y-%m-%dT%H:%M}"  # a minute given as the end includes the whole minute
    assert actions(admin.get(f"/status/log?from={minute}&to={minute}")) == ["look up user ava@contoso.com"]
    bad = admin.get("/status/log?from=yesterday")
    assert "“yesterday” is not a date" in page_text(bad) and len(actions(bad)) == 2


def test_keyset_pagination_newer_and_older(admin, scim, monkeypatch):
    monkeypatch.setattr(log_queries, "PAGE_SIZE", 2)
    for number in range(5):
        lookup(scim, f"u{number}@contoso.com")
    first = admin.get("/status/log")
    assert actions(first) == ["look up user u4@contoso.com", "look up user u3@contoso.com"]
    html = first.get_data(as_text=True)
    assert "← Newer" not in html
    older = re.search(r'href="(/status/log\?before=[^"]+)"', html).group(1).replace("&amp;", "&")
    second = admin.get(older)
    assert actions(second) == ["look up user u2@contoso.com", "look up user u1@contoso.com"]
    html = second.get_data(as_text=True)
    newer = re.search(r'href="(/status/log\?after=[^"]+)"', html).group(1).replace("&amp;", "&")
    assert actions(admin.get(newer)) == ["look up user u4@contoso.com", "look up user u3@contoso.com"]
    older = re.search(r'href="(/status/log\?before=[^"]+)"', html).group(1).replace("&amp;", "&")
    last = admin.get(older)
    assert actions(last) == ["look up user u0@contoso.com"] and "Older →" not in last.get_data(as_text=True)
    assert actions(admin.get("/status/log?before=garbage")) == actions(first)


def test_a_newer_page_past_the_newest_request_is_empty(app, admin, scim):
    lookup(scim, "ava@contoso.com")
    response = admin.get(f"/status/log?after=9999-12-31T23:59:59.999999~{shown_id(app, 1)}")
    assert actions(response) == [] and "No request." in page_text(response)


def test_pagination_keeps_the_filters(admin, scim, monkeypatch):
    monkeypatch.setattr(log_queries, "PAGE_SIZE", 1)
    for number in range(3):
        lookup(scim, f"u{number}@contoso.com")
        scim.get(TEST_CONNECTION)
    html = admin.get("/status/log?operation=lookup").get_data(as_text=True)
    older = re.search(r'href="(/status/log\?before=[^"]+)"', html).group(1).replace("&amp;", "&")
    assert "operation=lookup" in older
    assert actions(admin.get(older)) == ["look up user u1@contoso.com"]


def test_a_requests_detail_with_its_scim_error(app, admin, traffic):
    failed = event_ids(app)[6]
    response = admin.get(f"/status/log/{failed}")
    text = page_text(response)
    assert "create user AVA@contoso.com Failed HTTP 409" in text
    assert "A user with the same userName is already here." in text
    assert "Request POST /scim_v2/Users" in text and "scimType uniqueness" in text
    assert '"detail": "a user with userName \'AVA@contoso.com\' already exists"' in text
    assert '"status": "409"' in text
    assert re.search(r"Token \w+", text)
    ok = page_text(admin.get(f"/status/log/{event_ids(app)[0]}"))
    assert "Test Connection: lookup of a random GUID Succeeded HTTP 200" in ok and "The SCIM error" not in ok
    assert "Request GET /scim_v2/Users?filter=userName+eq+%227d420df3" in ok


def test_a_request_about_an_object_links_to_it(app, admin, traffic):
    text = page_text(admin.get(f"/status/log/{event_ids(app)[2]}"))
    assert f"Object ava@contoso.com {traffic['ava']['id']} · every request about it" in text


def test_unknown_request_is_404(admin, traffic):
    assert admin.get("/status/log/999999").status_code == 404


def test_errors_grouped_by_cause_with_the_fix(admin, scim, traffic):
    scim.post("/Users", json={"userName": "AVA@contoso.com"})
    scim.delete("/Users/00000000-0000-0000-0000-000000000000")
    response = admin.get("/status/log/errors")
    text = page_text(response)
    causes = re.findall(r"<td><strong>([^<]+)</strong>", response.get_data(as_text=True))
    assert causes == ["A user with the same userName is already here",
                      "Entra refers to a user or group that is no longer here", "Deleted already"]
    assert re.search(r"A user with the same userName is already here Two users in Entra .*? 2 \S+ UTC \S+ UTC "
                     r"Latest example All 2", text)
    assert "Restart provisioning" in text
    html = response.get_data(as_text=True)
    assert 'href="/status/log?cause=user_conflict&amp;outcome=failed"' in html
    assert actions(admin.get("/status/log/errors?type=Group")) == []
    assert "No failed request matches these filters." in page_text(admin.get("/status/log/errors?type=Group"))


def test_an_empty_log(admin):
    assert "No request." in page_text(admin.get("/status/log"))
    assert "No failed request." in page_text(admin.get("/status/log/errors"))


def test_a_text_search_looks_through_the_latest_requests(admin, scim, clock, monkeypatch):
    monkeypatch.setattr(log_queries, "SEARCH_LIMIT", 2)
    for number in range(4):
        clock.advance(seconds=1)
        lookup(scim, f"u{number}@contoso.com")
    response = admin.get("/status/log?q=contoso")
    assert actions(response) == ["look up user u3@contoso.com", "look up user u2@contoso.com"]
    assert "The search looked through the latest 2 requests" in page_text(response)
    since = admin.get(f"/status/log?q=contoso&from={clock.now:%Y-%m-%d}")
    assert len(actions(since)) == 4 and "looked through" not in page_text(since)


@pytest.mark.parametrize("path, status", [
    ("/status/log/99999999999999999999999", 404),
    ("/status/log?before=2026-01-01T00:00:00.000000~99999999999999999999", 200),
    ("/status/log?after=not-a-cursor", 200),
    ("/status/log?after=0001-01-01T00:00:00.000000~1", 200),
    ("/status/log?to=9999-12-31", 200),
    ("/status/log?from=0001-01-01&to=9999-12-31T23:59", 200),
    ("/status/users?page=99999999999999999999999", 200),
    ("/status/groups?page=-3", 200),
    ("/status/users/deleted?page=1e9", 200),
    (f"/status/groups/{'x' * 5000}", 404),
    ("/status/export/log.csv?from=9999-12-31", 200),
])
def test_hostile_numbers_and_dates_are_answered_not_crashed(admin, traffic, path, status):
    response = admin.get(path)
    assert response.status_code == status
    response.get_data()


def test_the_end_of_time_is_not_a_date(admin, traffic):
    assert "“9999-12-31” is not a date" in page_text(admin.get("/status/log?to=9999-12-31"))


def test_the_ids_an_admin_sees_tell_nothing_of_other_organizations(app, admin, scim, other_scim):
    """The log's ids count every organization's requests: shown as they are, an admin could watch
    them jump to count another organization's traffic. Links, cursors and the CSV export carry
    them only through a keyed permutation."""
    for number in range(3):
        lookup(scim, f"u{number}@contoso.com")
        other_scim.get("/Users")  # Fabrikam's traffic between Contoso's requests
    with app.app_context():
        own = list(db.session.execute(db.select(ProvisioningEvent.id).where(
            ProvisioningEvent.organization_id == 1).order_by(ProvisioningEvent.id)).scalars())
    html = page_html(admin.get("/status/log"))
    shown = re.findall(r'href="/status/log/([0-9a-f]{16})"', html)
    assert sorted(shown) == sorted(shown_id(app, event_id) for event_id in own)
    assert not any(str(event_id) in shown for event_id in own)
    export = admin.get("/status/export/log.csv").get_data(as_text=True)
    assert all(shown_id(app, event_id) in export for event_id in own)
    assert not re.search(r",(2|4|6)\r?$", export, flags=re.M)  # no raw id in the id column
    assert admin.get(f"/status/log/{own[0]}").status_code == 404  # a raw id names nothing
