"""/api/v1: the directory for the product that consumes it — users, groups and their members, and
the events feed — read with an API key (`Authorization: Bearer jak_…`), never a SCIM token.

The key decides the organization; every read is scoped to it. Lists page by cursor: `limit`, and
`after` set to the `next` of the page before. Answers and errors are JSON; an error is
{"error": <code>, "message": <what to do>}, never a traceback.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NoReturn

from flask import Blueprint, Flask, Response, current_app, g, json, request

from ..errors import ApiError
from ..extensions import csrf
from ..scim.errors import TooManyRequests
from ..security import IdCipher, id_cipher
from ..storage import directory, events
from ..storage.api_keys import api_key_by_secret, api_key_touch
from ..storage.models import utcnow
from ..urls import API_PREFIX, is_api_request
from . import rate_limits

bp = Blueprint("api_v1", __name__, url_prefix=API_PREFIX)

MAX_CURSOR_DIGITS = 18  # fits a BIGINT
MAX_KEY = 2**63 - 1  # a BIGINT's most, and SQLite's


@dataclass(frozen=True)
class Consumer:
    """The API key of the request, as authentication found it."""

    key_id: int
    organization_id: int
    last_used_at: datetime | None
    last_poll_at: datetime | None


def init_app(app: Flask) -> None:
    csrf.exempt(bp)  # bearer-key API, no cookies
    app.register_blueprint(bp)
    app.before_request(authenticate)
    app.after_request(_no_store)


# -- authentication --------------------------------------------------------------------------


def authenticate() -> None:
    """`Authorization: Bearer <API key>` names the organization (RFC 6750). A SCIM token is not an
    API key: it is refused here, as an API key is refused under /scim_v2."""
    if not is_api_request():
        return
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        _refuse("send an API key: Authorization: Bearer jak_…")
    key = api_key_by_secret(secret.strip())
    if key is None:
        _refuse("unknown API key")
    if not key.is_active:
        _refuse("this API key is revoked")
    g.consumer = Consumer(key.id, key.organization_id, key.last_used_at, key.last_poll_at)
    try:
        rate_limits.limit_api_key(key.id, now=utcnow())
    except TooManyRequests as error:
        _too_many(error)


def _refuse(message: str) -> NoReturn:
    """401, or 429 once this client address has failed too often (rate_limits)."""
    try:
        rate_limits.limit_failed_authentication(request.remote_addr, now=utcnow())
    except TooManyRequests as error:
        _too_many(error)
    raise ApiError(401, message)


def _too_many(error: TooManyRequests) -> NoReturn:
    raise ApiError(429, error.detail, headers={"Retry-After": str(error.retry_after)})


def _organization_id() -> int:
    return g.consumer.organization_id


def _record_use(polled_seq: int | None = None) -> None:
    """The key's last use, and with `polled_seq` its last poll of the feed: written at most once
    per TOKEN_LAST_USED_RESOLUTION_SECONDS, so reading costs no write per request."""
    consumer: Consumer = g.consumer
    now = utcnow()
    resolution = current_app.config["TOKEN_LAST_USED_RESOLUTION_SECONDS"]

    def stale(moment: datetime | None) -> bool:
        return moment is None or now - moment >= timedelta(seconds=resolution)

    if stale(consumer.last_used_at) or (polled_seq is not None and stale(consumer.last_poll_at)):
        api_key_touch(key_id=consumer.key_id, now=now, resolution_seconds=resolution, polled_seq=polled_seq)


# -- the directory -----------------------------------------------------------------------------


@bp.get("/users")
def users():
    page = directory.users_page(
        _organization_id(), after=_page_cursor(), limit=_limit(), active=_flag("active"),
        group_id=request.args.get("group"),
    )
    if page is None:
        raise ApiError(404, f"no group with id {request.args['group']!r}")
    return _page(page)


@bp.get("/users/<scim_id>")
def user(scim_id: str):
    return _answer(_found(directory.user_get(_organization_id(), scim_id), "user", scim_id))


@bp.get("/groups")
def groups():
    return _page(directory.groups_page(_organization_id(), after=_page_cursor(), limit=_limit()))


@bp.get("/groups/<scim_id>")
def group(scim_id: str):
    return _answer(_found(directory.group_get(_organization_id(), scim_id), "group", scim_id))


@bp.get("/groups/<scim_id>/members")
def group_members(scim_id: str):
    page = directory.users_page(_organization_id(), after=_page_cursor(), limit=_limit(), active=_flag("active"),
                                group_id=scim_id)
    return _page(_found(page, "group", scim_id))


# -- the events feed ---------------------------------------------------------------------------


@bp.get("/events")
def events_feed():
    after = _event_cursor()
    try:
        feed = events.events_after(_organization_id(), after=after, limit=_limit())
    except events.CursorExpired:
        raise ApiError(410, (
            f"the events after cursor {after} are no longer kept: resynchronise from /api/v1/users and "
            "/api/v1/groups, then follow the feed from the cursor that GET /api/v1/events/latest gave just "
            "before that read"
        ), code="cursor_expired") from None
    except events.CursorUnknown:
        raise ApiError(400, f"cursor {after} is past the last event: use a cursor this feed gave",
                       code="invalid_cursor") from None
    _record_use(polled_seq=feed.next)
    body = (f'{{"data":[{",".join(feed.events)}],"next":{json.dumps(str(feed.next))},'
            f'"hasMore":{json.dumps(feed.has_more)}}}')
    return Response(body, mimetype="application/json")


@bp.get("/events/latest")
def events_latest():
    """The cursor of the last event: read it before a full read of the directory, then follow the
    feed from it, and no change is missed."""
    return _answer({"cursor": str(events.events_latest(_organization_id()))})


# -- helpers -------------------------------------------------------------------------------------


def _page_cursor() -> int | None:
    """The key that a page of users or groups begins after, from the `next` of the page before.
    Their keys count every organization's users and groups, so `next` carries a key through a
    keyed permutation: as it is, it would tell a consumer how many the others add."""
    value = _after()
    if value is None:
        return None
    key = _page_keys().reveal(value)
    if key is None or key > MAX_KEY:
        raise _invalid_cursor(value)
    return key


def _event_cursor() -> int | None:
    """An event's number, which counts the organization's own events only."""
    value = _after()
    if value is None:
        return None
    if not (value.isascii() and value.isdigit() and len(value) <= MAX_CURSOR_DIGITS):
        raise _invalid_cursor(value)
    return int(value)


def _after() -> str | None:
    return request.args.get("after") or None


def _invalid_cursor(value: str) -> ApiError:
    return ApiError(400, f"after must be a cursor this API gave (the `next` of a page), not {value[:40]!r}",
                    code="invalid_cursor")


def _page_keys() -> IdCipher:
    return id_cipher(current_app.config["SECRET_KEY"], "api page cursors")


def _limit() -> int:
    """The page size asked for; more than API_MAX_PAGE_SIZE gives that many."""
    config = current_app.config
    value = request.args.get("limit")
    if value is None or value == "":
        return config["API_DEFAULT_PAGE_SIZE"]
    if not (value.isascii() and value.isdigit() and len(value) <= 9 and int(value) > 0):
        raise ApiError(400, f"limit must be a whole number from 1 to {config['API_MAX_PAGE_SIZE']}, not {value[:40]!r}")
    return min(int(value), config["API_MAX_PAGE_SIZE"])


def _flag(name: str) -> bool | None:
    value = request.args.get(name)
    if value is None or value == "":
        return None
    flag = {"true": True, "false": False}.get(value.lower())
    if flag is None:
        raise ApiError(400, f"{name} must be true or false, not {value[:40]!r}")
    return flag


def _found(value, noun: str, scim_id: str):
    if value is None:
        raise ApiError(404, f"no {noun} with id {scim_id!r}")
    return value


def _page(page: directory.Page) -> Response:
    return _answer({"data": page.data, "next": None if page.next is None else _page_keys().hide(page.next)})


def _answer(payload: dict) -> Response:
    _record_use()
    return Response(json.dumps(payload, ensure_ascii=False), mimetype="application/json")


def _no_store(response: Response) -> Response:
    if is_api_request():  # directory data: no cache on the way may keep it
        response.headers["Cache-Control"] = "no-store"
    return response
