"""gunicorn's access log through the app's logger class: a token in the path, the query string, the
request line or a header, percent-encoded or not, is redacted before the line is formatted. (With
a real gunicorn: tests/system/test_servers.py.)"""
from __future__ import annotations

import logging
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from gunicorn.config import Config

from jericho.access_log import RedactingLogger
from jericho.security import generate_token

EVERY_FIELD = '%(r)s|%(U)s|%(q)s|%(f)s|%({authorization}i)s|%({query_string}e)s'


@pytest.fixture
def access_log(tmp_path):
    """A RedactingLogger writing EVERY_FIELD lines to a file; the file's text."""
    config = Config()
    config.set("accesslog", str(tmp_path / "access.log"))
    config.set("access_log_format", EVERY_FIELD)
    yield RedactingLogger(config), lambda: (tmp_path / "access.log").read_text()
    gunicorn_access = logging.getLogger("gunicorn.access")
    for handler in gunicorn_access.handlers[:]:
        handler.close()
        gunicorn_access.removeHandler(handler)


def log_request(logger: RedactingLogger, raw_uri: str, path: str, query: str, headers: dict) -> None:
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": raw_uri, "PATH_INFO": path, "QUERY_STRING": query,
               "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "203.0.113.9",
               **{f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}}
    response = SimpleNamespace(status="404 NOT FOUND", sent=10, headers=[])
    request = SimpleNamespace(headers=[(name.upper(), value) for name, value in headers.items()])
    logger.access(response, request, environ, timedelta(milliseconds=3))


def test_tokens_in_every_field_of_an_access_line_are_redacted(access_log):
    logger, text = access_log
    in_path, in_query, in_header = (generate_token() for _ in range(3))
    encoded = quote(in_query.secret, safe="").replace("_", "%5f")  # as a client might send it, any case
    query = f"access_token={encoded}&twice={in_query.secret.replace('_', '%255F')}&aadOptscim062020"
    log_request(logger, raw_uri=f"/scim_v2/{in_path.secret}/Users?{query}", path=f"/scim_v2/{in_path.secret}/Users",
                query=query, headers={"Authorization": f"Bearer {in_header.secret}",
                                      "Referer": f"https://portal.example/?t={in_path.secret}"})
    line = text()
    assert line.count("|") == EVERY_FIELD.count("|")  # one line, every field written
    for token in (in_path, in_query, in_header):
        assert token.secret.split("_", 2)[2] not in line
        assert token.prefix in line
    assert f"/scim_v2/jer_{in_path.prefix}_[redacted]/Users" in line
    assert f"access_token=jer%5f{in_query.prefix}%5f[redacted]&twice=jer%255F{in_query.prefix}%255F[redacted]" in line
    assert "Bearer jer_" in line and "&aadOptscim062020" in line


def test_a_line_without_a_token_is_written_as_gunicorn_writes_it(access_log):
    logger, text = access_log
    query = "filter=userName%20eq%20%22ava%2B1%40contoso.com%22"
    log_request(logger, raw_uri=f"/scim_v2/Users?{query}", path="/scim_v2/Users", query=query, headers={})
    assert text() == f"GET /scim_v2/Users?{query} HTTP/1.1|/scim_v2/Users|{query}|-|-|{query}\n"
