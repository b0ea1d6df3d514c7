"""Every admin page a browser may GET, taken from the app's URL map, with hostile path ids and query
values: the query parameters are the ones each page reads, recorded as it reads them, so a page
or parameter added later is covered the day it appears. A page answers 200, 302, 308, 400 or
404, and never fails (tests/admin/test_admin_input.py, and at length
tests/system/test_admin_pages.py)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timezone
from urllib.parse import quote

import pytest
from flask import Request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import Rule

from jericho.extensions import db
from jericho.storage.models import ProvisioningEvent, ScimToken
from jericho.urls import API_PREFIX, SCIM_PREFIX

from status_helpers import provision_group, provision_user

# 308: routing's redirect to the path with merged slashes, when a path id holds "/" (%2F).
ANSWERS = {200, 302, 308, 400, 404}
ARGUMENT = re.compile(r"<(?:(\w+):)?(\w+)>")

# Numbers, dates, log cursors and text at and beyond every limit, and values the pages know.
HOSTILE = [
    "\x00", "%00", "", " ", "-1", "0", "1", "1e9", "nan", "١٢٣", "9" * 400, "9" * 5000, str(2**31), str(2**63),
    str(-2**63 - 1), "x" * 5000, "9999-12-31", "9999-12-31T23:59:59.999999", "0001-01-01", "2026-02-30",
    "9999-12-31T23:59:59.999999~1", "0001-01-01T00:00:00.000000~1", f"2026-11-30T10:40:00~{2**31}",
    f"0001-01-01T00:00:00.000000~{2**63 - 1}", "2026-11-30T10:40~0", "2026-11-30T10:40+14:00~1", "~",
    "' OR 1=1 --", '"; DROP TABLE users; --', "../../etc/passwd", "%", "_", "\\", "*", "<script>", "\ufffd",
    "\U0001d518", "a\u202eb", "ava@contoso.com", "Finance", "failed", "create", "User", "Group", "user_conflict",
    "24h", "7d", "all", "deactivated", "deleted", "name", "members",
]
texts = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=30),
    st.integers().map(str),
    st.dates().map(str),
    st.datetimes(timezones=st.sampled_from([None, timezone.utc])).map(lambda moment: moment.isoformat()),
    st.builds(lambda moment, number: f"{moment.isoformat()}~{number}", st.datetimes(), st.integers()),
    st.binary(max_size=8),  # percent-encoded as they are: bytes that are not UTF-8
)


@pytest.fixture
def directory(app, admin, scim) -> dict:
    """Contoso's admin signed in (`admin`), with a user, a group and requests in the log: the
    real value of every path argument, by "<endpoint>.<argument>" or "<argument>"."""
    ava = provision_user(scim, "ava@contoso.com")
    group = provision_group(scim, "Finance", [ava["id"]])
    with app.app_context():
        event_id = db.session.execute(db.select(db.func.max(ProvisioningEvent.id))).scalar_one()
        prefix = db.session.execute(db.select(ScimToken.prefix)).scalar_one()
    return {"status.user.scim_id": ava["id"], "status.group.scim_id": group["id"], "event_id": event_id,
            "number": 8, "prefix": prefix}


def get_rules(app) -> list[Rule]:
    """Every page a browser may GET: not /scim_v2, not the static files."""
    return sorted((rule for rule in app.url_map.iter_rules()
                   if "GET" in rule.methods and rule.endpoint != "static" and not rule.rule.startswith((SCIM_PREFIX, API_PREFIX))),
                  key=lambda rule: rule.rule)


def path_of(rule: Rule, values: dict) -> str:
    """The rule's path with each argument replaced by its value, percent-encoded as a browser would."""
    return ARGUMENT.sub(lambda match: quote(values[match[2]], safe=""), rule.rule)


def real_values(rule: Rule, ids: dict) -> dict[str, str]:
    return {name: str(ids.get(f"{rule.endpoint}.{name}", ids.get(name))) for name in rule.arguments}


def query_of(values: dict) -> str:
    return "&".join(f"{quote(name, safe='')}={quote(value, safe='')}" for name, value in values.items())


class RecordingArgs(ImmutableMultiDict):
    """A query string that notes the name of every parameter a page reads."""

    read: set[str] = set()

    def __getitem__(self, key):
        self.read.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        self.read.add(key)
        return super().__contains__(key)

    def getlist(self, key, type=None):
        self.read.add(key)
        return super().getlist(key, type)


class RecordingRequest(Request):
    parameter_storage_class = RecordingArgs


@dataclass(frozen=True)
class Page:
    rule: Rule
    ids: dict[str, str]  # real values of its path arguments
    parameters: tuple[str, ...]  # what it read of the query string


def pages_of(app, client, ids: dict) -> list[Page]:
    """Every GET page, visited once with real ids to record the query parameters it reads."""
    app.request_class = RecordingRequest
    pages = []
    for rule in get_rules(app):
        RecordingArgs.read = set()
        values = real_values(rule, ids)
        assert_answered(client, path_of(rule, values))
        pages.append(Page(rule, values, tuple(sorted(RecordingArgs.read))))
    read = {name for page in pages for name in page.parameters}
    assert len(pages) > 15 and {"q", "page", "before", "after", "from", "to", "assigned", "next", "range"} <= read
    return pages


def assert_answered(client, path: str) -> None:
    response = client.get(path)
    response.get_data()  # a streamed export fails while it is read
    assert response.status_code in ANSWERS, (path, response.status_code)


def check_generated(pages: list[Page], client, *, max_examples: int) -> None:
    """Pages with generated path ids (or real ones) and generated values in the query parameters
    they read."""

    @settings(max_examples=max_examples, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.data())
    def check(data):
        page = data.draw(st.sampled_from(pages), label="page")
        values = {name: data.draw(st.one_of(st.just(real), st.integers(min_value=0).map(str), texts), label=name)
                  for name, real in page.ids.items()}
        names = st.sampled_from(page.parameters or ("q",))
        query = data.draw(st.dictionaries(names, texts, min_size=1, max_size=4), label="query")
        assert_answered(client, f"{path_of(page.rule, values)}?{query_of(query)}")

    check()


def check_every_hostile_value(pages: list[Page], client) -> None:
    """Each page with each hostile value in each path argument and each query parameter it reads."""
    for page in pages:
        for name in page.ids:
            for value in HOSTILE:
                assert_answered(client, path_of(page.rule, {**page.ids, name: value}))
        path = path_of(page.rule, page.ids)
        for name in page.parameters:
            for value in HOSTILE:
                assert_answered(client, f"{path}?{query_of({name: value})}")
