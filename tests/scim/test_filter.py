import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jericho.scim.errors import InvalidFilter, InvalidPath, ScimError, TooMany
from jericho.scim.filter import (
    And,
    Comparison,
    Not,
    Or,
    PatchPath,
    Present,
    ValueFilter,
    parse_filter,
    parse_patch_path,
    resolve_filter,
)
from jericho.scim.matching import element_matches, matches
from jericho.scim.paths import AttrPath
from jericho.scim.schema import ENTERPRISE_USER_URN, GROUP, GROUP_URN, USER, USER_SCHEMA, USER_URN


def path(text: str, sub: str | None = None, schema: str | None = None) -> AttrPath:
    return AttrPath(schema, text, sub)


def eq(name: str, value, sub: str | None = None) -> Comparison:
    return Comparison(path(name, sub), "eq", value)


# --- RFC 7644 §3.4.2.2: every example filter -------------------------------------------------

def test_rfc7644_3_4_2_2_example_case_insensitive_names_and_operators():
    assert parse_filter('userName Eq "john"') == Comparison(path("userName"), "eq", "john")
    assert parse_filter('Username eq "john"') == Comparison(path("Username"), "eq", "john")
    first, second = (resolve_filter(parse_filter(text), USER) for text in ('userName Eq "john"', 'Username eq "john"'))
    assert first == second


def test_rfc7644_3_4_2_2_example_username_eq():
    assert parse_filter('userName eq "bjensen"') == eq("userName", "bjensen")


def test_rfc7644_3_4_2_2_example_family_name_co():
    assert parse_filter("name.familyName co \"O'Malley\"") == Comparison(path("name", "familyName"), "co", "O'Malley")


def test_rfc7644_3_4_2_2_example_username_sw():
    assert parse_filter('userName sw "J"') == Comparison(path("userName"), "sw", "J")


def test_rfc7644_3_4_2_2_example_urn_qualified_username_sw():
    assert parse_filter('urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"') == Comparison(
        path("userName", schema=USER_URN), "sw", "J")


def test_rfc7644_3_4_2_2_example_title_pr():
    assert parse_filter("title pr") == Present(path("title"))


@pytest.mark.parametrize("op", ["gt", "ge", "lt", "le"])
def test_rfc7644_3_4_2_2_example_last_modified_ordering(op):
    expr = parse_filter(f'meta.lastModified {op} "2011-05-13T04:42:34Z"')
    assert expr == Comparison(path("meta", "lastModified"), op, "2011-05-13T04:42:34Z")
    assert resolve_filter(expr, USER).value == datetime(2011, 5, 13, 4, 42, 34, tzinfo=UTC)


def test_rfc7644_3_4_2_2_example_pr_and_eq():
    assert parse_filter('title pr and userType eq "Employee"') == And(Present(path("title")), eq("userType", "Employee"))


def test_rfc7644_3_4_2_2_example_pr_or_eq():
    assert parse_filter('title pr or userType eq "Intern"') == Or(Present(path("title")), eq("userType", "Intern"))


def test_rfc7644_3_4_2_2_example_schemas_eq():
    expr = parse_filter('schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"')
    assert expr == eq("schemas", ENTERPRISE_USER_URN)
    assert matches(expr, {"schemas": [USER_URN, ENTERPRISE_USER_URN]}, USER)
    assert not matches(expr, {"schemas": [USER_URN]}, USER)


def test_rfc7644_3_4_2_2_example_grouped_or():
    expr = parse_filter('userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")')
    assert expr == And(eq("userType", "Employee"), Or(
        Comparison(path("emails"), "co", "example.com"), Comparison(path("emails", "value"), "co", "example.org")))


def test_rfc7644_3_4_2_2_example_not():
    expr = parse_filter('userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")')
    assert expr == And(Comparison(path("userType"), "ne", "Employee"), Not(Or(
        Comparison(path("emails"), "co", "example.com"), Comparison(path("emails", "value"), "co", "example.org"))))


