"""Hostile input under /scim_v2: whatever arrives, the answer is never a 500 but a SCIM error
(RFC 7644 §3.12) with the right status, and nothing is stored from a refused request. The limits
are configured low here, so exceeding them is cheap."""
from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from sqlalchemy import select

from jericho.extensions import db
from jericho.scim.errors import ERROR_URN
from jericho.storage.models import ProvisioningEvent

MAX_BODY = 64 * 1024
MAX_FILTER = 512
MAX_MEMBERS = 20
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


@pytest.fixture
def app_config():
    return {"MAX_CONTENT_LENGTH": MAX_BODY, "SCIM_MAX_FILTER_LENGTH": MAX_FILTER,
            "SCIM_MAX_MEMBERS_PER_REQUEST": MAX_MEMBERS}


@pytest.fixture
def user(scim) -> dict:
    return scim.post("/Users", json={"userName": "ava@contoso.com", "title": "Analyst"}).json


@pytest.fixture
def group(scim, user) -> dict:
    return scim.post("/Groups", json={"displayName": "Finance", "members": [{"value": user["id"]}]}).json


def assert_scim_error(response, status: int, *scim_types: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/scim+json"
    body = response.json
    assert body["schemas"] == [ERROR_URN] and body["status"] == str(status)
    if scim_types:
        assert body.get("scimType") in scim_types
    assert "Traceback" not in body["detail"]


def raw(scim, method: str, path: str, data: bytes, content_type: str = "application/scim+json"):
    return scim.request(method, path, data=data, content_type=content_type)


def assert_unchanged(scim, resource: dict) -> None:
    stored = scim.get(f"/{resource['meta']['resourceType']}s/{resource['id']}")
    assert stored.status_code == 200 and stored.json["meta"]["version"] == resource["meta"]["version"]


def user_count(scim) -> int:
    return scim.get("/Users?count=0").json["totalResults"]


# -- malformed JSON, wrong shapes and types ----------------------------------------------------


def nested(depth: int) -> list:
    value: list = ["x"]
    for _ in range(depth):
        value = [value]
    return value


MALFORMED = [
    b"", b"{", b"{bad", b'{"userName": "a",}', b"{'userName': 'a'}", b'{"userName": "a"} {}',
    b"\xff\xfe{\x00}", b'{"userName": "\xff\xfe"}', b"NaN", b"[" * 20_000 + b"]" * 20_000,
    b'{"userName": "deep", "name": ' + b'{"a": ' * 5_000 + b"1" + b"}" * 5_001,
]


@pytest.mark.parametrize(("method", "path"), [("POST", "/Users"), ("POST", "/Groups"), ("POST", "/.search"),
                                              ("PUT", "/Users/{user}"), ("PATCH", "/Users/{user}"),
                                              ("PATCH", "/Groups/{group}")])
def test_malformed_json_is_400_invalid_syntax(scim, user, group, method, path):
    for data in MALFORMED:
        response = raw(scim, method, path.format(user=user["id"], group=group["id"]), data)
        assert_scim_error(response, 400, "invalidSyntax")
    assert_unchanged(scim, user)
    assert_unchanged(scim, group)


WRONG_USERS = [
    [], None, "ava", 5, True, {}, {"userName": None}, {"userName": 5}, {"userName": ["a"]},
    {"userName": {"value": "a"}}, {"userName": ""},
    {"userName": "x", "emails": "x@contoso.com"}, {"userName": "x", "emails": [1, 2]},
    {"userName": "x", "emails": [{"value": ["x"]}]}, {"userName": "x", "emails": [{"value": {"a": 1}}]},
    {"userName": "x", "active": "maybe"}, {"userName": "x", "active": [True]}, {"userName": "x", "name": "x"},
    {"userName": "x", "name": {"givenName": {"a": [1]}}}, {"userName": "x", "title": 1e308 * 10},
    {"userName": "x", ENTERPRISE: "x"}, {"userName": "x", ENTERPRISE: {"manager": 5}},
    {"userName": "x", ENTERPRISE: {"manager": {"value": ["x"]}}},
    {"userName": "x", "name": {"givenName": nested(30)}},
]


def test_users_of_the_wrong_shape_are_400(scim):
    for body in WRONG_USERS:
        assert_scim_error(raw(scim, "POST", "/Users", json.dumps(body).encode()), 400,
                          "invalidSyntax", "invalidValue", "mutability")
    assert user_count(scim) == 0


WRONG_GROUPS = [
    {"displayName": None}, {"displayName": 5}, {"displayName": "G", "members": "x"},
    {"displayName": "G", "members": [1]}, {"displayName": "G", "members": [{"value": 1}]},
    {"displayName": "G", "members": [{"value": None}]}, {"displayName": "G", "members": [{}]},
    {"displayName": "G", "members": [{"value": "no-such-user"}]}, {"displayName": "G", "members": {"value": "x"}},
]


def test_groups_of_the_wrong_shape_are_400(scim):
    for body in WRONG_GROUPS:
        assert_scim_error(scim.post("/Groups", json=body), 400, "invalidSyntax", "invalidValue", "mutability")
    assert scim.get("/Groups").json["totalResults"] == 0


WRONG_PATCHES = [
    {}, {"Operations": "x"}, {"Operations": []}, {"Operations": [5]}, {"Operations": [{}]},
    {"Operations": [{"op": 5}]}, {"Operations": [{"op": "delete", "path": "title"}]},
    {"Operations": [{"op": "add", "path": 5, "value": 1}]},
    {"Operations": [{"op": "replace", "path": "title"}]},
    {"Operations": [{"op": "remove"}]},
    {"Operations": [{"op": "replace", "value": "not an object"}]},
    {"Operations": [{"op": "replace", "path": "userName", "value": None}]},
    {"Operations": [{"op": "replace", "path": "userName", "value": ["a", "b"]}]},
    {"Operations": [{"op": "replace", "path": "active", "value": {"a": 1}}]},
    {"Operations": [{"op": "replace", "path": "emails[type eq ", "value": "x"}]},
    {"Operations": [{"op": "replace", "path": "emails[" * 200, "value": "x"}]},
    {"Operations": [{"op": "replace", "path": "title", "value": "ok"}, {"op": "add", "path": "userName", "value": 5}]},
    {"schemas": ["urn:unknown:message"], "Operations": [{"op": "replace", "path": "title", "value": "ok"}]},
]


def test_patches_of_the_wrong_shape_are_400_and_apply_nothing(scim, user):
    for body in WRONG_PATCHES:
        response = scim.patch(f"/Users/{user['id']}", json=body)
        assert_scim_error(response, 400, "invalidSyntax", "invalidValue", "invalidPath", "invalidFilter",
                          "noTarget", "mutability")
    assert_unchanged(scim, user)


def test_member_patches_of_the_wrong_shape_are_400_and_apply_nothing(scim, group):
    for value in [5, "x", [5], [[1]], {"value": 5}, [{"value": ["x"]}], [{"value": "no-such-user"}]]:
        body = {"Operations": [{"op": "replace", "path": "displayName", "value": "Renamed"},
                               {"op": "add", "path": "members", "value": value}]}
        assert_scim_error(scim.patch(f"/Groups/{group['id']}", json=body), 400, "invalidValue", "invalidSyntax")
    assert_unchanged(scim, group)


def test_unknown_schemas_and_attributes_are_kept_as_sent(scim):
    # ENTRA.md §3.7: Entra may send schema URIs this server does not know.
    body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:example:unknown:2.0:User"],
            "userName": "ava@contoso.com", "urn:example:unknown:2.0:User": {"x": [[{"y": 1}]]}, "unknown": {"a": 1}}
    created = scim.post("/Users", json=body)
    assert created.status_code == 201
    assert created.json["urn:example:unknown:2.0:User"] == {"x": [[{"y": 1}]]} and created.json["unknown"] == {"a": 1}
    assert scim.get(f"/Users/{created.json['id']}").json == created.json


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-1e999", "[" * 11 + "1" + "]" * 11])
def test_values_outside_the_schema_that_no_database_could_keep_are_400(scim, value):
    response = raw(scim, "POST", "/Users", f'{{"userName": "ava@contoso.com", "unknown": {value}}}'.encode())
    assert_scim_error(response, 400, "invalidValue", "invalidSyntax")
    assert user_count(scim) == 0


