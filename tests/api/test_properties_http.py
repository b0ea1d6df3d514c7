"""Properties of the HTTP endpoints, checked with generated input (hypothesis, a bounded number of
examples): any body is a resource or a SCIM error; a PATCH is applied whole or not at all and
keeps the indexed columns in step with the document; the database's filters agree with the
reference evaluator in `scim.matching`; and pages are slices of one stable order."""
from __future__ import annotations

import itertools
import json
from decimal import Decimal
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from jericho.scim.errors import ERROR_URN, ScimError
from jericho.scim.filter import parse_filter
from jericho.scim.matching import matches
from jericho.scim.schema import ENTERPRISE_USER_URN, USER

# Function-scoped fixtures are set up once per test, not per example: each test keeps its
# examples apart (fresh names) or only reads.
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

names = itertools.count()


@pytest.fixture
def app_config():
    # Generated filters are compared with the reference evaluator whatever they cost, and however
    # many cost more than Entra's; the cost budget and its rate are held by test_noisy_neighbours.py.
    return {"SCIM_MAX_FILTER_COST": 1000, "RATE_LIMIT_EXPENSIVE_FILTER_PER_SECOND": 0}


def assert_scim_error(response) -> None:
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/scim+json"
    assert response.json["schemas"] == [ERROR_URN] and response.json["status"] == str(response.status_code)


def as_numbers(document: dict) -> dict:
    """The document with its numbers as decimals: PostgreSQL's jsonb keeps the number a value
    outside the schema was sent as, not how it was written (2.5e+16 comes back 25000000000000000)."""
    return json.loads(json.dumps(document), parse_float=Decimal, parse_int=Decimal)


# -- strategies ----------------------------------------------------------------------------------

# Text with the awkward characters: NUL, lone surrogates (JSON escapes them), quotes, backslashes,
# SQL wildcards, non-BMP letters.
awkward_text = st.text(
    alphabet=st.one_of(st.characters(exclude_categories=()), st.sampled_from('\x00"\\%_\'*\ud800\U0001d518')),
    max_size=12,
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False, allow_infinity=False)
    | awkward_text | st.sampled_from(["True", "False", "true", "false", ""]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(awkward_text | st.sampled_from(["value", "type"]),
                                                                inner, max_size=3),
    max_leaves=10,
)
user_attributes = st.sampled_from([
    "userName", "displayName", "title", "active", "externalId", "emails", "name", "nickName", "locale",
    "phoneNumbers", "addresses", "groups", "id", "meta", "schemas", "password", ENTERPRISE_USER_URN,
])
user_bodies = st.one_of(
    json_values,
    st.dictionaries(user_attributes, json_values, max_size=6),
    st.builds(lambda extra, name: {**extra, "userName": name}, st.dictionaries(user_attributes, json_values, max_size=5),
              awkward_text),
)

patch_paths = st.one_of(st.sampled_from([
    "title", "displayName", "active", "userName", "externalId", "nickName", "name.givenName", "name",
    'emails[type eq "work"].value', 'emails[type eq "work"]', "emails", "emails.value", "phoneNumbers",
    f"{ENTERPRISE_USER_URN}:department", f"{ENTERPRISE_USER_URN}:manager", "id", "meta.created", "groups",
    "members", "schemas", "unknownAttribute", 'emails[value eq "x"', "name.", "",
]), awkward_text)
patch_operations = st.fixed_dictionaries(
    {"op": st.sampled_from(["add", "Add", "replace", "Replace", "remove", "Remove", "delete", 5])},
    optional={"path": patch_paths, "value": json_values | st.dictionaries(patch_paths, json_values, max_size=3)},
)


# -- bodies --------------------------------------------------------------------------------------


