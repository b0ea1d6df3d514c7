"""The SCIM protocol errors (RFC 7644 §3.12): one exception per `scimType`, plus the status-only
errors. Raised anywhere in the protocol core; turned into a response body by exactly one handler."""
from __future__ import annotations

ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error"


class ScimError(Exception):
    status: int = 400
    scim_type: str | None = None

    def __init__(self, detail: str, *, status: int | None = None, scim_type: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status
        if scim_type is not None:
            self.scim_type = scim_type

    def to_dict(self) -> dict:
        # RFC 7644 §3.12: "status" is a string; "scimType" only for the 400/409/403 types it defines.
        body: dict = {"schemas": [ERROR_URN], "status": str(self.status)}
        if self.scim_type is not None:
            body["scimType"] = self.scim_type
        body["detail"] = self.detail
        return body


# RFC 7644 §3.12, Table 9: the "scimType" values.
class InvalidFilter(ScimError):
    scim_type = "invalidFilter"


class TooMany(ScimError):
    scim_type = "tooMany"


class Uniqueness(ScimError):
    status = 409
    scim_type = "uniqueness"


class Mutability(ScimError):
    scim_type = "mutability"


class InvalidSyntax(ScimError):
    scim_type = "invalidSyntax"


class InvalidPath(ScimError):
    scim_type = "invalidPath"


class NoTarget(ScimError):
    scim_type = "noTarget"


class InvalidValue(ScimError):
    scim_type = "invalidValue"


class InvalidVersion(ScimError):
    scim_type = "invalidVers"


class Sensitive(ScimError):
    status = 403
    scim_type = "sensitive"


# RFC 7644 §3.12, Table 8, and the HTTP statuses of §3.1-§3.7 that carry no scimType.
class Unauthorized(ScimError):
    status = 401


class Forbidden(ScimError):
    status = 403


class NotFound(ScimError):
    status = 404


class MethodNotAllowed(ScimError):
    status = 405


class PreconditionFailed(ScimError):
    status = 412


class PayloadTooLarge(ScimError):
    status = 413


class UnsupportedMediaType(ScimError):
    status = 415


class RetryLater(ScimError):
    """An error the client should retry after `retry_after` seconds, sent as Retry-After
    (RFC 9110 §10.2.3)."""

    def __init__(self, detail: str, *, retry_after: int | None = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class TooManyRequests(RetryLater):
    status = 429  # RFC 6585 §4


class InternalError(ScimError):
    status = 500


class NotSupported(ScimError):
    status = 501


class ServiceUnavailable(RetryLater):
    status = 503  # RFC 9110 §15.6.4
