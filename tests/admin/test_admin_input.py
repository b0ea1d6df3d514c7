"""Hostile input on the admin side: a NUL character in an address is the site's 400 page, and
in a form field that field's error, on both databases; and generated path ids and query values
(hypothesis) never make a page fail, on any page, signed in (tests/page_inputs.py; every hostile
value on every page: tests/system/test_admin_pages.py)."""
from __future__ import annotations

import pytest

from jericho.extensions import db
from jericho.storage.models import AdminUser, Organization, ScimToken

from page_inputs import ARGUMENT, check_generated, directory, get_rules, pages_of, path_of, real_values  # noqa: F401
from status_helpers import admin  # noqa: F401 (fixture)

NUL_MESSAGE = "Remove the NUL character from this field"


def test_a_nul_in_any_path_argument_or_query_value_is_the_sites_400_page(app, directory, admin):
    for rule in get_rules(app):
        values = real_values(rule, directory)
        for converter, argument in ARGUMENT.findall(rule.rule):
            if converter != "int":  # not a number: routing answers 404 before any page sees it
                path = path_of(rule, {**values, argument: "a\x00b"})
                assert admin.get(path).status_code == 400, path
        path = path_of(rule, values)
        for query in ("q=%00", "page=1%00", "%00=1", "after=2026-01-01T00:00:00.000000~1%00"):
            response = admin.get(f"{path}?{query}")
            assert response.status_code == 400, (path, query)
            assert response.mimetype == "text/html" and "NUL character" in response.text


def test_an_export_with_a_nul_is_refused_before_it_starts(admin, directory):
    for path in ("/status/export/users.csv?q=%00", "/status/export/log.csv?q=ava%00", "/status/export/users.csv?group=%00"):
        response = admin.get(path)
        assert response.status_code == 400 and response.mimetype == "text/html", path


def test_scim_answers_its_own_nul_errors(scim):
    response = scim.get("/Users/%00")
    assert response.status_code == 404 and response.mimetype == "application/scim+json"


def test_a_nul_typed_into_the_sign_in_form_is_a_field_error(client, auth):
    auth.create()
    for data in ({"email": "it@contoso.com\x00", "password": "x"}, {"email": "it@contoso.com", "password": "a\x00"}):
        response = client.post("/sign-in", data=data)
        assert response.status_code == 200 and NUL_MESSAGE in response.text


def test_a_nul_typed_into_the_first_run_form_creates_nothing(app, client):
    response = client.post("/setup", data={
        "setup_code": "x", "organization": "Contoso\x00", "email": "it@contoso.com",
        "password": "correct horse battery", "confirm": "correct horse battery"})
    assert response.status_code == 200 and NUL_MESSAGE in response.text
    with app.app_context():
        assert db.session.execute(db.select(db.func.count()).select_from(Organization)).scalar_one() == 0
        assert db.session.execute(db.select(db.func.count()).select_from(AdminUser)).scalar_one() == 0


@pytest.mark.parametrize("path", ["/tokens", "/wizard/step/3/token"])
def test_a_nul_typed_into_a_token_label_issues_no_token(app, directory, admin, path):
    response = admin.post(path, data={"label": "Entra\x00", "old_tokens": "keep"})
    assert response.status_code == 200 and NUL_MESSAGE in response.text
    with app.app_context():
        assert db.session.execute(db.select(db.func.count()).select_from(ScimToken)).scalar_one() == 1


def test_revoking_a_token_named_with_a_nul_is_refused(app, directory, admin):
    assert admin.post("/tokens/%00/revoke").status_code == 400
    assert admin.post(f"/tokens/{directory['prefix']}%00/revoke").status_code == 400
    with app.app_context():
        assert db.session.execute(db.select(ScimToken.revoked_at)).scalar_one() is None


def test_no_page_fails_on_generated_paths_and_query_strings(app, directory, admin):
    check_generated(pages_of(app, admin, directory), admin, max_examples=100)