def test_rfc7644_3_4_2_2_example_grouped_sub_attribute():
    assert parse_filter('userType eq "Employee" and (emails.type eq "work")') == And(
        eq("userType", "Employee"), eq("emails", "work", "type"))


def test_rfc7644_3_4_2_2_example_value_path():
    assert parse_filter('userType eq "Employee" and emails[type eq "work" and value co "@example.com"]') == And(
        eq("userType", "Employee"),
        ValueFilter(path("emails"), And(eq("type", "work"), Comparison(path("value"), "co", "@example.com"))))


def test_rfc7644_3_4_2_2_example_value_paths_or():
    assert parse_filter(
        'emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]'
    ) == Or(
        ValueFilter(path("emails"), And(eq("type", "work"), Comparison(path("value"), "co", "@example.com"))),
        ValueFilter(path("ims"), And(eq("type", "xmpp"), Comparison(path("value"), "co", "@foo.com"))))


RFC_EXAMPLES = [
    'userName Eq "john"', 'Username eq "john"', 'userName eq "bjensen"', "name.familyName co \"O'Malley\"",
    'userName sw "J"', 'urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"', "title pr",
    'meta.lastModified gt "2011-05-13T04:42:34Z"', 'meta.lastModified ge "2011-05-13T04:42:34Z"',
    'meta.lastModified lt "2011-05-13T04:42:34Z"', 'meta.lastModified le "2011-05-13T04:42:34Z"',
    'title pr and userType eq "Employee"', 'title pr or userType eq "Intern"',
    'schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"',
    'userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")',
    'userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")',
    'userType eq "Employee" and (emails.type eq "work")',
    'userType eq "Employee" and emails[type eq "work" and value co "@example.com"]',
    'emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]',
]

