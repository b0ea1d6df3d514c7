"""Error responses for the whole app, decided by URL: SCIM Error bodies (RFC 7644 §3.12) under
/scim_v2, HTML pages elsewhere. Routing 404/405 never reach a blueprint, so this lives at app level.
No response ever carries a traceback."""
from __future__ import annotations

from flask import Flask, Response, current_app, g, json, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from .scim.errors import RetryLater, ScimError
from .urls import is_scim_request

SCIM_CONTENT_TYPE = "application/scim+json"


def init_app(app: Flask) -> None:
    app.register_error_handler(ScimError, scim_error_response)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected_error)


def scim_error_response(error: ScimError) -> Response:
    g.scim_error = error  # for the provisioning log
    response = Response(json.dumps(error.to_dict()), status=error.status, mimetype=SCIM_CONTENT_TYPE)
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="scim"'
    if isinstance(error, RetryLater) and error.retry_after is not None:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def handle_http_error(error: HTTPException):
    if is_scim_request():
        response = scim_error_response(
            ScimError(error.description or error.name, status=error.code or 500)
        )
        if error.code == 405 and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response
    return render_template("error.html", error=error), error.code


def handle_unexpected_error(error: Exception):
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return handle_http_error(InternalServerError())
