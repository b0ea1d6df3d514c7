"""SCIM bearer tokens: 256 random bits, only their SHA-256 kept and looked up, refused at once when
revoked, and never written anywhere — not in the database, a log line, a provisioning event, an
error body or an error page, even when a client puts it, percent-encoded or not, in a URL.
(gunicorn's access log: test_access_log.py; with real servers: system/test_servers.py and
system/test_concurrency.py.)"""
from __future__ import annotations

import base64
import hashlib
import logging
import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import event, select

from jericho import create_app
from jericho.extensions import db
from jericho.security import API_KEY_SCHEME, TOKEN_SCHEME, IdCipher, generate_token, hash_token, redact_tokens
from jericho.storage import accounts, token_checks
from jericho.storage import resources as storage
from jericho.storage.models import ProvisioningEvent, ScimToken

from conftest import ON_POSTGRES, new_token

TOKEN_PATTERN = re.compile(rf"^{TOKEN_SCHEME}_([0-9a-f]{{8}})_([A-Za-z0-9_-]{{43}})$")


def secret_part(token: str) -> str:
    return TOKEN_PATTERN.match(token)[2]


def test_a_token_carries_256_random_bits():
    tokens = [generate_token() for _ in range(500)]
    for token in tokens:
        assert len(base64.urlsafe_b64decode(secret_part(token.secret) + "=")) == 32
        assert token.secret_hash == hashlib.sha256(token.secret.encode()).hexdigest()
        assert token.secret.startswith(f"{TOKEN_SCHEME}_{token.prefix}_")
    assert len({secret_part(token.secret) for token in tokens}) == len(tokens)
    # Every bit varies: no constant bytes hide in the secret part.
    decoded = [base64.urlsafe_b64decode(secret_part(token.secret) + "=") for token in tokens]
    assert all(len({secret[index] for secret in decoded}) > 100 for index in range(32))


def everything_stored(app) -> str:
    """Every value in every table, as text."""
    with app.app_context():
        rows = []
        for table in db.metadata.sorted_tables:
            rows += [repr(tuple(row)) for row in db.session.execute(select(table))]
        return "\n".join(rows)


def raw_database_bytes(app) -> bytes:
    path = Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
    return b"".join(file.read_bytes() for file in path.parent.glob(path.name + "*"))


def test_only_the_sha256_of_a_token_is_stored(app, client, scim):
    scim.get("/Users")
    scim.post("/Users", json={"userName": "ava@contoso.com"})
    with app.app_context():
        tokens = db.session.execute(select(ScimToken)).scalars().all()
        assert [token.secret_hash for token in tokens] == [hash_token(scim.token)]
    stored = everything_stored(app)
    assert secret_part(scim.token) not in stored and hash_token(scim.token) in stored
    if not ON_POSTGRES:  # the file itself, write-ahead log included
        assert secret_part(scim.token).encode() not in raw_database_bytes(app)


def test_the_database_never_sees_a_presented_token_only_its_hash(app, scim):
    unknown = generate_token().secret
    parameters: list[str] = []

    def capture(connection, cursor, statement, params, context, executemany):
        parameters.append(repr(params))

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", capture)
        try:
            assert scim.get("/Users").status_code == 200
            assert scim.client.get("/scim_v2/Users", headers={"Authorization": f"Bearer {unknown}"}).status_code == 401
        finally:
            event.remove(db.engine, "before_cursor_execute", capture)
    sent = "\n".join(parameters)
    for token in (scim.token, unknown):
        # The lookup is an indexed equality on the hash, done by the database: no comparison
        # on the secret itself, so no timing leak about it.
        assert secret_part(token) not in sent and hash_token(token) in sent


def test_a_revoked_token_is_refused_on_its_next_request(app, scim, other_scim):
    assert scim.get("/Users").status_code == 200
    with app.app_context():
        accounts.token_revoke(prefix=TOKEN_PATTERN.match(scim.token)[1])
    refused = scim.get("/Users")
    assert refused.status_code == 401 and refused.json["detail"] == "revoked token"
    assert refused.headers["WWW-Authenticate"] == 'Bearer realm="scim"'
    assert other_scim.get("/Users").status_code == 200  # only that token


@pytest.fixture
def app_config():
    return {"RATE_LIMIT_FAILED_AUTH_BURST": 2}