BARBARA = {
    "schemas": [USER_URN, ENTERPRISE_USER_URN],
    "id": "2819c223-7f76-453a-919d-413861904646",
    "externalId": "bjensen",
    "userName": "bjensen",
    "name": {"familyName": "O'Malley", "givenName": "Barbara"},
    "title": "Tour Guide",
    "userType": "Employee",
    "emails": [{"value": "bjensen@example.com", "type": "work", "primary": True},
               {"value": "babs@jensen.org", "type": "home"}],
    "ims": [{"value": "babs@foo.com", "type": "xmpp"}],
    "active": True,
    "meta": {"created": "2010-01-23T04:56:22Z", "lastModified": "2011-05-13T04:42:34Z"},
    ENTERPRISE_USER_URN: {"employeeNumber": "701984", "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}},
}


@pytest.mark.parametrize(("text", "expected"), list(zip(RFC_EXAMPLES, [
    False, False, True, True, False, False, True, False, True, False, True, True, True, True, True, False, True,
    True, True,
], strict=True)))
def test_rfc7644_3_4_2_2_examples_evaluate_on_a_user(text, expected):
    assert matches(parse_filter(text), BARBARA, USER) is expected


# --- Grammar: precedence, values, whitespace ---------------------------------------------------

def test_rfc7644_3_4_2_2_precedence_and_binds_tighter_than_or():
    a, b, c = (Present(path(name)) for name in "abc")
    assert parse_filter("a pr or b pr and c pr") == Or(a, And(b, c))
    assert parse_filter("a pr and b pr or c pr") == Or(And(a, b), c)
    assert parse_filter("(a pr or b pr) and c pr") == And(Or(a, b), c)


def test_rfc7644_3_4_2_2_precedence_not_binds_tightest():
    a, b = Present(path("a")), Present(path("b"))
    assert parse_filter("not (a pr) and b pr") == And(Not(a), b)
    assert parse_filter("NOT(a pr) OR b pr") == Or(Not(a), b)


def test_long_chains_stay_shallow():
    expr = parse_filter(" and ".join(["userName pr"] * 2000), max_length=50_000)

    def depth(node):
        return 1 + max(depth(node.left), depth(node.right)) if isinstance(node, And) else 1

    assert depth(expr) <= 12
    assert matches(expr, BARBARA, USER)


def test_chains_keep_operand_order():
    a, b, c = (Present(path(name)) for name in "abc")
    assert parse_filter("a pr and b pr and c pr") == And(a, And(b, c))


@pytest.mark.parametrize(("text", "value"), [
    (r'x eq "a\"b"', 'a"b'),
    (r'x eq "back\\slash"', "back\\slash"),
    (r'x eq "tab\tnew\nline"', "tab\tnew\nline"),
    (r'x eq "\u00e9t\u00E9"', "été"),
    (r'x eq "\ud83d\ude00"', "😀"),
    (r'x eq "\/"', "/"),
    ('x eq "ünïcode"', "ünïcode"),
    ('x eq ""', ""),
    ('x eq "a]b)c(d[e"', "a]b)c(d[e"),
    ('x eq " and "', " and "),
    ("x eq 42", 42),
    ("x eq -7", -7),
    ("x eq 0", 0),
    ("x eq 1.5", 1.5),
    ("x eq 2e3", 2000.0),
    ("x eq -1.25E-2", -0.0125),
    ("x eq true", True),
    ("x eq false", False),
    ("x eq null", None),
])
def test_rfc7644_3_4_2_2_comp_values_are_json(text, value):
    expr = parse_filter(text)
    assert expr == Comparison(path("x"), "eq", value)
    assert type(expr.value) is type(value)


def test_whitespace_between_tokens_is_flexible():
    assert parse_filter('  (userName\teq\n"a")and(title pr)  ') == And(eq("userName", "a"), Present(path("title")))


@pytest.mark.parametrize("op", ["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"])
def test_every_comparison_operator_any_case(op):
    assert parse_filter(f'title {op.upper()} "x"') == Comparison(path("title"), op, "x")


# --- Entra ID -------------------------------------------------------------------------------

def test_entra_test_connection_filter():
    # ENTRA.md §3.1: a random GUID; must give an empty result, not an error.
    expr = resolve_filter(parse_filter('userName eq "7d420df3-9995-4831-a406-ecf8166f5f6a"'), USER)
    assert expr == Comparison(AttrPath(USER_URN, "userName"), "eq", "7d420df3-9995-4831-a406-ecf8166f5f6a")


def test_entra_match_by_username_is_case_insensitive():
    # ENTRA.md §3.2, §8 #8: Entra sends the UPN as is; the stored userName may differ in case.
    expr = parse_filter('userName eq "ava.lindqvist@contoso.com"')
    assert matches(expr, {"userName": "Ava.Lindqvist@contoso.com"}, USER)


def test_entra_match_by_external_id_is_case_exact():
    expr = parse_filter('externalId eq "ava.lindqvist"')
    assert matches(expr, {"externalId": "ava.lindqvist"}, USER)
    assert not matches(expr, {"externalId": "Ava.Lindqvist"}, USER)


def test_entra_manager_reference_check():
    # ENTRA.md §3.3: unqualified `manager`, compared without a sub-attribute.
    expr = parse_filter('id eq "u1" and manager eq "m1"')
    assert resolve_filter(expr, USER) == And(
        Comparison(AttrPath(USER_URN, "id"), "eq", "u1"),
        Comparison(AttrPath(ENTERPRISE_USER_URN, "manager", "value"), "eq", "m1"))
    user = {"id": "u1", ENTERPRISE_USER_URN: {"manager": {"value": "m1"}}}
    assert matches(expr, user, USER)
    assert not matches(parse_filter('id eq "u1" and manager eq "M1"'), user, USER)
    assert not matches(parse_filter('id eq "U1" and manager eq "m1"'), user, USER)


def test_entra_group_member_reference_check():
    expr = parse_filter('id eq "g1" and members eq "u2"')
    assert resolve_filter(expr, GROUP) == And(
        Comparison(AttrPath(GROUP_URN, "id"), "eq", "g1"),
        Comparison(AttrPath(GROUP_URN, "members", "value"), "eq", "u2"))
    group = {"id": "g1", "members": [{"value": "u1"}, {"value": "u2"}]}
    assert matches(expr, group, GROUP)
    assert not matches(parse_filter('id eq "g1" and members eq "u3"'), group, GROUP)


def test_entra_group_match_by_display_name_is_case_insensitive():
    expr = parse_filter('displayName eq "Finance"')
    assert resolve_filter(expr, GROUP) == Comparison(AttrPath(GROUP_URN, "displayName"), "eq", "Finance")
    assert matches(expr, {"displayName": "FINANCE"}, GROUP)


def test_entra_match_by_work_email():
    # ENTRA.md §4: `emails[type eq "work"].value` as a matching attribute.
    expr = parse_filter('emails[type eq "work"].value eq "Ava@Contoso.com"')
    assert expr == ValueFilter(path("emails"), And(eq("type", "work"), eq("value", "Ava@Contoso.com")))
    emails = [{"type": "home", "value": "x@y"}, {"type": "work", "value": "ava@contoso.com"}]
    assert matches(expr, {"emails": emails}, USER)
    assert not matches(expr, {"emails": [{"type": "home", "value": "ava@contoso.com"}]}, USER)


def test_entra_value_path_with_sub_attribute_combines_with_other_expressions():
    assert parse_filter('emails[type eq "work"].value eq "x" and userName pr') == And(
        ValueFilter(path("emails"), And(eq("type", "work"), eq("value", "x"))), Present(path("userName")))


def test_entra_match_by_employee_number():
    expr = parse_filter(f'{ENTERPRISE_USER_URN}:employeeNumber eq "1"')
    assert resolve_filter(expr, USER) == Comparison(AttrPath(ENTERPRISE_USER_URN, "employeeNumber"), "eq", "1")
    assert matches(expr, {ENTERPRISE_USER_URN: {"employeeNumber": "1"}}, USER)
    assert not matches(expr, {"employeeNumber": "1"}, USER)


def test_entra_form_encoded_filter_decodes_to_the_same_filter():
    # ENTRA.md §2: `filter=userName+eq+%22ava%40contoso.com%22`, decoded by the web framework.
    from urllib.parse import parse_qs
    text = parse_qs("filter=userName+eq+%22ava%40contoso.com%22")["filter"][0]
    assert parse_filter(text) == eq("userName", "ava@contoso.com")


# --- Syntax errors ---------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "detail"), [
    ("", "the filter is empty"),
    ("   ", "the filter is empty"),
    ("userName", "expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr) after 'userName' at position 8, "
                 "found the end"),
    ('userName xx "a"', "expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr) after 'userName' "
                        "at position 9, found 'xx'"),
    ("userName eq", "expected a value after 'eq' (a double-quoted string, a number, true, false or null) "
                    "at position 11, found the end"),
    # ENTRA.md §2: the tutorial's unquoted `externalId eq jyoung` is not RFC syntax.
    ("externalId eq jyoung", "expected a value after 'eq' (a double-quoted string, a number, true, false or null) "
                             "at position 14, found 'jyoung'"),
    ("active eq True", "at position 10, found 'True'"),
    ("title eq 'x'", "unexpected character \"'\" at position 9"),
    ('title eq "x', "invalid JSON string at position 9: unterminated string starting at position 9"),
    (r'title eq "a\qb"', "invalid JSON string at position 9: invalid \\escape at position 11"),
    ('title eq "a\nb"', "invalid JSON string at position 9: invalid control character at position 11"),
    (r'title eq "\ud800"', "invalid JSON string at position 9: unpaired surrogate escape"),
    (r'title eq "a\u0000"', "invalid JSON string at position 9: NUL character"),
    ("(title pr", "unclosed '(' from position 0: expected ')' at position 9, found the end"),
    ("title pr)", "expected 'and', 'or' or the end of the filter at position 8, found ')'"),
    ('emails[type eq "work"', "unclosed '[' from position 6: expected ']' at position 21, found the end"),
    ('emails[type eq "work"]]', "expected 'and', 'or' or the end of the filter at position 22, found ']'"),
    ('emails[ims[type pr]]', "value filters cannot be nested at position 10, found '['"),
    ('emails.value[type pr]', "'[' must follow an attribute, not the sub-attribute 'emails.value' at position 12"),
    ('emails[type eq "work"].value', "expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr) after 'value' "
                                     "at position 28, found the end"),
    ('emails[type eq "work"].', "expected a sub-attribute name after '.' at position 23"),
    ('emails[type eq "work"].value.x eq "a"', "expected a sub-attribute name after '.' at position 23, found 'value.x'"),
    ("not title pr", "expected '(' after 'not' at position 4, found 'title'"),
    ("title pr and", "expected an attribute path, 'not' or '(' at position 12, found the end"),
    ("title pr or or", "expected an attribute path, 'not' or '(' at position 12, found 'or'"),
    ("and title pr", "expected an attribute path, 'not' or '(' at position 0, found 'and'"),
    ("title pr title pr", "expected 'and', 'or' or the end of the filter at position 9, found 'title'"),
    ("()", "expected an attribute path, 'not' or '(' at position 1, found ')'"),
    ('"x" eq title', "expected an attribute path, 'not' or '(' at position 0, found '\"x\"'"),
    ("title eq 01", "expected 'and', 'or' or the end of the filter at position 10, found '1'"),
    ("title eq 1e999", "number at position 9 is out of range"),
    ("title eq -", "unexpected character '-' at position 9"),
    ('a.b.c eq "x"', "invalid attribute path 'a.b.c': expected attribute or attribute.subAttribute at position 0"),
    ('foo:bar eq "x"', "invalid attribute path 'foo:bar': 'foo' is not a schema URN at position 0"),
    ("title eq \"x\" & title pr", "unexpected character '&' at position 13"),
])
def test_syntax_errors_say_what_was_expected_and_where(text, detail):
    with pytest.raises(InvalidFilter) as raised:
        parse_filter(text)
    assert detail in raised.value.detail