def test_unknown_endpoints_are_404_and_wrong_methods_405(scim):
    for path in ["/Schemas/urn:example:unknown", "/ResourceTypes/Unknown", "/Nope", "/Users/a/b", "/Users/.search/x"]:
        assert_scim_error(scim.get(path), 404)
    for method, path in [("PUT", "/Users"), ("DELETE", "/Groups"), ("PATCH", "/Schemas"),
                         ("POST", "/ServiceProviderConfig")]:
        response = scim.request(method, path)
        assert_scim_error(response, 405)
        assert response.headers["Allow"]


def test_other_media_types_are_415(scim):
    for content_type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                         "application/xml"]:
        assert_scim_error(raw(scim, "POST", "/Users", b'{"userName": "a"}', content_type), 415)
    assert user_count(scim) == 0


# -- sizes beyond the configured limits ----------------------------------------------------------


def test_a_body_over_the_limit_is_413(scim):
    body = json.dumps({"userName": "big@contoso.com", "title": "x" * MAX_BODY}).encode()
    assert_scim_error(raw(scim, "POST", "/Users", body), 413)
    assert user_count(scim) == 0


def test_a_filter_over_the_limit_is_400_too_many(scim):
    text = 'userName eq "' + "a" * MAX_FILTER + '"'
    assert_scim_error(scim.get("/Users?filter=" + quote(text)), 400, "tooMany")
    assert_scim_error(scim.post("/Users/.search", json={"filter": text}), 400, "tooMany")


