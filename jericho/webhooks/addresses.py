"""Where a webhook may be sent: the URL's form, and the addresses its host resolves to.

Server-side request forgery is the risk: an admin of one organization types a URL, and the server
posts to it from inside its own network. So a URL must be https (plain http only where private
networks are allowed), name a host, and carry no credentials; and every address the host
resolves to must be public. Loopback and private addresses are allowed only with
WEBHOOK_ALLOW_PRIVATE_NETWORKS (consumers on the same premises, tests). Link-local addresses and
the cloud metadata services are refused always: they hand out the host's credentials.

The check runs when an endpoint is added and again at every delivery, after resolving the name;
the delivery then connects to the address that was checked (transport.py), so a DNS answer that
changes between the check and the connection cannot reach another address. No Flask, no database.
"""
from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL_LENGTH = 2000

# Instance metadata services, outside the link-local range that is refused anyway: AWS over IPv6,
# Alibaba Cloud, and Azure's host endpoint (WireServer).
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(text) for text in (
    "fd00:ec2::254", "100.100.100.200", "168.63.129.16",
))
# RFC 6598 shared address space (carrier-grade NAT): not global, though Python's is_private says no.
SHARED_ADDRESS_SPACE = ipaddress.ip_network("100.64.0.0/10")
# RFC 6052 NAT64: the IPv4 address is in the last 32 bits.
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class WebhookUrlError(ValueError):
    """A URL or address that webhooks may not reach; the message says why, for the admin."""


@dataclass(frozen=True)
class Target:
    """A checked URL, in the parts a connection needs."""

    scheme: str
    host: str  # for DNS, the Host header and TLS (SNI, certificate)
    port: int
    path: str  # with the query string


def parse_url(url: str, *, allow_private: bool) -> Target:
    """The URL's parts, or WebhookUrlError saying what is wrong with it."""
    url = url.strip()
    if not url:
        raise WebhookUrlError("enter the URL of the endpoint")
    if len(url) > MAX_URL_LENGTH or not url.isascii() or not url.isprintable() or " " in url:
        raise WebhookUrlError(
            f"the URL must be at most {MAX_URL_LENGTH} characters, without spaces, and with an ASCII host name "
            "(use the punycode form, xn--…, of an international one)"
        )
    parts = urlsplit(url)
    allowed = ("https", "http") if allow_private else ("https",)
    if parts.scheme.lower() not in allowed:
        raise WebhookUrlError("the URL must start with https:// (the events carry people's names and addresses)")
    if parts.username is not None or parts.password is not None:
        raise WebhookUrlError("put no user name or password in the URL: receivers check the signature instead")
    if parts.fragment:
        raise WebhookUrlError("the URL must not have a #fragment")
    if not parts.hostname:
        raise WebhookUrlError("the URL must name a host")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise WebhookUrlError("the URL's port must be a number from 1 to 65535")
    port = port or (443 if parts.scheme.lower() == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme.lower(), parts.hostname, port, path)


def refusal(address: Address, *, allow_private: bool) -> str | None:
    """Why a webhook may not connect to `address`, or None when it may."""
    if isinstance(address, ipaddress.IPv6Address):
        # An IPv6 form of an IPv4 address is judged as that IPv4 address.
        embedded = address.ipv4_mapped or address.sixtofour or (
            ipaddress.IPv4Address(int(address) & 0xFFFFFFFF) if address in NAT64 else None
        )
        if embedded is not None:
            return refusal(embedded, allow_private=allow_private)
        if address.teredo:
            return "a Teredo tunnel address"
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if address.is_link_local:
        return "a link-local address (cloud metadata services live there)"
    if address.is_loopback:  # before "reserved": IPv6's ::1 is both
        kind = "a loopback address (this server itself)"
    elif address.is_multicast or address.is_unspecified or address.is_reserved:
        return "not an address of one host"
    elif address.is_private or address in SHARED_ADDRESS_SPACE or not address.is_global:
        kind = "a private address"
    else:
        return None
    return None if allow_private else kind + "; set WEBHOOK_ALLOW_PRIVATE_NETWORKS=1 to allow it"


def resolve(host: str, port: int) -> list[Address]:
    """Every address of `host`, in the resolver's order (an IP literal is its own address)."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise WebhookUrlError(f"{host} cannot be resolved ({error})") from None
    # IPv6 scope ids ("fe80::1%eth0") are dropped: such addresses are refused anyway.
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%")[0]) for info in found))


def checked_addresses(target: Target, *, allow_private: bool) -> list[Address]:
    """The addresses to connect to; WebhookUrlError when any of them may not be reached (a name
    that resolves to a public and a private address is refused, not half-trusted)."""
    addresses = resolve(target.host, target.port)
    for address in addresses:
        reason = refusal(address, allow_private=allow_private)
        if reason:
            raise WebhookUrlError(f"{target.host} resolves to {address}, {reason}")
    if not addresses:
        raise WebhookUrlError(f"{target.host} has no address")
    return addresses
