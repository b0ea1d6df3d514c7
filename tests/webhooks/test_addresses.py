"""Server-side request forgery: the URLs and addresses a webhook may reach."""
import ipaddress

import pytest

from jericho.webhooks import addresses
from jericho.webhooks.addresses import Target, WebhookUrlError, checked_addresses, parse_url, refusal


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1",  # loopback
    "10.0.0.1", "172.16.5.4", "192.168.1.1", "fc00::1", "fd12:3456::1", "100.64.0.1",  # private, shared
])
def test_loopback_and_private_addresses_need_the_setting(address):
    ip = ipaddress.ip_address(address)
    assert "WEBHOOK_ALLOW_PRIVATE_NETWORKS" in refusal(ip, allow_private=False)
    assert refusal(ip, allow_private=True) is None


@pytest.mark.parametrize("address", [
    "169.254.169.254",  # AWS, GCP, Azure, OpenStack metadata
    "169.254.170.2",  # AWS ECS task metadata
    "fd00:ec2::254",  # AWS metadata over IPv6
    "100.100.100.200",  # Alibaba Cloud metadata
    "168.63.129.16",  # Azure host endpoint
    "fe80::1",  # link-local
    "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe", "2002:a9fe:a9fe::1",  # the same, in IPv6 forms
    "0.0.0.0", "::", "224.0.0.1", "ff02::1", "255.255.255.255", "240.0.0.1",  # not one host
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo: the IPv4 address it hides is unknowable
])
def test_link_local_metadata_and_non_unicast_addresses_are_refused_always(address):
    assert refusal(ipaddress.ip_address(address), allow_private=True) is not None


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700:4700::1111", "::ffff:93.184.216.34"])
def test_public_addresses_are_allowed(address):
    assert refusal(ipaddress.ip_address(address), allow_private=False) is None


@pytest.mark.parametrize(("url", "message"), [
    ("", "enter the URL"),
    ("http://hooks.example.com/in", "must start with https://"),
    ("ftp://hooks.example.com/in", "must start with https://"),
    ("hooks.example.com/in", "must start with https://"),
    ("https://user:pass@hooks.example.com/in", "no user name or password"),
    ("https://hooks.example.com/in#top", "#fragment"),
    ("https:///in", "must name a host"),
    ("https://hooks.example.com:99999/in", "port"),
    ("https://hooks.example.com:0/in", "port"),
    ("https://hôoks.example.com/in", "ASCII"),
    ("https://hooks.example.com/in put", "without spaces"),
    ("https://hooks.example.com/\x00", "without spaces"),
    ("https://hooks.example.com/" + "a" * 2000, "at most 2000"),
])
def test_malformed_urls_are_refused_saying_why(url, message):
    with pytest.raises(WebhookUrlError, match=message):
        parse_url(url, allow_private=False)


def test_a_url_s_parts():
    assert parse_url(" https://Hooks.Example.com:8443/in/jericho?tenant=7 ", allow_private=False) == Target(
        "https", "hooks.example.com", 8443, "/in/jericho?tenant=7")
    assert parse_url("http://10.0.0.5", allow_private=True) == Target("http", "10.0.0.5", 80, "/")


def test_a_name_is_refused_if_any_of_its_addresses_is(monkeypatch):
    monkeypatch.setattr(addresses, "resolve", lambda host, port: [
        ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("10.1.1.1")])
    with pytest.raises(WebhookUrlError, match="resolves to 10.1.1.1, a private address"):
        checked_addresses(Target("https", "hooks.example.com", 443, "/"), allow_private=False)


def test_a_name_that_does_not_resolve_is_refused():
    with pytest.raises(WebhookUrlError, match="cannot be resolved"):
        checked_addresses(Target("https", "no-such-host.invalid", 443, "/"), allow_private=False)


def test_an_ip_literal_is_its_own_address():
    with pytest.raises(WebhookUrlError, match="169.254.169.254, a link-local"):
        checked_addresses(parse_url("https://169.254.169.254/latest/meta-data", allow_private=True),
                          allow_private=True)
    with pytest.raises(WebhookUrlError, match="loopback"):
        checked_addresses(parse_url("https://[::1]:8443/", allow_private=False), allow_private=False)