def test_long_tokens_are_shortened_in_details():
    with pytest.raises(InvalidFilter) as raised:
        parse_filter("title " + "x" * 500)
    assert len(raised.value.detail) < 200


def test_nesting_is_limited():
    parse_filter("(" * 64 + "title pr" + ")" * 64)
    with pytest.raises(InvalidFilter, match="nests deeper than 64 levels at position 64"):
        parse_filter("(" * 65 + "title pr" + ")" * 65)
    with pytest.raises(InvalidFilter, match="nests deeper"):
        parse_filter("not (" * 2000 + "title pr" + ")" * 2000, max_length=100_000)


def test_length_is_limited():
    text = 'title eq "' + "x" * 4086 + '"'
    assert len(text) == 4097
    with pytest.raises(TooMany, match="longer than 4096 characters"):
        parse_filter(text)
    assert parse_filter(text, max_length=5000).value == "x" * 4086


def test_huge_integers_are_refused_not_crashing():
    with pytest.raises(InvalidFilter, match="too long"):
        parse_filter("x eq " + "9" * 5000, max_length=10_000)


@settings(max_examples=200, deadline=None)
@given(st.one_of(
    st.text(max_size=80),
    st.text(alphabet='ab ()[]."\\:-$0123456789eE\tu', max_size=80),
    st.lists(st.sampled_from(["title", "emails", "and", "or", "not", "eq", "pr", "(", ")", "[", "]", ".", '"x"', "1",
                              "true", "null", '"', "\\"]), max_size=30).map(" ".join),
))
def test_hostile_text_parses_or_raises_invalid_filter(text):
    try:
        expr = parse_filter(text)
    except InvalidFilter:
        return
    assert isinstance(expr, Comparison | Present | And | Or | Not | ValueFilter)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_hostile_text_resolves_matches_or_raises_scim_errors(text):
    try:
        expr = parse_filter(text)
        matches(expr, BARBARA, USER)
        parse_patch_path(text)
    except ScimError:
        pass


