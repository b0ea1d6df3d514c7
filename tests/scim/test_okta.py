import pytest

from jericho.scim import okta


@pytest.mark.parametrize(("user_agent", "expected"), [
    ("Okta SCIM Client 1.0.0", True),
    ("okta scim client 2.1", True),
    (" Okta SCIM Client", True),
    (None, False),  # Entra sends none (ENTRA.md §8 #7)
    ("", False),
    ("curl/8.5.0", False),
    ("Mozilla/5.0 (Okta SCIM Client)", False),
])
def test_okta_is_told_by_its_user_agent(user_agent, expected):
    assert okta.is_okta(user_agent) is expected


@pytest.mark.parametrize(("user_agent", "filtered", "start_index", "count", "expected"), [
    ("Okta SCIM Client 1.0.0", False, 1, 2, True),
    ("Okta SCIM Client 1.0.0", False, 1, 100, False),  # an import
    ("Okta SCIM Client 1.0.0", True, 1, 2, False),
    ("Okta SCIM Client 1.0.0", False, None, 2, False),
    ("Okta SCIM Client 1.0.0", False, 3, 2, False),
    (None, False, 1, 2, False),  # the same page asked for by anyone else
])
def test_test_connector_configuration_lists_two_users(user_agent, filtered, start_index, count, expected):
    assert okta.is_test_connector_request(user_agent=user_agent, filtered=filtered, start_index=start_index,
                                          count=count) is expected
