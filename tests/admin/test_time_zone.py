"""The admin's time zone: chosen from a list without JavaScript, stored with the admin, and used by
every time the admin pages show, while exports stay in UTC."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from jericho.extensions import db
from jericho.storage.accounts import AccountError, admin_time_zone_set
from jericho.storage.models import AdminUser

from conftest import ScimClient, new_token

NOW = datetime(2026, 11, 30, 11, 0, tzinfo=timezone.utc)
PAGE = "/account/time-zone"
GUID_FILTER = "/Users?filter=userName+eq+%227d420df3-9995-4831-a406-ecf8166f5f6a%22"


@pytest.fixture
def admin(client, auth, monkeypatch):
    """Contoso's admin, signed in, reading pages made at NOW."""
    for module in ("jericho.admin.time_zone", "jericho.admin.web"):
        monkeypatch.setattr(f"{module}.utcnow", lambda: NOW)
    auth.create()
    auth.sign_in()
    return client


def time_zone_of(app, email: str = "it@contoso.com") -> str:
    with app.app_context():
        return db.session.execute(db.select(AdminUser.time_zone).where(AdminUser.email == email)).scalar_one()


def test_the_time_zone_page_needs_sign_in(client, auth):
    auth.create()
    assert client.get(PAGE).location.startswith("/sign-in?next=")
    assert client.post(PAGE, data={"time_zone": "Europe/Paris"}).location.startswith("/sign-in?next=")


def test_every_page_names_the_time_zone_in_its_header_and_links_to_it(client, admin):
    for path in ("/wizard", "/tokens", "/status/"):
        assert '<a class="site-zone" href="/account/time-zone">Time zone: UTC</a>' in client.get(path).text
    client.post(PAGE, data={"time_zone": "America/Argentina/Buenos_Aires"})
    assert "Time zone: America/Argentina/Buenos Aires</a>" in client.get("/tokens").text


def test_a_new_admin_reads_utc_and_picks_a_time_zone_from_a_list(app, client, admin):
    page = client.get(PAGE).text
    assert re.search(r'<select [^>]*id="time_zone" name="time_zone">', page)
    assert '<option selected value="UTC">UTC</option>' in page
    assert '<option value="America/Argentina/Buenos_Aires">America/Argentina/Buenos Aires</option>' in page
    assert "It is now <time" in page and "11:00 UTC</time> in UTC" in page

    response = client.post(PAGE, data={"time_zone": "Asia/Kolkata"})
    assert (response.status_code, response.location) == (302, PAGE)
    assert time_zone_of(app) == "Asia/Kolkata"
    page = client.get(PAGE).text
    assert "Times are now shown in Asia/Kolkata." in page
    assert '<option selected value="Asia/Kolkata">' in page
    assert 'datetime="2026-11-30T11:00:00+00:00">16:30 UTC+5:30</time> in Asia/Kolkata' in page


@pytest.mark.parametrize("value", ["Mars/Olympus_Mons", "US/Eastern", "../../etc/passwd", ""])
def test_a_time_zone_not_in_the_list_is_refused(app, client, admin, value):
    response = client.post(PAGE, data={"time_zone": value})
    assert response.status_code == 200
    assert "Not a valid choice" in response.text
    assert time_zone_of(app) == "UTC"


def test_the_time_zone_is_stored_only_by_its_name_in_the_database(app, admin):
    with app.app_context():
        admin_id = db.session.execute(db.select(AdminUser.id)).scalar_one()
        with pytest.raises(AccountError):
            admin_time_zone_set(admin_id=admin_id, time_zone="Europe/Atlantis")
        assert admin_time_zone_set(admin_id=admin_id, time_zone="Europe/Paris").zone.utcoffset(NOW) == timedelta(hours=1)


def test_each_admin_reads_times_in_their_own_time_zone(app, client, auth):
    auth.create()
    auth.create(email="ops@contoso.com")
    auth.sign_in()
    other = app.test_client()
    auth.sign_in(email="ops@contoso.com", client=other)
    client.post(PAGE, data={"time_zone": "America/Bogota"})  # UTC-5 all year: the test runs on any date
    entra = ScimClient(app.test_client(), new_token(app, label="Entra"))
    entra.get(GUID_FILTER)

    # The token was created and used at the real time: its row reads it in each admin's zone.
    mine, theirs = client.get("/tokens").text, other.get("/tokens").text
    assert re.search(r"<time datetime=\"[^\"]+\+00:00\">[^<]*UTC-5</time>", mine)
    assert "UTC-5" not in theirs and re.search(r"<time datetime=\"[^\"]+\+00:00\">[^<]*UTC</time>", theirs)
    # Summaries worked out in Python use the zone too.
    assert re.search(r"Entra&#39;s Test Connection arrived at [^<]*UTC-5 and was answered 200", client.get("/wizard/step/4").text)