@SETTINGS
@given(body=user_bodies)
def test_any_body_posted_is_a_stored_resource_or_a_scim_error(scim, body):
    if isinstance(body, dict) and isinstance(body.get("userName"), str):
        body["userName"] += f"#{next(names)}"  # never a conflict with an earlier example
    before = scim.get("/Users?count=0").json["totalResults"]
    response = scim.post("/Users", data=json.dumps(body), content_type="application/scim+json")
    if response.status_code == 201:
        assert as_numbers(scim.get(f"/Users/{response.json['id']}").json) == as_numbers(response.json)
    else:
        assert_scim_error(response)
        assert scim.get("/Users?count=0").json["totalResults"] == before


# -- PATCH ---------------------------------------------------------------------------------------

INDEXED = {"userName": "userName", "externalId": "externalId", "displayName": "displayName", "active": "active"}


@SETTINGS
@given(operations=st.lists(patch_operations, min_size=1, max_size=4))
def test_any_patch_is_applied_whole_or_not_at_all_and_stays_findable(scim, operations):
    created = scim.post("/Users", json={
        "userName": f"patched{next(names)}@contoso.com", "externalId": "x1", "displayName": "Ava", "active": True,
        "title": "Analyst", "emails": [{"type": "work", "value": "ava@contoso.com", "primary": True}],
    }).json
    path = f"/Users/{created['id']}"
    response = scim.request("PATCH", path, data=json.dumps({"Operations": operations}),
                            content_type="application/scim+json")
    stored = scim.get(path).json
    if response.status_code != 200:
        assert_scim_error(response)
        assert stored == created
        return
    assert as_numbers(stored) == as_numbers(response.json)
    # The columns that filters use were updated with the document (storage._store_document).
    for attribute, key in INDEXED.items():
        if key in stored:
            found = scim.get(f"/Users?filter={attribute}%20eq%20{quote(json.dumps(stored[key]))}").json
            assert created["id"] in [resource["id"] for resource in found["Resources"]], attribute
    for email in stored.get("emails", []):
        if isinstance(email.get("value"), str) and email["value"]:
            found = scim.get(f"/Users?filter=emails.value%20eq%20{quote(json.dumps(email['value']))}").json
            assert created["id"] in [resource["id"] for resource in found["Resources"]]


# -- filters: the database against the reference evaluator ---------------------------------------

PEOPLE = [
    {"userName": "ava.berg@contoso.com", "displayName": "Ava Berg", "title": "Analyst", "active": True,
     "externalId": "AVA", "name": {"givenName": "Ava", "familyName": "Berg"},
     "emails": [{"type": "work", "value": "ava.berg@contoso.com", "primary": True}],
     ENTERPRISE_USER_URN: {"department": "Finance", "employeeNumber": "0042"}},
    {"userName": "ÅSA.öberg@contoso.com", "displayName": "Åsa Öberg", "title": "analyst", "active": False,
     "externalId": "asa", "name": {"givenName": "Åsa"},
     "emails": [{"type": "home", "value": "asa@example.org"}, {"type": "work", "value": "Asa@Contoso.com"}],
     ENTERPRISE_USER_URN: {"department": "finance"}},
    {"userName": "bo_100%@contoso.com", "displayName": "Bo", "active": True, "externalId": "b'o",
     "emails": [{"type": "work", "value": "bo_100%@contoso.com"}]},
    {"userName": "carl@contoso.com", "title": "", "active": True, "nickName": "C\\arl \"the\" one",
     ENTERPRISE_USER_URN: {"department": "IT", "employeeNumber": "7"}},
    {"userName": "dana@contoso.com", "displayName": "dana", "active": False, "title": "Dana's manager",
     "emails": []},
]
FILTER_NAMES = ["userName", "displayName", "title", "active", "externalId", "nickName", "emails.value",
                "emails.type", "emails.primary", "name.givenName", "name.familyName",
                f"{ENTERPRISE_USER_URN}:department", f"{ENTERPRISE_USER_URN}:employeeNumber", "id"]
FILTER_STRINGS = sorted({fragment for person in PEOPLE for value in json.dumps(person, ensure_ascii=False).split('"')
                         for fragment in (value, value[:3], value[-4:]) if fragment.strip(" :,{}[]")})

