"""The directory counts each SCIM write keeps: after any sequence of creates, replaces, patches,
member changes and deletes, they equal a count of the rows."""
from dataclasses import asdict

from sqlalchemy import exists, func, select

from jericho.extensions import db
from jericho.storage.counts import CountChange, directory_counts_of
from jericho.storage.models import Group, Membership, Organization, User

PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def counted(organization: str) -> dict[str, int]:
    """The figures as counting every row gives them."""
    org = db.session.execute(select(Organization.id).where(Organization.name == organization)).scalar_one()

    def count(statement) -> int:
        return db.session.execute(statement).scalar_one()

    users = select(func.count()).select_from(User).where(User.organization_id == org)
    groups = select(func.count()).select_from(Group).where(Group.organization_id == org)
    return {
        "active_users": count(users.where(User.active.is_(True))),
        "deactivated_users": count(users.where(User.active.is_(False))),
        "groups": count(groups),
        "empty_groups": count(groups.where(~exists().where(Membership.group_pk == Group.pk))),
        "memberships": count(select(func.count()).select_from(Membership).join(Group, Group.pk == Membership.group_pk)
                             .where(Group.organization_id == org)),
    }


def kept(organization: str) -> dict[str, int]:
    org = db.session.execute(select(Organization.id).where(Organization.name == organization)).scalar_one()
    stored = directory_counts_of(organization_id=org)
    return {name: getattr(stored, name) for name in asdict(CountChange())}


def members(*ids: str) -> list[dict]:
    return [{"value": scim_id} for scim_id in ids]


def patch(scim, path: str, *operations: dict):
    response = scim.patch(path, json={"schemas": [PATCH_OP], "Operations": list(operations)})
    assert response.status_code in (200, 204), response.get_json()


def test_counts_follow_every_kind_of_write(app, scim, other_scim):
    ids = [scim.post("/Users", json={"userName": f"u{n}@contoso.com", "active": n != 3}).get_json()["id"]
           for n in range(5)]
    other_scim.post("/Users", json={"userName": "x@fabrikam.com"})  # another organization's
    finance = scim.post("/Groups", json={"displayName": "Finance", "members": members(*ids[:3])}).get_json()["id"]
    empty = scim.post("/Groups", json={"displayName": "Empty"}).get_json()["id"]
    nested = scim.post("/Groups", json={"displayName": "Nested", "members": members(finance)}).get_json()["id"]
    steps = [
        lambda: patch(scim, f"/Users/{ids[0]}", {"op": "Replace", "path": "active", "value": "False"}),
        lambda: patch(scim, f"/Users/{ids[3]}", {"op": "Replace", "path": "active", "value": True}),
        lambda: scim.put(f"/Users/{ids[1]}", json={"userName": "u1@contoso.com", "active": False}),
        lambda: patch(scim, f"/Users/{ids[1]}", {"op": "Replace", "path": "title", "value": "CFO"}),  # no count
        lambda: patch(scim, f"/Groups/{empty}", {"op": "Add", "path": "members", "value": members(ids[4], ids[0])}),
        lambda: patch(scim, f"/Groups/{empty}", {"op": "Add", "path": "members", "value": members(ids[4])}),  # again
        lambda: patch(scim, f"/Groups/{finance}", {"op": "Remove", "path": f'members[value eq "{ids[0]}"]'}),
        lambda: scim.put(f"/Groups/{finance}", json={"displayName": "Finance", "members": members(ids[2])}),
        lambda: patch(scim, f"/Groups/{nested}", {"op": "Remove", "path": "members"}),
        lambda: scim.delete(f"/Users/{ids[2]}"),  # Finance's only member: Finance is empty now
        lambda: scim.delete(f"/Users/{ids[4]}"),
        lambda: scim.delete(f"/Groups/{finance}"),
        lambda: scim.delete(f"/Groups/{empty}"),
        lambda: scim.delete(f"/Users/{ids[0]}"),
    ]
    with app.app_context():
        assert kept("Contoso") == counted("Contoso") == {
            "active_users": 4, "deactivated_users": 1, "groups": 3, "empty_groups": 2, "memberships": 3}
    for step in steps:
        step()
        with app.app_context():
            assert kept("Contoso") == counted("Contoso")
            assert kept("Fabrikam") == counted("Fabrikam")
    with app.app_context():
        assert kept("Contoso") == {"active_users": 1, "deactivated_users": 1, "groups": 1, "empty_groups": 1,
                                   "memberships": 0}


def test_a_refused_write_changes_no_count(app, scim):
    user = scim.post("/Users", json={"userName": "ava@contoso.com"}).get_json()["id"]
    assert scim.post("/Users", json={"userName": "AVA@contoso.com"}).status_code == 409
    group = scim.post("/Groups", json={"displayName": "Finance"}).get_json()["id"]
    response = scim.patch(f"/Groups/{group}", json={"schemas": [PATCH_OP], "Operations": [
        {"op": "Add", "path": "members", "value": members(user, "no-such-user")}]})
    assert response.status_code == 400
    with app.app_context():
        assert kept("Contoso") == counted("Contoso") == {
            "active_users": 1, "deactivated_users": 0, "groups": 1, "empty_groups": 1, "memberships": 0}
