"""What Okta's provisioning sends, where it is worth telling apart ("Okta and SCIM Version 2.0",
Okta's SCIM 2.0 protocol reference). Okta follows RFC 7643/7644 more closely than Entra: no
deviation needs a tolerance of its own. Two of its habits are handled elsewhere and named there:
Group Push renames a group with a path-less replace that repeats the group's `id` (`patch.py`
ignores a readOnly attribute set to the value it has), and Okta never deletes a user, it sets
`active` to false."""
from __future__ import annotations

# Every request in Okta's reference carries `User-Agent: Okta SCIM Client 1.0.0`.
USER_AGENT_PREFIX = "okta scim client"

# "Test Connector Configuration", in the app's Provisioning settings, lists two users.
TEST_CONNECTOR_START_INDEX, TEST_CONNECTOR_COUNT = 1, 2


def is_okta(user_agent: str | None) -> bool:
    return (user_agent or "").strip().lower().startswith(USER_AGENT_PREFIX)


def is_test_connector_request(*, user_agent: str | None, filtered: bool, start_index: int | None,
                              count: int | None) -> bool:
    """Okta's Test Connector Configuration: `GET /Users?startIndex=1&count=2`, unfiltered. Okta's
    import and lookups page by 100 (`count=100`), so no other request of Okta's looks alike."""
    return (is_okta(user_agent) and not filtered
            and start_index == TEST_CONNECTOR_START_INDEX and count == TEST_CONNECTOR_COUNT)