def test_no_token_reaches_a_log_an_event_or_an_error_body(app, client, scim, caplog, monkeypatch):
    """Requests of every outcome — 200, 201, 400, 404, 401, 429 and an unexpected 500 — with
    the organization's token, an unknown token and a revoked one."""
    unknown = generate_token().secret
    revoked = new_token(app, "Fabrikam")
    with app.app_context():
        accounts.token_revoke(prefix=TOKEN_PATTERN.match(revoked)[1])

    def broken(*args, **kwargs):
        raise RuntimeError("the disk is on fire")

    caplog.set_level(logging.DEBUG)
    responses = [
        scim.get("/Users"), scim.post("/Users", json={"userName": "ava@contoso.com"}),
        scim.post("/Users", data=b"{", content_type="application/scim+json"), scim.get("/Users/nope"),
        scim.get(f"/Users?filter=userName%20eq%20%22{scim.token}%22"),
    ]
    for token in (unknown, revoked, unknown, revoked):  # the last ones over the failure limit
        responses.append(client.get("/scim_v2/Users", headers={"Authorization": f"Bearer {token}"}))
    monkeypatch.setattr(storage, "resource_search", broken)
    responses.append(scim.get("/Users"))

    assert sorted({response.status_code for response in responses}) == [200, 201, 400, 401, 404, 429, 500]
    server_error = responses[-1]
    assert server_error.json["status"] == "500" and "fire" not in server_error.get_data(as_text=True)
    for token in (scim.token, unknown, revoked):
        for response in responses:
            assert secret_part(token) not in response.get_data(as_text=True)
            assert secret_part(token) not in str(response.headers)
        assert secret_part(token) not in caplog.text
        assert secret_part(token) not in everything_stored(app)
    assert "Bearer" not in caplog.text and "Authorization" not in caplog.text


def test_a_token_put_in_the_url_is_redacted_from_the_provisioning_log(app, scim):
    assert scim.get(f"/Users?access_token={scim.token}&aadOptscim062020").status_code == 200
    with app.app_context():
        path = db.session.execute(select(ProvisioningEvent.path)).scalar_one()
    prefix = TOKEN_PATTERN.match(scim.token)[1]
    assert path == f"/scim_v2/Users?access_token=jer_{prefix}_[redacted]&aadOptscim062020"


def test_a_token_in_the_tenant_url_or_encoded_in_the_query_is_redacted_from_the_log_and_its_export(
        app, scim, auth, client):
    prefix, secret = TOKEN_PATTERN.match(scim.token).groups()
    encoded = scim.token.replace("_", "%5f")
    assert scim.client.get(f"/scim_v2/{scim.token}/Users", headers={"Authorization": f"Bearer {scim.token}"}
                           ).status_code == 404
    assert scim.get(f"/Users?access_token={encoded}&again={scim.token.replace('_', '%255F')}").status_code == 200
    with app.app_context():
        paths = db.session.execute(select(ProvisioningEvent.path).order_by(ProvisioningEvent.id)).scalars().all()
    assert paths == [f"/scim_v2/jer_{prefix}_[redacted]/Users",
                     f"/scim_v2/Users?access_token=jer%5f{prefix}%5f[redacted]&again=jer%255F{prefix}%255F[redacted]"]
    auth.create()
    auth.sign_in()
    export = client.get("/status/export/log.csv").get_data(as_text=True)
    assert f"jer%5f{prefix}%5f[redacted]" in export and secret not in export


