"""One organization cannot stall the others: a filter has a cost budget, past which it is refused
before it runs (400 invalidFilter), and a request's database work a deadline, past which it is
stopped, its writes rolled back whole, and the client answered 503 with Retry-After."""
from __future__ import annotations

from urllib.parse import quote

import pytest
from sqlalchemy import select

from jericho import config
from jericho.extensions import db
from jericho.scim.errors import ERROR_URN
from jericho.storage.models import ProvisioningEvent

from conftest import ScimClient, make_app, new_token
from deadline_helpers import SLOW, deadline_clock, run, stall  # noqa: F401 (fixture)

TIMEOUT_SECONDS = 3


@pytest.fixture
def app_config():
    return {"SCIM_DATABASE_TIMEOUT_SECONDS": TIMEOUT_SECONDS}


def search(scim, text: str):
    return scim.get("/Users?filter=" + quote(text))


# -- the cost budget (SCIM_MAX_FILTER_COST) ------------------------------------------------------

@pytest.mark.parametrize("term", ['groups eq "g{}"', 'emails co "{}@"', 'title eq "{}"'])
def test_many_expensive_terms_are_refused_before_they_run(scim, term):
    text = " or ".join(term.format(number) for number in range(150))
    response = search(scim, text)
    assert response.status_code == 400 and response.json["scimType"] == "invalidFilter"
    assert f"more than the {config.SCIM_MAX_FILTER_COST} this server allows" in response.json["detail"]


def test_a_filter_at_the_budget_runs(scim):
    assert config.SCIM_MAX_FILTER_COST == 12
    assert search(scim, " or ".join(f'title co "{number}"' for number in range(3))).status_code == 200


def test_the_budget_is_configurable(app, scim):
    app.config["SCIM_MAX_FILTER_COST"] = 1
    assert search(scim, 'userName eq "ava@contoso.com"').status_code == 200
    response = search(scim, 'userName eq "a" or userName eq "b"')
    assert response.status_code == 400 and "more than the 1 this server allows" in response.json["detail"]


# -- the rate of filters dearer than Entra's (RATE_LIMIT_EXPENSIVE_FILTER_*) -------------------------

EXPENSIVE = 'title eq "Analyst" or department eq "Finance"'  # two stored-document reads: 8


def test_an_organizations_expensive_filters_are_held_to_their_own_rate(app, scim, other_scim, clock):
    burst = config.RATE_LIMIT_EXPENSIVE_FILTER_BURST
    second_token = ScimClient(scim.client, new_token(app, "Contoso", "second"))
    answers = [search(client, EXPENSIVE) for client in [scim, second_token] * burst]
    assert [answer.status_code for answer in answers] == [200] * burst + [429] * burst  # one count for both tokens
    refused = answers[-1]
    assert refused.headers["Retry-After"] == "1" and "too many requests" in refused.json["detail"]
    # Their lookups, and another organization's expensive filters, still run.
    assert search(scim, 'userName eq "ava@contoso.com"').status_code == 200
    assert search(other_scim, EXPENSIVE).status_code == 200
    clock.advance(seconds=1 / config.RATE_LIMIT_EXPENSIVE_FILTER_PER_SECOND)
    assert search(scim, EXPENSIVE).status_code == 200


def test_entras_own_filters_never_count_as_expensive(scim):
    entra_filters = ['userName eq "ava@contoso.com"', 'externalId eq "0a1b"', 'displayName eq "Finance"',
                     'emails[type eq "work"].value eq "ava@contoso.com"']
    for _ in range(config.RATE_LIMIT_EXPENSIVE_FILTER_BURST):
        for text in entra_filters:
            assert search(scim, text).status_code == 200, text


# -- the deadline (SCIM_DATABASE_TIMEOUT_SECONDS) ------------------------------------------------