_names = st.sampled_from(["userName", "title", "emails.value", "name.givenName", "meta.created", "active",
                          f"{ENTERPRISE_USER_URN}:department"])
_strings = st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=5)  # NUL and lone surrogates are refused
_values = st.one_of(_strings.map(json.dumps),
                    st.integers(-100, 100).map(str), st.sampled_from(["true", "false", "null"]))
_leaves = st.one_of(
    st.builds(lambda n, o, v: f"{n} {o} {v}", _names, st.sampled_from(["eq", "NE", "co", "sw", "Gt", "le"]), _values),
    _names.map(lambda n: f"{n} pr"),
    st.builds(lambda v: f'emails[type eq {v} or not (value pr)]', _values),
)
_filters = st.recursive(_leaves, lambda inner: st.one_of(
    st.builds(lambda a, b: f"{a} and {b}", inner, inner),
    st.builds(lambda a, b: f"{a} OR {b}", inner, inner),
    inner.map(lambda a: f"not ({a})"),
    inner.map(lambda a: f"({a})"),
), max_leaves=8)


@settings(max_examples=200, deadline=None)
@given(_filters)
def test_grammar_generated_filters_parse(text):
    parse_filter(text)


# --- Resolution ------------------------------------------------------------------------------

def test_resolution_fills_in_urns_and_canonical_names():
    expr = parse_filter('USERNAME eq "a" or NAME.GIVENNAME sw "b" or EMAILS[TYPE eq "work"] or '
                        'urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:DEPARTMENT pr')
    assert resolve_filter(expr, USER) == Or(
        Or(Comparison(AttrPath(USER_URN, "userName"), "eq", "a"),
           Comparison(AttrPath(USER_URN, "name", "givenName"), "sw", "b")),
        Or(ValueFilter(AttrPath(USER_URN, "emails"), Comparison(AttrPath(None, "type"), "eq", "work")),
           Present(AttrPath(ENTERPRISE_USER_URN, "department"))))