def test_a_filter_nested_too_deeply_is_400(scim):
    text = "(" * 200 + "title pr" + ")" * 200
    assert_scim_error(scim.get("/Users?filter=" + quote(text)), 400, "invalidFilter")


def test_members_over_the_limit_are_400_too_many(scim, group):
    users = [scim.post("/Users", json={"userName": f"m{n}@contoso.com"}).json["id"] for n in range(MAX_MEMBERS + 1)]
    members = [{"value": uid} for uid in users]
    assert_scim_error(scim.post("/Groups", json={"displayName": "Big", "members": members}), 400, "tooMany")
    patch = {"Operations": [{"op": "Add", "path": "members", "value": members}]}
    assert_scim_error(scim.patch(f"/Groups/{group['id']}", json=patch), 400, "tooMany")
    assert_unchanged(scim, group)
    within = {"Operations": [{"op": "Add", "path": "members", "value": members[:MAX_MEMBERS]}]}
    assert scim.patch(f"/Groups/{group['id']}", json=within).status_code == 204


@pytest.mark.parametrize(("attribute", "body"), [
    ("userName", lambda value: {"userName": value}),
    ("displayName", lambda value: {"userName": "a@contoso.com", "displayName": value}),
    ("externalId", lambda value: {"userName": "a@contoso.com", "externalId": value}),
    ("emails.value", lambda value: {"userName": "a@contoso.com", "emails": [{"value": value, "type": "work"}]}),
])
def test_indexed_values_are_capped_so_every_database_can_index_them(scim, attribute, body):
    # 512 characters of four UTF-8 bytes each fit a PostgreSQL index entry; one more is refused
    # on every database alike, instead of failing the insert there with a 500.
    longest = "𝔘" * 512
    created = scim.post("/Users", json=body(longest))
    assert created.status_code == 201
    assert longest in json.dumps(scim.get(f"/Users/{created.json['id']}").json, ensure_ascii=False)
    assert_scim_error(scim.post("/Users", json=body("b" + longest)), 400, "invalidValue")
    assert user_count(scim) == 1


def test_a_manager_id_longer_than_any_id_is_400(scim):
    body = {"userName": "a@contoso.com", ENTERPRISE: {"manager": {"value": "m" * 37}}}
    assert_scim_error(scim.post("/Users", json=body), 400, "invalidValue")


