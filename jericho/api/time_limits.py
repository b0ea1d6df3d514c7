"""The database time a request under /scim_v2 may take (SCIM_DATABASE_TIMEOUT_SECONDS), so that
no request, however expensive, holds a server process for long: past it, the statement running
is stopped (storage.database), the request's writes are rolled back whole, and the client is
answered 503 with Retry-After."""
from __future__ import annotations

import math

from flask import Flask, Response, current_app

from ..errors import scim_error_response
from ..scim.errors import ServiceUnavailable
from ..storage.database import StatementTimeout, lift_statement_limit, limit_statements
from ..urls import is_scim_request

SETTING = "SCIM_DATABASE_TIMEOUT_SECONDS"


def init_app(app: Flask) -> None:
    _seconds(app)  # a wrong setting stops the start, not every request later
    app.before_request(_start)  # registered before authentication, whose queries it bounds too
    # After requests run in the reverse order of registration: this lifts the deadline before the
    # provisioning log, registered earlier, stores the request.
    app.after_request(_lift)
    app.teardown_request(lambda error: lift_statement_limit())
    app.register_error_handler(StatementTimeout, _timed_out)


def _seconds(app: Flask) -> float:
    value = app.config[SETTING]
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 3600:
        raise ValueError(f"{SETTING} must be a number of seconds between 0 and 3600, not {value!r}")
    return value


def _start() -> None:
    seconds = current_app.config[SETTING]
    if seconds and is_scim_request():
        limit_statements(seconds)


def _lift(response: Response) -> Response:
    lift_statement_limit()
    return response


def _timed_out(error: StatementTimeout) -> Response:
    # The request is over. What still runs before its answer leaves (the token's check, whose
    # transaction rolled back with the work) must not meet the deadline that has passed.
    lift_statement_limit()
    seconds = current_app.config[SETTING]
    # RFC 7644 §3.12 answers with the HTTP status that fits (RFC 7231 §6) and keeps scimType for
    # 400s. The request broke no rule that a 400 could name (filters over their cost are refused
    # before they run); this server gave it all the time one request gets, perhaps while another
    # organization kept it busy. So 503, which asks for a retry later (RFC 9110 §15.6.4).
    return scim_error_response(ServiceUnavailable(
        f"the request needed more than {seconds:g} seconds of database time and was stopped; "
        "nothing was changed: retry it later",
        retry_after=max(math.ceil(seconds), 1),
    ))
