"""gunicorn's access log without bearer tokens: a client that puts its token in a URL (pasted into
Entra's Tenant URL, or sent as a query parameter, percent-encoded or not) must not get it into a
log file. gunicorn.conf.py names this module's logger as gunicorn's `logger_class`."""
from __future__ import annotations

from gunicorn.glogging import Logger

from .security import redact_tokens


class RedactingLogger(Logger):
    """gunicorn's logger, with every token redacted from the fields of an access-log line (the
    request line, path, query string, headers and environment) before they are formatted."""

    def atoms(self, resp, req, environ, request_time) -> dict:
        return {name: redact_tokens(value) if isinstance(value, str) else value
                for name, value in super().atoms(resp, req, environ, request_time).items()}