# -- bytes and characters no database keeps ------------------------------------------------------


def test_nul_and_unpaired_surrogates_are_refused_before_storage(scim):
    for body in [
        b'{"userName": "nul\\u0000@contoso.com"}',
        b'{"userName": "a@contoso.com", "title": "\\u0000"}',
        b'{"userName": "a@contoso.com", "x\\u0000": 1}',
        b'{"userName": "lone\\ud800@contoso.com"}',
        b'{"userName": "a@contoso.com", "displayName": "\\udfff"}',
        b'{"userName": "a@contoso.com", "name": {"givenName": "\\udc80x"}}',
        b'{"userName": "a@contoso.com", "emails": [{"value": "\\ud83d@contoso.com"}]}',
    ]:
        assert_scim_error(raw(scim, "POST", "/Users", body), 400, "invalidValue")
    assert scim.get("/Users").status_code == 200  # nothing poisonous was stored
    assert user_count(scim) == 0


def test_unstorable_characters_in_a_patch_are_refused(scim, user):
    for value in ["\u0000", "\ud800", "a\udfffb"]:
        body = {"Operations": [{"op": "replace", "path": "title", "value": value}]}
        response = raw(scim, "PATCH", f"/Users/{user['id']}", json.dumps(body).encode())
        assert_scim_error(response, 400, "invalidValue")
    assert_unchanged(scim, user)


def test_escaped_non_bmp_characters_are_kept(scim):
    body = b'{"userName": "emoji\\ud83d\\ude00@contoso.com"}'
    assert raw(scim, "POST", "/Users", body).json["userName"] == "emoji\U0001F600@contoso.com"


def test_nul_in_a_filter_is_400(scim):
    for filter_text in ['userName eq "\x00"', 'title co "a\x00"', "\x00", 'userName eq "\\u0000"',
                        'emails[value eq "a\\u0000"]']:
        assert_scim_error(scim.get("/Users?filter=" + quote(filter_text)), 400, "invalidFilter")


def test_nul_in_a_patch_path_is_400(scim, group):
    patch = {"Operations": [{"op": "remove", "path": 'members[value eq "\\u0000"]'}]}
    assert_scim_error(scim.patch(f"/Groups/{group['id']}", json=patch), 400, "invalidPath")
    assert_unchanged(scim, group)


def test_undecodable_ids_are_404(scim):
    patch = {"Operations": [{"op": "replace", "path": "title", "value": "x"}]}
    for path in ["/Users/%00", "/Groups/%00", "/Users/%FF%FE", "/Users/%ED%A0%80"]:
        assert_scim_error(scim.get(path), 404)
        assert_scim_error(scim.put(path, json={"userName": "x", "displayName": "x"}), 404)
        assert_scim_error(scim.patch(path, json=patch), 404)
        assert_scim_error(scim.delete(path), 404)


def test_invalid_utf8_in_a_filter_value_matches_nothing(scim, user):
    response = scim.get("/Users?filter=userName%20eq%20%22%FF%FE%22")
    assert response.status_code == 200 and response.json["totalResults"] == 0


# -- path traversal and SQL metacharacters -------------------------------------------------------

HOSTILE_VALUES = [
    "' OR '1'='1", "' OR 1=1 --", '"; DROP TABLE users; --', "1; DELETE FROM memberships", "%", "_", "%%",
    "\\", "\\%", "*", "../../../etc/passwd", "..\\..\\windows\\win.ini", "%2e%2e%2f", "$where: 1",
    "{{7*7}}", "<script>alert(1)</script>", "a' UNION SELECT secret_hash FROM scim_tokens --",
]


@pytest.mark.parametrize("collection", ["Users", "Groups"])
def test_hostile_ids_are_simply_not_found(scim, group, collection):
    patch = {"Operations": [{"op": "replace", "path": "displayName", "value": "x"}]}
    for value in HOSTILE_VALUES:
        path = f"/{collection}/{quote(value, safe='')}"
        assert_scim_error(scim.get(path), 404)
        assert_scim_error(scim.patch(path, json=patch), 404)
        assert_scim_error(scim.delete(path), 404)
    assert user_count(scim) == 1
    assert_unchanged(scim, group)