def test_resolution_is_idempotent():
    text = 'meta.created gt "2020-01-01T00:00:00+02:00" and emails eq "x" and manager pr'
    expr = resolve_filter(parse_filter(text), USER)
    assert resolve_filter(expr, USER) == expr


def test_rfc7644_3_4_2_2_complex_attribute_without_sub_attribute_means_value():
    assert resolve_filter(parse_filter('emails co "@example.com"'), USER) == Comparison(
        AttrPath(USER_URN, "emails", "value"), "co", "@example.com")
    assert resolve_filter(parse_filter("emails pr"), USER) == Present(AttrPath(USER_URN, "emails"))


@pytest.mark.parametrize(("resource_type", "text", "detail"), [
    (USER, 'nope eq "x"', "unknown attribute 'nope' for User resources"),
    (USER, 'name.nope eq "x"', "'name' has no sub-attribute 'nope'"),
    (USER, 'members eq "x"', "unknown attribute 'members' for User resources"),
    (GROUP, 'manager eq "x"', "unknown attribute 'manager' for Group resources"),
    (USER, 'name eq "x"', "'name' is a complex attribute; compare one of its sub-attributes"),
    (USER, 'meta eq "x"', "'meta' is a complex attribute"),
    (USER, 'userName[value eq "x"]', "'userName' is not a complex attribute"),
    (USER, 'emails.value[type eq "x"]', "not the sub-attribute"),
    (USER, 'emails[nope eq "x"]', "'nope' is not a sub-attribute of 'emails'"),
    (USER, 'emails[name.givenName eq "x"]', "'name.givenName' is not a sub-attribute of 'emails'"),
    (USER, 'password eq "secret"', "'password' cannot be used in a filter"),
    (USER, "password pr", "'password' cannot be used in a filter"),
    (USER, "active gt true", "'gt' cannot compare a boolean attribute"),
    (USER, 'active eq "true"', "expected true or false"),
    (USER, 'active co "t"', "'co' only applies to string attributes"),
    (USER, "emails.primary le false", "cannot compare a boolean"),
    (USER, 'x509Certificates.value gt "AA=="', "cannot compare a binary attribute"),
    (USER, "userName eq 1", "expected a double-quoted string"),
    (USER, "userName eq true", "expected a double-quoted string"),
    (USER, "title eq null", "comparing with null is not supported"),
    (USER, 'meta.created gt "yesterday"', "expected a date-time string"),
    (USER, "meta.created gt 2011", "expected a date-time string"),
    (USER, 'meta.created sw "2011"', f"'sw' only applies to string attributes, and '{USER_URN}:meta.created' is dateTime"),
])
def test_rfc7644_3_4_2_2_unsupported_combinations_are_invalid_filter(resource_type, text, detail):
    with pytest.raises(InvalidFilter) as raised:
        resolve_filter(parse_filter(text), resource_type)
    assert detail in raised.value.detail


