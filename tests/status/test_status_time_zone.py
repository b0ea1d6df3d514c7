"""The status pages show times in each admin's own time zone, with its offset from UTC, even where
a page is kept between views; exports stay in UTC."""
import csv
import io
import re

import pytest

from status_helpers import TEST_CONNECTION, admin, page_text, provision_group, provision_user  # noqa: F401 (fixtures)

# India keeps one offset all year, so what the pages say does not depend on the date.
KOLKATA = "UTC+5:30"
PAGES = ("/status/", "/status/?range=7d", "/status/users", "/status/groups", "/status/log")


@pytest.fixture
def in_kolkata(app, auth, scim):
    """A second Contoso admin, who reads times in Asia/Kolkata, signed in with a client of their own."""
    client = app.test_client()
    auth.create(email="ops@contoso.com")
    auth.sign_in(email="ops@contoso.com", client=client)
    assert client.post("/account/time-zone", data={"time_zone": "Asia/Kolkata"}).status_code == 302
    return client


@pytest.fixture
def directory(scim):
    scim.get(TEST_CONNECTION)
    users = [provision_user(scim, f"user{i}@contoso.com") for i in range(3)]
    provision_group(scim, "Finance", [user["id"] for user in users])


def test_each_admin_reads_the_status_pages_in_their_own_time_zone(admin, in_kolkata, directory, clock):
    for path in PAGES:
        utc_page, kolkata_page = admin.get(path).text, in_kolkata.get(path).text
        assert KOLKATA in kolkata_page and KOLKATA not in utc_page, path
        # The machine-readable time stays UTC.
        assert re.search(r'<time datetime="[^"]+\+00:00">[^<]*UTC\+5:30</time>', kolkata_page), path
    dashboard = page_text(in_kolkata.get("/status/"))
    assert re.search(r"Entra's last request arrived at \d\d:\d\d UTC\+5:30\.", dashboard)
    assert "Times in Asia/Kolkata; one bar per 30 minutes." in dashboard
    assert "Times in UTC; one bar per 30 minutes." in page_text(admin.get("/status/"))


def test_exports_stay_in_utc(in_kolkata, directory):
    for path in ("/status/export/log.csv", "/status/export/users.csv"):
        body = in_kolkata.get(path).get_data(as_text=True)
        assert KOLKATA not in body, path
    rows = list(csv.DictReader(io.StringIO(in_kolkata.get("/status/export/log.csv").get_data(as_text=True).lstrip("\ufeff"))))
    assert rows and all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", row["time"]) for row in rows)