def test_hostile_filter_values_match_nothing(scim, group):
    for template in [
        "userName eq {}", "userName co {}", "userName sw {}", "userName ew {}", "externalId eq {}",
        "displayName co {}", 'emails[type eq "work"].value eq {}', "emails.value co {}", "title co {}",
        f"{ENTERPRISE}:department eq {{}}", "id eq {}", "members.value eq {}",
    ]:
        collection = "Groups" if template.startswith("members") else "Users"
        for value in HOSTILE_VALUES:
            response = scim.get(f"/{collection}?filter=" + quote(template.format(json.dumps(value))))
            assert response.status_code == 200, (template, value, response.json)
            assert response.json["totalResults"] == 0 and response.json["Resources"] == [], (template, value)
    assert user_count(scim) == 1


def test_a_user_named_like_an_injection_is_found_literally(scim):
    for value in HOSTILE_VALUES:
        assert scim.post("/Users", json={"userName": value, "title": value}).status_code == 201
    for value in HOSTILE_VALUES:
        for op in ("eq", "co", "sw", "ew"):
            found = scim.get(f"/Users?filter=userName%20{op}%20{quote(json.dumps(value))}").json
            assert value in [resource["userName"] for resource in found["Resources"]]
            if op == "eq":
                assert found["totalResults"] == 1


# -- query parameters and headers ----------------------------------------------------------------


def test_hostile_query_parameters_are_answered_not_crashed(scim, user):
    for query in [
    "startIndex=99999999999999999999999", "count=99999999999999999999999", "startIndex=-5&count=-5",
    "startIndex=9223372036854775808", "startIndex=1e5", "count=%00", "count=" + "9" * 5000,
    "sortBy=%00", "sortBy=emails[", "sortBy=name", "sortBy=urn:x:y", "sortBy=" + "a" * 5000, "sortOrder=sideways",
    "attributes=%00", "attributes=" + ",".join(["a"] * 2000), "excludedAttributes=emails[type",
    "attributes=name.givenName.x", "filter=", "filter=%FF", "unknown=%FF&aadOptscim062020",
    ]:
        response = scim.get("/Users?" + query)
        if response.status_code == 200:
            assert response.json["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:ListResponse"]
        else:
            assert_scim_error(response, 400)


@pytest.mark.parametrize("header", ["If-Match", "If-None-Match"])
def test_hostile_version_headers_are_answered_not_crashed(scim, user, header):
    body = {"Operations": [{"op": "replace", "path": "title", "value": "Manager"}]}
    for value in ['W/"' + "9" * 5000 + '"', 'W/"\xb2"', 'W/"\u0663"', "W/", ",,,", "*" * 1000, "é" * 100]:
        for response in (scim.get(f"/Users/{user['id']}", headers={header: value}),
                         scim.patch(f"/Users/{user['id']}", json=body, headers={header: value})):
            assert response.status_code in (200, 412), response.json
            if response.status_code == 412:
                assert_scim_error(response, 412)


def test_every_hostile_request_is_still_in_the_provisioning_log(app, scim):
    """Ids, paths and methods are stored cleaned (NUL replaced, cut to the column's length), so
    no request escapes the log by failing its insert (PostgreSQL refuses NUL and overlong text)."""
    requests = [("GET", "/Users/%00"), ("GET", "/Users/" + "a" * 5000), ("DELETE", "/Groups/%00x"),
                ("GET", "/Users?filter=" + quote('userName eq "' + "a" * 3000 + '"')),
                ("PROPFINDANDMORE", "/Users"), ("GET", "/" + "x%00" * 100)]
    for method, path in requests:
        assert scim.request(method, path).status_code in (400, 404, 405)
    with app.app_context():
        logged = db.session.execute(select(ProvisioningEvent).order_by(ProvisioningEvent.id)).scalars().all()
    assert [event.status for event in logged] == [404, 404, 404, 400, 405, 404]
    assert all("\x00" not in (event.path + event.action + (event.resource_id or "")) for event in logged)
