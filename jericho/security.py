"""Secrets: SCIM bearer tokens and API keys, admin passwords, redirect targets, and the ids
admins see."""
from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

TOKEN_SCHEME = "jer"  # SCIM bearer tokens
API_KEY_SCHEME = "jak"  # read-only keys of /api/v1


@dataclass(frozen=True)
class NewToken:
    prefix: str  # non-secret, shown in the UI
    secret: str  # the whole bearer token, shown once
    secret_hash: str


def generate_token(scheme: str = TOKEN_SCHEME) -> NewToken:
    """A bearer token `<scheme>_<prefix>_<secret>` with a 256-bit secret part; the scheme tells a
    SCIM token from an API key at a glance."""
    prefix = secrets.token_hex(4)
    secret = f"{scheme}_{prefix}_{secrets.token_urlsafe(32)}"
    return NewToken(prefix=prefix, secret=secret, secret_hash=hash_token(secret))


# A token or key anywhere in a text: a client that puts it in a URL must not get it into a log.
_TOKEN_IN_TEXT = re.compile(rf"((?:{TOKEN_SCHEME}|{API_KEY_SCHEME})_[0-9a-f]{{8}}_)[A-Za-z0-9_-]+")
# One character of a text as a URL carries it: percent-encoded (hex in either case, and encoded
# again any number of times, `%255F`), `+` for a space, or as itself.
_URL_CHARACTER = re.compile(r"%(?:25)*([0-9A-Fa-f]{2})|.", re.DOTALL)


def redact_tokens(text: str) -> str:
    """`text` with the secret part of every bearer token replaced; the prefix stays, to tell
    which token it was. A token is found percent-encoded too (`jer%5F…`): it is looked for in the
    decoded text, and its secret part is cut out of the text as it was, whose rest is kept."""
    if "%" not in text:
        return _TOKEN_IN_TEXT.sub(r"\1[redacted]", text)
    characters = list(_URL_CHARACTER.finditer(text))
    decoded = "".join(map(_decoded, characters))  # one character for each of `characters`
    pieces, kept_from = [], 0
    for token in _TOKEN_IN_TEXT.finditer(decoded):
        pieces += [text[kept_from:characters[token.end(1)].start()], "[redacted]"]
        kept_from = characters[token.end() - 1].end()
    return "".join(pieces) + text[kept_from:]


def _decoded(character: re.Match) -> str:
    if character[1] is None:
        return " " if character[0] == "+" else character[0]
    code = int(character[1], 16)
    return chr(code) if code < 0x80 else "\ufffd"  # a byte of a longer UTF-8 character: never in a token


def hash_token(token: str) -> str:
    # A token carries 256 bits of entropy, so a fast unsalted hash is enough to store it safely,
    # and it lets the lookup be an indexed equality on the hash (no timing leak on the secret).
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


# Argon2id: memory-hard, with the library's current recommended parameters.
_password_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _password_hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _password_hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# Spent on unknown accounts so that a failed sign-in takes as long whether or not the email exists.
_DUMMY_HASH = hash_password(secrets.token_urlsafe(16))


def burn_password_check(password: str) -> None:
    verify_password(_DUMMY_HASH, password)


def is_safe_redirect(target: str | None) -> bool:
    """A post-login `next` may only be a path on this site (no scheme, host or `//`)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and "\\" not in target


class IdCipher:
    """A keyed permutation of the numbers below 2**64, shown as 16 hex digits: the ids of the
    provisioning log that admins see in links, cursors and exports. The log's ids count every
    organization's requests; shown as they are, they would tell an admin how much traffic the
    others send. A four-round Feistel network over HMAC-SHA256 makes each shown id name exactly
    one row and read as random, and only this server, knowing the key, turns it back."""

    ROUNDS = 4
    HALF = 32
    MASK = (1 << HALF) - 1

    def __init__(self, secret_key: str, purpose: str = "shown ids") -> None:
        """Ciphers of different purposes show the same number differently."""
        self._key = hmac.new(secret_key.encode(), f"jericho {purpose} v1".encode(), hashlib.sha256).digest()

    def hide(self, number: int) -> str:
        left, right = number >> self.HALF, number & self.MASK
        for round_number in range(self.ROUNDS):
            left, right = right, left ^ self._mix(round_number, right)
        return f"{(left << self.HALF) | right:016x}"

    def reveal(self, text: str) -> int | None:
        """The number `hide` made `text` from; None for text it cannot have made."""
        if len(text) != 16 or not all(c in "0123456789abcdef" for c in text):
            return None
        value = int(text, 16)
        left, right = value >> self.HALF, value & self.MASK
        for round_number in reversed(range(self.ROUNDS)):
            left, right = right ^ self._mix(round_number, left), left
        return (left << self.HALF) | right

    def _mix(self, round_number: int, half: int) -> int:
        digest = hmac.new(self._key, bytes([round_number]) + half.to_bytes(4, "big"), hashlib.sha256).digest()
        return int.from_bytes(digest[:4], "big")


@functools.lru_cache(maxsize=8)
def id_cipher(secret_key: str, purpose: str = "shown ids") -> IdCipher:
    """The cipher for a key and purpose, made once per process rather than on every page."""
    return IdCipher(secret_key, purpose)
