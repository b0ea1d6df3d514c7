"""Webhook signatures: `Jericho-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`,
keyed with the endpoint's signing secret (the whole `jwh_…` text). The timestamp is signed with
the body, so a receiver that refuses old timestamps also refuses a replayed delivery.

The secret is derived from the server's SECRET_KEY and a random salt kept with the endpoint
(SECURITY.md, "Webhook signing secrets"): the server can sign with it at every delivery, while the
database alone does not hold it. Pure functions, no Flask, no database."""
from __future__ import annotations

import hashlib
import hmac
import secrets

SECRET_PREFIX = "jwh_"
SIGNATURE_VERSION = "v1"


def new_salt() -> str:
    return secrets.token_hex(16)


def derive_secret(secret_key: str, salt: str) -> str:
    """The endpoint's signing secret: 256 bits that only SECRET_KEY and the salt together give."""
    digest = hmac.new(secret_key.encode(), f"jericho webhook signing secret:{salt}".encode(), hashlib.sha256)
    return SECRET_PREFIX + digest.hexdigest()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The value of the Jericho-Signature header."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},{SIGNATURE_VERSION}={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, *, now: int, tolerance: int = 300) -> bool:
    """What a receiver does (README shows it in three lines): the signature matches, compared in
    constant time, and its timestamp is within `tolerance` seconds of `now`."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    timestamp = parts.get("t", "")
    if not timestamp.isdigit() or abs(now - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, int(timestamp), body), f"t={timestamp},{SIGNATURE_VERSION}={parts.get(SIGNATURE_VERSION, '')}")
