"""The one severity model of the setup guide and the sync status pages, on plain values, and the
words every provider must have for it."""
import pytest

from jericho.providers import PROVIDERS
from jericho.providers.severity import Level, Severity, Traffic, severity_of, worst
from jericho.storage.cause_rules import CAUSE_KEYS, cause_key


@pytest.mark.parametrize("traffic, expected", [
    # All is well.
    (Traffic(requests=95), Severity(Level.NEUTRAL)),
    # One duplicate userName among many successes: the provider retries it, and it fails the same
    # way until the admin fixes the duplicate. Provisioning runs: amber, never red.
    (Traffic(requests=95, failures={"user_conflict": 1}), Severity(Level.AMBER, 1, "user_conflict")),
    (Traffic(requests=100, failures={"user_conflict": 9}), Severity(Level.AMBER, 9, "user_conflict")),
    # From a tenth of the requests on, provisioning is failing.
    (Traffic(requests=100, failures={"user_conflict": 6, "rejected_value": 4}),
     Severity(Level.RED, 10, "user_conflict")),
    # The organization's token refused, an error in this server, a provider gone silent: broken or stuck.
    (Traffic(requests=500, failures={"revoked_token": 1}, refused_now=True), Severity(Level.RED, 1, "revoked_token")),
    (Traffic(requests=1000, failures={"server_error": 1}), Severity(Level.RED, 1, "server_error")),
    (Traffic(requests=10, silent=True), Severity(Level.RED)),
    # What a retry fixes by itself: busy (429, 503), changed meanwhile, deleted already.
    (Traffic(requests=10, failures={"busy": 5, "changed_meanwhile": 1, "already_deleted": 3}), Severity(Level.NEUTRAL)),
    (Traffic(requests=100, failures={"busy": 50, "missing_member": 1}), Severity(Level.AMBER, 1, "missing_member")),
])
def test_severity_of_traffic(traffic, expected):
    assert severity_of(traffic) == expected


@pytest.mark.parametrize("status, key", [(429, "busy"), (503, "busy"), (500, "server_error"), (502, "server_error")])
def test_busy_is_a_cause_of_its_own(status, key):
    assert cause_key(status=status, operation="create", resource_type="User", scim_type=None, error_detail=None) == key
    assert severity_of(Traffic(requests=20, failures={key: 1})).level is (Level.NEUTRAL if key == "busy" else Level.RED)


@pytest.mark.parametrize("busy, level", [(10, Level.NEUTRAL), (11, Level.RED), (20, Level.RED)])
def test_most_requests_answered_busy_is_stuck(busy, level):
    """A passing load is retried by the provider; most requests refused as busy (a rate limit set
    too low, a database that stays locked) is a server that cannot keep up."""
    severity = severity_of(Traffic(requests=20, failures={"busy": busy}))
    assert severity.level is level
    assert severity.cause == ("busy" if level is Level.RED else None)


def test_the_worst_level_wins():
    assert worst([Level.NEUTRAL, Level.AMBER, Level.NEUTRAL]) is Level.AMBER
    assert worst([Level.AMBER, Level.RED]) is Level.RED
    assert worst([]) is Level.NEUTRAL


@pytest.mark.parametrize("provider", PROVIDERS.values(), ids=PROVIDERS)
def test_every_provider_words_every_cause(provider):
    assert set(provider.causes) == set(CAUSE_KEYS)
    for words in provider.causes.values():
        assert words.title and words.fix.endswith(".")


def test_each_provider_speaks_only_of_itself():
    for provider in PROVIDERS.values():
        others = [other.short_name for other in PROVIDERS.values() if other is not provider]
        texts = [text for words in provider.causes.values() for text in (words.title, words.fix)]
        texts += [value for value in vars(provider.sync).values() if isinstance(value, str)]
        for other in others:
            assert not [text for text in texts if other in text], other
