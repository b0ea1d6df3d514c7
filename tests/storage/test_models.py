"""Model constraints that the SCIM layer relies on, and the app's one clock."""
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from jericho.extensions import db
from jericho.storage.models import Group, Membership, Organization, User

from conftest import START

ROOT = Path(__file__).resolve().parents[2]
WALL_CLOCK = re.compile(r"datetime\.(?:now|utcnow|today)\(|\bdate\.today\(|\btime\.time(?:_ns)?\(")


def make_user(organization, user_name):
    return User(
        organization_id=organization.id,
        user_name=user_name,
        user_name_key=user_name.lower(),
        document={"userName": user_name},
    )


@pytest.fixture
def organizations(app):
    with app.app_context():
        contoso, fabrikam = Organization(name="Contoso"), Organization(name="Fabrikam")
        db.session.add_all([contoso, fabrikam])
        db.session.commit()
        yield contoso, fabrikam


def test_user_name_is_unique_per_organization_case_insensitively(organizations):
    contoso, _ = organizations
    db.session.add(make_user(contoso, "Ava@Contoso.com"))
    db.session.commit()
    db.session.add(make_user(contoso, "ava@contoso.COM"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_the_same_user_name_is_allowed_in_two_organizations(organizations):
    contoso, fabrikam = organizations
    db.session.add_all([make_user(contoso, "ava@contoso.com"), make_user(fabrikam, "ava@contoso.com")])
    db.session.commit()
    assert db.session.execute(db.select(db.func.count(User.pk))).scalar() == 2


def test_group_display_name_is_unique_per_organization_case_insensitively(organizations):
    contoso, fabrikam = organizations

    def group(organization, name):
        return Group(
            organization_id=organization.id,
            display_name=name,
            display_name_key=name.lower(),
            document={"displayName": name},
        )

    db.session.add_all([group(contoso, "Finance"), group(fabrikam, "Finance")])
    db.session.commit()
    db.session.add(group(contoso, "FINANCE"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_a_membership_pair_is_unique_and_goes_with_its_user(organizations):
    contoso, _ = organizations
    user = make_user(contoso, "ava@contoso.com")
    group = Group(
        organization_id=contoso.id, display_name="G", display_name_key="g", document={}
    )
    db.session.add_all([user, group])
    db.session.flush()
    db.session.add(Membership(group_pk=group.pk, user_pk=user.pk))
    db.session.commit()
    db.session.add(Membership(group_pk=group.pk, user_pk=user.pk))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()

    db.session.execute(db.delete(User).where(User.pk == user.pk))  # ON DELETE CASCADE
    db.session.commit()
    assert db.session.execute(db.select(db.func.count()).select_from(Membership)).scalar() == 0


def test_timestamps_are_aware_utc(organizations):
    contoso, _ = organizations
    user = make_user(contoso, "ava@contoso.com")
    db.session.add(user)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(User, user.pk).created_at.utcoffset().total_seconds() == 0


def test_timestamps_come_from_the_apps_clock(organizations, clock):
    contoso, _ = organizations
    clock.advance(minutes=5)
    user = make_user(contoso, "ava@contoso.com")
    db.session.add(user)
    db.session.commit()
    assert user.created_at == user.updated_at == START + timedelta(minutes=5)


def test_only_the_apps_clock_reads_the_wall_clock():
    """Everything else, app and tests alike, takes the time from `storage.models.utcnow`, which
    tests set (conftest's `clock`): no test depends on when it runs."""
    readers = [(str(path.relative_to(ROOT)), line.strip())
               for folder in ("jericho", "tests") for path in sorted((ROOT / folder).rglob("*.py"))
               if path != Path(__file__).resolve()
               for line in path.read_text().splitlines() if WALL_CLOCK.search(line)]
    assert readers == [("jericho/storage/models.py", "return datetime.now(timezone.utc)")]  # wall_clock