def test_a_token_in_the_path_of_a_request_that_fails_is_redacted_from_the_error_log(app, client, caplog, monkeypatch):
    token = new_token(app)
    prefix, secret = TOKEN_PATTERN.match(token).groups()

    def broken(secret_hash):
        raise RuntimeError("the database is gone")

    monkeypatch.setattr(token_checks, "token_by_hash", broken)
    caplog.set_level(logging.ERROR)
    response = client.get(f"/scim_v2/{token}/Users", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 500
    assert f"unhandled error on GET /scim_v2/jer_{prefix}_[redacted]/Users" in caplog.text
    assert secret not in caplog.text


@pytest.mark.parametrize("encode", [
    lambda token: token,
    lambda token: token.replace("_", "%5F"),
    lambda token: token.replace("_", "%5f"),
    lambda token: token.replace("_", "%255F"),
    lambda token: "".join(f"%{ord(character):02x}" for character in token),
    lambda token: "Bearer+" + token[:20] + "".join(f"%25{ord(character):02X}" for character in token[20:]),
], ids=["as is", "encoded", "lowercase hex", "encoded twice", "every character", "partly encoded twice"])
def test_redaction_finds_every_token_in_a_text_however_it_is_encoded(encode):
    first, second = generate_token(), generate_token()
    text = f"/scim_v2/Users?a={encode(first.secret)}&b={encode(second.secret)};{encode(first.secret)}&c=%22%2B1+x%22"
    redacted = redact_tokens(text)
    assert secret_part(first.secret) not in redacted and secret_part(second.secret) not in redacted
    assert unquote(unquote(redacted)).count(f"jer_{first.prefix}_[redacted]") == 2
    assert unquote(unquote(redacted)).count(f"jer_{second.prefix}_[redacted]") == 1
    # Only the secret parts are cut: the rest stays as it was written.
    kept = re.escape(text).replace(re.escape(encode(first.secret)), ".*").replace(re.escape(encode(second.secret)), ".*")
    assert re.fullmatch(kept, redacted) and redacted.endswith("&c=%22%2B1+x%22")


def test_redaction_leaves_a_text_without_a_token_as_it_is():
    for text in ("/scim_v2/Users?filter=userName%20eq%20%22jer_ava%40contoso.com%22", "%", "%25zz+%E2%82%AC", "jer_"):
        assert redact_tokens(text) == text
def test_redaction_finds_every_token_and_api_key_in_a_text():
    first, second = generate_token(), generate_token(API_KEY_SCHEME)
    redacted = redact_tokens(f"a={first.secret}&b={second.secret};{first.secret}")
    assert secret_part(first.secret) not in redacted and second.secret.split("_", 2)[2] not in redacted
    assert redacted.count("[redacted]") == 3 and first.prefix in redacted


def test_error_pages_do_not_echo_request_headers(app, client):
    secret = "Bearer jer_00000000_" + "s" * 43
    for path in ("/no-such-page", "/scim_v2/no-such-endpoint", "/static/../../etc/passwd"):
        response = client.get(path, headers={"Authorization": secret, "Cookie": "session=stolen-cookie"})
        assert response.status_code in (302, 401, 404)
        body = response.get_data(as_text=True)
        assert "s" * 43 not in body and "stolen-cookie" not in body and "Traceback" not in body


def test_the_token_table_is_not_reachable_through_a_filter(scim):
    # Filters are translated attribute by attribute against the schema, never into free SQL.
    for attribute in ("secret_hash", "scim_tokens.secret_hash", "password", "urn:x:secret_hash"):
        response = scim.get(f"/Users?filter={attribute}%20pr")
        assert response.status_code == 400 and response.json["scimType"] == "invalidFilter"


def test_init_keeps_the_instance_folder_private(tmp_path):
    instance = tmp_path / "instance"
    app = create_app({"DATABASE_URL": f"sqlite:///{instance / 'jericho.sqlite3'}"}, instance_path=instance)
    result = app.test_cli_runner().invoke(args=["jericho", "init"])
    assert result.exit_code == 0, result.output
    # The secret key and the SQLite database (the directory, token hashes) live there.
    assert instance.stat().st_mode & 0o777 == 0o700
    assert (instance / "secret_key").stat().st_mode & 0o777 == 0o600


# -- the ids admins see ------------------------------------------------------------------------


@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_a_shown_id_names_one_number_and_only_its_key_reads_it(number):
    cipher = IdCipher("test-secret-key")
    shown = cipher.hide(number)
    assert len(shown) == 16 and cipher.reveal(shown) == number
    assert IdCipher("another-key").reveal(shown) != number


def test_consecutive_ids_are_shown_unrelated_and_junk_reveals_nothing():
    cipher = IdCipher("test-secret-key")
    shown = [cipher.hide(number) for number in range(1, 6)]
    assert len(set(shown)) == 5
    assert sorted(shown) != shown  # no order kept
    assert all(int(text, 16) > 2**32 for text in shown)  # small ids do not stay small
    for junk in ("", "0" * 15, "g" * 16, "0" * 17, "ABCDEF0123456789", "-1"):
        assert cipher.reveal(junk) is None