filter_values = st.one_of(
    st.sampled_from(FILTER_STRINGS).map(json.dumps),
    st.sampled_from(FILTER_STRINGS).map(str.swapcase).map(json.dumps),  # caseExact attributes must not match
    awkward_text.map(json.dumps),
    st.sampled_from(["true", "false", "null", "0", "42", "-1.5"]),
)
filter_leaves = st.one_of(
    st.builds("{} {} {}".format, st.sampled_from(FILTER_NAMES),
              st.sampled_from(["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "EQ", "Co"]), filter_values),
    st.sampled_from(FILTER_NAMES).map("{} pr".format),
    st.builds('emails[type eq {} and value {} {}]'.format, filter_values, st.sampled_from(["eq", "co", "sw"]),
              filter_values),
)
filters = st.recursive(filter_leaves, lambda inner: st.one_of(
    st.builds("{} and {}".format, inner, inner),
    st.builds("{} or {}".format, inner, inner),
    inner.map("not ({})".format),
    inner.map("({})".format),
), max_leaves=5)


@pytest.fixture
def people(scim) -> list[dict]:
    for person in PEOPLE:
        assert scim.post("/Users", json=person).status_code == 201
    return scim.get("/Users?count=100").json["Resources"]


@SETTINGS
@given(text=filters)
@example(text='externalId sw "ava"')  # "AVA": externalId is caseExact (RFC 7643 §3.1)
@example(text='externalId co "S" or externalId ew "Va"')
@example(text='nickName co "\\\\a" or userName sw "bo_1" or userName co "0%" or displayName sw "åsa"')
def test_database_filters_agree_with_the_reference_evaluator(scim, people, text):
    response = scim.get("/Users?count=100&filter=" + quote(text))
    try:
        expected = {person["id"] for person in people if matches(parse_filter(text), person, USER)}
    except ScimError:
        assert_scim_error(response)
        return
    assert response.status_code == 200, response.json
    assert {resource["id"] for resource in response.json["Resources"]} == expected
    assert response.json["totalResults"] == len(expected)


@pytest.mark.parametrize("op", ["eq", "co", "sw", "ew"])
def test_ids_compare_with_their_case(scim, people, op):
    # RFC 7643 §3.1: id is caseExact, and the server's ids are lower-case.
    shouted = people[0]["id"].upper()
    assert shouted != people[0]["id"]
    found = scim.get("/Users?filter=" + quote(f'id {op} "{shouted}"')).json
    assert found["totalResults"] == 0


@SETTINGS
@given(text=st.text(max_size=60) | awkward_text)
def test_any_filter_text_is_a_list_response_or_a_scim_error(scim, text):
    # A lone surrogate cannot be UTF-8: it arrives as the invalid bytes a client would send.
    response = scim.get("/Users?filter=" + quote(text, safe="", errors="surrogatepass"))
    if response.status_code != 200:
        assert_scim_error(response)


# -- pagination ----------------------------------------------------------------------------------


@SETTINGS
@given(
    sort_by=st.sampled_from([None, "userName", "displayName", "title", "active", "emails.value",
                             f"{ENTERPRISE_USER_URN}:department", "meta.created"]),
    order=st.sampled_from([None, "ascending", "descending"]),
    start=st.integers(-2, 8),
    count=st.integers(-1, 7),
)
def test_every_page_is_a_slice_of_one_stable_order(scim, people, sort_by, order, start, count):
    query = "".join(f"&{key}={quote(str(value))}" for key, value in
                    (("sortBy", sort_by), ("sortOrder", order)) if value is not None)
    everything = [resource["id"] for resource in scim.get(f"/Users?count=100{query}").json["Resources"]]
    assert sorted(everything) == sorted(person["id"] for person in people)
    page = scim.get(f"/Users?startIndex={start}&count={count}{query}").json
    first = max(start, 1) - 1
    assert page["totalResults"] == len(people)
    assert [resource["id"] for resource in page["Resources"]] == everything[first:first + max(count, 0)]
    assert page["startIndex"] == max(start, 1) and page["itemsPerPage"] == len(page["Resources"])