def test_rfc7643_2_3_5_datetimes_become_aware_utc():
    expr = resolve_filter(parse_filter('meta.created ge "2011-05-13T06:42:34+02:00"'), USER)
    assert expr.value == datetime(2011, 5, 13, 4, 42, 34, tzinfo=UTC)
    naive = resolve_filter(parse_filter('meta.created ge "2011-05-13T04:42:34.5"'), USER)
    assert naive.value == datetime(2011, 5, 13, 4, 42, 34, 500000, tzinfo=UTC)


# --- Evaluation ------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ('userName eq "BJENSEN"', True),
    ('userName ne "BJENSEN"', False),
    ('id eq "2819C223-7F76-453A-919D-413861904646"', False),
    ('id eq "2819c223-7f76-453a-919d-413861904646"', True),
    ('externalId sw "BJ"', False),
    ('emails.value ew "@EXAMPLE.COM"', True),
    ('emails co "JENSEN.ORG"', True),
    ('emails.type eq "home"', True),
    ('emails.type ne "work"', True),
    ('emails.value gt "c"', False),
    ('emails.value lt "c"', True),
    ('name.givenName ge "barbara"', True),
    ('name.givenName gt "barbara"', False),
    ("active eq true", True),
    ("active ne true", False),
    ("emails.primary eq true", True),
    ('meta.created lt "2010-01-23T05:56:22+02:00"', False),
    ('meta.created lt "2010-01-23T07:56:22+02:00"', True),
    ('meta.created eq "2010-01-23T04:56:22.000Z"', True),
    ('meta.lastModified gt "2011-05-13"', True),
    ('manager.value eq "26118915-6090-4610-87e4-49d8ca9f808d"', True),
    ('manager[value sw "2611"]', True),
    ('emails[type eq "work" and primary eq true]', True),
    ('emails[type eq "home" and primary eq true]', False),
    ('emails[not (type eq "work")]', True),
    ('not (emails[type eq "other"])', True),
    ("ims pr", True),
    ("phoneNumbers pr", False),
    ("phoneNumbers.value pr", False),
    ('phoneNumbers.value eq "x"', False),
    ('phoneNumbers.value ne "x"', False),
    ('nickName ne "x"', False),
    ('not (nickName eq "x")', True),
])
def test_matches(text, expected):
    assert matches(parse_filter(text), BARBARA, USER) is expected


@pytest.mark.parametrize(("value", "expected"), [
    (None, False), ("", False), ([], False), ({}, False), ({"value": None}, False), ([{"value": ""}], False),
    ("x", True), (False, True), (0, True), ({"givenName": "x"}, True), ([{}, {"value": "a"}], True),
])
def test_rfc7644_3_4_2_2_pr_treats_null_empty_string_and_empty_list_as_absent(value, expected):
    attribute = {"nickName": value} if not isinstance(value, dict | list) else {"emails": value}
    name = "nickName" if "nickName" in attribute else "emails"
    assert matches(Present(path(name)), attribute, USER) is expected


def test_rfc7644_3_4_2_2_pr_on_complex_single_valued():
    assert not matches(Present(path("name")), {"name": {"givenName": None, "familyName": ""}}, USER)
    assert matches(Present(path("name")), {"name": {"givenName": "Ava"}}, USER)