@pytest.fixture
def stall_before(app, deadline_clock, listen):
    """stall_before(prefix): the first statement whose SQL starts with `prefix` is preceded, in its
    transaction, by one that outlasts the request's deadline."""

    def arm(prefix: str) -> None:
        armed = [True]

        def before(connection, cursor, statement, parameters, context, executemany):
            if armed[0] and statement.lstrip().upper().startswith(prefix.upper()):
                armed[0] = False
                stall(deadline_clock, connection)

        listen("before_cursor_execute", before)

    return arm


def assert_timed_out(response) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/scim+json"
    assert response.json["schemas"] == [ERROR_URN] and response.json["status"] == "503"
    assert f"more than {TIMEOUT_SECONDS} seconds of database time" in response.json["detail"]
    assert response.headers["Retry-After"] == str(TIMEOUT_SECONDS)


def test_a_write_that_runs_out_of_time_is_503_and_changes_nothing(app, scim, stall_before):
    users = [scim.post("/Users", json={"userName": f"u{number}@contoso.com"}).json["id"] for number in range(3)]
    group = scim.post("/Groups", json={"displayName": "Finance", "members": [{"value": users[0]}]}).json
    stall_before("INSERT INTO memberships")

    replaced = scim.put(f"/Groups/{group['id']}", json={"displayName": "Treasury",
                                                        "members": [{"value": user} for user in users[1:]]})

    assert_timed_out(replaced)
    stored = scim.get(f"/Groups/{group['id']}").json
    assert stored["displayName"] == "Finance" and stored["meta"]["version"] == group["meta"]["version"]
    assert [member["value"] for member in stored["members"]] == [users[0]]
    with app.app_context():
        logged = db.session.execute(select(ProvisioningEvent).where(ProvisioningEvent.method == "PUT")).scalar_one()
        assert logged.status == 503 and "database time" in logged.error_detail


def test_a_search_that_runs_out_of_time_is_503(scim, stall_before):
    scim.post("/Users", json={"userName": "ava@contoso.com", "title": "Analyst"})
    stall_before("SELECT users.")
    assert_timed_out(search(scim, 'title eq "Analyst"'))
    assert search(scim, 'title eq "Analyst"').json["totalResults"] == 1


def test_the_deadline_ends_with_the_request(app, scim, stall_before, deadline_clock):
    stall_before("SELECT users.")
    assert_timed_out(search(scim, 'title eq "Analyst"'))
    deadline_clock.now += 3600
    with app.app_context():
        assert run(SLOW) >= 1  # as the admin pages and the CLI run theirs


def test_a_stopped_writes_token_is_checked_again_without_the_deadline(scim, stall_before, deadline_clock, listen):
    """The transaction that checked the token rolled back with the stopped write, so the token is
    checked again before the answer leaves; the request is over by then, and that check has no
    deadline (with the deadline passed, any check slower than nothing failed the answer)."""
    user = scim.post("/Users", json={"userName": "ava@contoso.com"}).json["id"]
    group = scim.post("/Groups", json={"displayName": "Finance"}).json["id"]
    stall_before("INSERT INTO memberships")
    checks_after_the_stop = []

    def slow_check(connection, cursor, statement, parameters, context, executemany):
        if deadline_clock.now > 1000 + TIMEOUT_SECONDS and "scim_tokens.revoked_at" in statement:
            checks_after_the_stop.append(statement)
            run(SLOW, connection)

    listen("before_cursor_execute", slow_check)
    assert_timed_out(scim.put(f"/Groups/{group}", json={"displayName": "Finance", "members": [{"value": user}]}))
    assert checks_after_the_stop


@pytest.mark.parametrize("seconds", ["5", -1, 7200, None])
def test_a_wrong_time_limit_stops_the_start(tmp_path, seconds):
    with pytest.raises(ValueError, match="SCIM_DATABASE_TIMEOUT_SECONDS"):
        make_app(tmp_path, SCIM_DATABASE_TIMEOUT_SECONDS=seconds)
