"""Error responses for the whole app, decided by URL: SCIM Error bodies (RFC 7644 §3.12) under
/scim_v2, JSON under /api/v1, HTML pages elsewhere. Routing 404/405 never reach a blueprint, so
this lives at app level. No response ever carries a traceback."""
from __future__ import annotations

from flask import Flask, Response, current_app, g, json, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.http import HTTP_STATUS_CODES

from .scim.errors import RetryLater, ScimError
from .security import redact_tokens
from .urls import is_api_request, is_scim_request

SCIM_CONTENT_TYPE = "application/scim+json"


class ApiError(Exception):
    """An error of /api/v1, answered as {"error": <code>, "message": <for the developer>}."""

    def __init__(self, status: int, message: str, *, code: str | None = None, headers: dict | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}
        self.code = code or HTTP_STATUS_CODES.get(status, "error").lower().replace(" ", "_")


def init_app(app: Flask) -> None:
    app.register_error_handler(ScimError, scim_error_response)
    app.register_error_handler(ApiError, api_error_response)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected_error)


def api_error_response(error: ApiError) -> Response:
    response = Response(json.dumps({"error": error.code, "message": error.message}), status=error.status,
                        mimetype="application/json", headers=error.headers)
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def scim_error_response(error: ScimError) -> Response:
    g.scim_error = error  # for the provisioning log
    response = Response(json.dumps(error.to_dict()), status=error.status, mimetype=SCIM_CONTENT_TYPE)
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="scim"'
    if isinstance(error, RetryLater) and error.retry_after is not None:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def handle_http_error(error: HTTPException):
    if is_api_request():
        response = api_error_response(ApiError(error.code or 500, error.description or error.name))
    elif is_scim_request():
        response = scim_error_response(ScimError(error.description or error.name, status=error.code or 500))
    else:
        return render_template("error.html", error=error), error.code
    if error.code == 405 and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response


def handle_unexpected_error(error: Exception):
    # A client may have put its token in the path (pasted into the Tenant URL).
    current_app.logger.exception("unhandled error on %s %s", request.method, redact_tokens(request.path))
    return handle_http_error(InternalServerError())