def test_stored_values_of_the_wrong_type_never_match():
    assert not matches(parse_filter("active eq true"), {"active": "True"}, USER)
    assert not matches(parse_filter('userName eq "1"'), {"userName": 1}, USER)
    assert not matches(parse_filter('meta.created gt "2000-01-01T00:00:00Z"'), {"meta": {"created": "soon"}}, USER)
    assert not matches(parse_filter('emails[type eq "work"]'), {"emails": ["work"]}, USER)


def test_attribute_names_in_documents_are_case_insensitive():
    assert matches(parse_filter('username eq "a"'), {"UserName": "A"}, USER)
    assert matches(parse_filter("department pr"), {ENTERPRISE_USER_URN.lower(): {"Department": "x"}}, USER)


def test_unresolvable_filters_raise_on_matches():
    with pytest.raises(InvalidFilter):
        matches(parse_filter('nope eq "x"'), BARBARA, USER)


def test_element_matches_for_patch_value_filters():
    emails = USER_SCHEMA.attribute("emails")
    work = parse_patch_path('emails[type eq "WORK"]').value_filter
    assert element_matches(work, {"type": "work", "value": "a@b"}, emails)
    assert not element_matches(work, {"type": "home"}, emails)
    members = GROUP.schema.attribute("members")
    one = parse_patch_path('members[value eq "u1"]').value_filter
    assert element_matches(one, {"value": "u1"}, members)
    assert not element_matches(one, {"value": "U1"}, members)
    with pytest.raises(InvalidFilter, match="'nope' is not a sub-attribute of 'members'"):
        element_matches(parse_filter('nope eq "x"'), {"value": "u1"}, members)


# --- PATCH paths (RFC 7644 §3.5.2) ----------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("displayName", PatchPath(path("displayName"))),
    ("name.givenName", PatchPath(path("name", "givenName"))),
    ("members", PatchPath(path("members"))),
    ('members[value eq "2819c223"]', PatchPath(path("members"), eq("value", "2819c223"))),
    ('emails[type eq "work"].value', PatchPath(path("emails"), eq("type", "work"), "value")),
    ('addresses[type eq "work"].streetAddress', PatchPath(path("addresses"), eq("type", "work"), "streetAddress")),
    ('members[value eq "a" or value eq "b"]', PatchPath(path("members"), Or(eq("value", "a"), eq("value", "b")))),
    (f"{ENTERPRISE_USER_URN}:manager", PatchPath(AttrPath(ENTERPRISE_USER_URN, "manager"))),
    (f"{ENTERPRISE_USER_URN}:department", PatchPath(AttrPath(ENTERPRISE_USER_URN, "department"))),
    (f"{ENTERPRISE_USER_URN}:manager.value", PatchPath(AttrPath(ENTERPRISE_USER_URN, "manager", "value"))),
    (f'{USER_URN}:emails[type eq "work"].value', PatchPath(AttrPath(USER_URN, "emails"), eq("type", "work"), "value")),
])
def test_rfc7644_3_5_2_patch_paths(text, expected):
    assert parse_patch_path(text) == expected


@pytest.mark.parametrize(("text", "detail"), [
    ("", "expected an attribute path at position 0"),
    ("name..givenName", "invalid attribute path 'name..givenName'"),
    ('emails[type eq "work"', "unclosed '['"),
    ('emails[type eq "work"].value.x', "expected a sub-attribute name after '.'"),
    ('emails[type eq "work"]x', "expected '.' and a sub-attribute or the end of the path at position 22, found 'x'"),
    ("name givenName", "expected '[' or the end of the path at position 5, found 'givenName'"),
    ('name.givenName[type eq "w"]', "not the sub-attribute 'name.givenName'"),
    ('emails[ims[type pr]]', "value filters cannot be nested"),
])
def test_invalid_patch_paths_raise_invalid_path(text, detail):
    with pytest.raises(InvalidPath) as raised:
        parse_patch_path(text)
    assert detail in raised.value.detail
