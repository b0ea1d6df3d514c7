"""Webhook signatures: what the sender signs, and the receiver's check that the README shows."""
import hashlib
import hmac
import time

from readme_samples import python_sample, run_sample

from jericho.webhooks.signing import SECRET_PREFIX, derive_secret, signature, verify

SECRET = derive_secret("server secret key", "0123456789abcdef")
BODY = b'{"id":"1","type":"user.created","occurredAt":"2026-03-02T09:00:00.000Z","data":{}}'
NOW = 1_772_442_000


def test_the_header_is_t_and_v1_hmac_sha256_of_t_dot_body():
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert signature(SECRET, NOW, BODY) == f"t={NOW},v1={expected}"


def test_the_readme_receiver_accepts_a_signed_delivery_and_refuses_any_other(monkeypatch):
    """The README's Flask receiver, run as written: its three lines check what the server signs."""
    receiver = run_sample(python_sample("Jericho-Signature"), {'"jwh_…"': repr(SECRET)})["app"].test_client()
    monkeypatch.setattr(time, "time", lambda: NOW + 10)  # the receiver's clock, 10 s after the signing

    def post(body: bytes, header: str) -> int:
        return receiver.post("/jericho", data=body, content_type="application/json",
                             headers={"Jericho-Signature": header}).status_code

    assert post(BODY, signature(SECRET, NOW, BODY)) == 204
    assert post(BODY.replace(b"user.created", b"user.deleted"), signature(SECRET, NOW, BODY)) == 400
    assert post(BODY, signature(derive_secret("another server key", "0123456789abcdef"), NOW, BODY)) == 400
    assert post(BODY, signature(SECRET, NOW - 301, BODY)) == 400  # a replay, signed too long ago


def test_verify_refuses_a_changed_body_another_secret_and_an_old_timestamp():
    header = signature(SECRET, NOW, BODY)
    assert verify(SECRET, header, BODY, now=NOW)
    assert not verify(SECRET, header, BODY.replace(b"user.created", b"user.deleted"), now=NOW)
    assert not verify(derive_secret("server secret key", "another salt"), header, BODY, now=NOW)
    assert not verify(SECRET, header, BODY, now=NOW + 301)
    assert not verify(SECRET, "t=abc,v1=00", BODY, now=NOW)
    assert not verify(SECRET, "", BODY, now=NOW)


def test_secrets_are_derived_from_the_server_key_and_the_salt():
    assert SECRET.startswith(SECRET_PREFIX) and len(SECRET) == len(SECRET_PREFIX) + 64
    assert derive_secret("server secret key", "0123456789abcdef") == SECRET
    assert derive_secret("another server key", "0123456789abcdef") != SECRET
