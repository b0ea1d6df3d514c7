"""Bearer authentication under /scim_v2 (RFC 6750): the token decides the organization.

Each server process remembers the tokens it has seen (by their SHA-256, never the secret), with
their organization and last use. A known token costs no query of its own: whether it is still
active is checked as the first statement of the request's first transaction
(storage/token_checks.py), so a revocation stops it at once on every process, and a request is
one transaction, not two. A token the process has not seen is looked up by its hash, an indexed
equality that leaks nothing of the secret through timing.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import datetime
from typing import NoReturn

from flask import Flask, Response, current_app, g, request

from ..errors import scim_error_response
from ..scim import okta
from ..scim.errors import TooManyRequests, Unauthorized
from ..security import hash_token
from ..storage import accounts, token_checks
from ..storage.database import lift_statement_limit
from ..storage.models import OKTA, utcnow
from ..storage.token_checks import TokenRefused
from ..urls import is_scim_request
from . import rate_limits

EXTENSION = "jericho.known_tokens"
# Far more tokens than a process serves; past it, the least recently added is forgotten.
MAX_KNOWN_TOKENS = 10_000


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = KnownTokens()
    token_checks.init_app(app)
    app.before_request(authenticate)
    # Registered after the provisioning log's: after-request functions run in reverse order, so
    # the log records the 401 of a token refused here.
    app.after_request(_check_unchecked)
    app.teardown_request(lambda error: token_checks.clear_pending())
    app.register_error_handler(TokenRefused, _token_refused)


@dataclass(frozen=True)
class KnownToken:
    id: int
    organization_id: int
    last_used_at: datetime | None


class KnownTokens:
    """This process's tokens by their hash (kept on the app, so each app has its own)."""

    def __init__(self) -> None:
        self._tokens: dict[str, KnownToken] = {}
        self._lock = threading.Lock()  # a threaded server authenticates from several threads

    def get(self, secret_hash: str) -> KnownToken | None:
        return self._tokens.get(secret_hash)

    def put(self, secret_hash: str, token: KnownToken) -> None:
        with self._lock:
            self._tokens.pop(secret_hash, None)
            if len(self._tokens) >= MAX_KNOWN_TOKENS:
                del self._tokens[next(iter(self._tokens))]
            self._tokens[secret_hash] = token

    def forget(self, token_id: int) -> None:
        with self._lock:
            for secret_hash in [key for key, token in self._tokens.items() if token.id == token_id]:
                del self._tokens[secret_hash]


def authenticate() -> None:
    """`Authorization: Bearer <token>` names the organization. Runs before routing errors are
    raised, so an unknown path with a valid token is logged for its organization."""
    if not is_scim_request():
        return
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        _refuse("missing bearer token")  # the log's wording (app contract)
    secret_hash = hash_token(secret.strip())
    known_tokens: KnownTokens = current_app.extensions[EXTENSION]
    token = known_tokens.get(secret_hash)
    if token is not None:
        token_checks.check_in_first_transaction(token.id, secret_hash)
    else:
        row = token_checks.token_by_hash(secret_hash)
        if row is None:
            _refuse("unknown token")
        g.organization_id, g.token_id = row.organization_id, row.id
        if row.revoked_at is not None:
            _refuse("revoked token")
        token = KnownToken(row.id, row.organization_id, row.last_used_at)
        known_tokens.put(secret_hash, token)
    g.organization_id, g.token_id = token.organization_id, token.id
    now = utcnow()
    rate_limits.limit_token(token.id, now=now)
    resolution = current_app.config["TOKEN_LAST_USED_RESOLUTION_SECONDS"]
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() >= resolution:
        accounts.token_touch(token_id=token.id, now=now, resolution_seconds=resolution)
        known_tokens.put(secret_hash, replace(token, last_used_at=now))
        # Okta names itself (scim/okta.py); Entra sends no User-Agent. Checked with the token's
        # last use, so a busy sync costs no extra write.
        if okta.is_okta(request.headers.get("User-Agent")):
            accounts.organization_provider_seen(organization_id=g.organization_id, provider=OKTA)


def _refuse(detail: str) -> NoReturn:
    raise _refusal(detail)


def _refusal(detail: str) -> Unauthorized | TooManyRequests:
    """401, or 429 once this client address has failed too often (rate_limits)."""
    try:
        rate_limits.limit_failed_authentication(request.remote_addr, now=utcnow())
    except TooManyRequests as error:
        return error
    return Unauthorized(detail)


def _check_unchecked(response: Response) -> Response:
    """A request that began no transaction (discovery, or refused before its work), or whose
    last one rolled back, has its token checked now: whatever it was about to answer, a revoked
    token gets 401."""
    if not token_checks.check_pending():
        return response
    # The request's work is over, and its deadline may be past: that must not stop a moment's
    # check and turn the answer into a 500.
    lift_statement_limit()
    try:
        token_checks.check_now()
    except TokenRefused as refused:
        return _token_refused(refused)
    return response


def _token_refused(refused: TokenRefused) -> Response:
    token_checks.clear_pending()  # refused already: counting the failure must not check again
    current_app.extensions[EXTENSION].forget(g.token_id)
    return scim_error_response(_refusal(refused.reason))
