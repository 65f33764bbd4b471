"""Who manages an app: the province-wide 系统管理员 every app, a 单位管理员 their agency's only; the
same 404 for another's app and a missing one."""

from __future__ import annotations

import pytest
from django.http import Http404

from officeapp.integration import access
from officeapp.org.models import Role, RoleGrant

pytestmark = pytest.mark.django_db


def test_the_system_admin_manages_every_app(cast, make_app):
    a, b = make_app(cast.gov_office), make_app(cast.finance, name="财务")
    assert set(access.manageable_apps(cast.system_admin)) == {a, b}
    assert access.get_app_for(cast.system_admin, b.pk) == b


def test_an_agency_admin_manages_only_their_agencys_apps(cast, make_app):
    ours, theirs = make_app(cast.finance), make_app(cast.gov_office, name="办公厅")
    RoleGrant.objects.create(user=cast.other_clerk, role=Role.AGENCY_ADMIN, agency=cast.finance)
    assert list(access.manageable_apps(cast.other_clerk)) == [ours]
    assert access.can_manage(cast.other_clerk, ours) and not access.can_manage(cast.other_clerk, theirs)
    with pytest.raises(Http404) as forbidden:
        access.get_app_for(cast.other_clerk, theirs.pk)
    with pytest.raises(Http404) as missing:
        access.get_app_for(cast.other_clerk, 987654)
    assert str(forbidden.value) == str(missing.value)


def test_an_agency_scoped_system_admin_grant_is_not_the_platform_admin(cast, make_app):
    make_app(cast.finance)
    RoleGrant.objects.filter(user=cast.system_admin).update(agency=cast.gov_office)
    cast.system_admin.refresh_from_db()
    assert not access.is_platform_admin(cast.system_admin)
    assert not access.manageable_apps(cast.system_admin).exists()


@pytest.mark.parametrize("who", ["security_admin", "audit_admin"])
def test_security_and_audit_admins_read_every_call_log_but_manage_nothing(cast, make_app, who):
    app = make_app(cast.finance)
    user = getattr(cast, who)
    assert access.get_app_log_for(user, app.pk) == app
    assert not access.may_manage_any(user)
    with pytest.raises(Http404):
        access.get_app_for(user, app.pk)


@pytest.mark.parametrize("who", ["drafter", "leader", "other_clerk", "outsider"])
def test_people_without_an_admin_role_see_no_app_and_no_log(cast, make_app, who):
    app = make_app(cast.gov_office)
    user = getattr(cast, who)
    assert not access.may_manage_any(user)
    with pytest.raises(Http404):
        access.get_app_log_for(user, app.pk)


def test_a_disabled_agency_admin_manages_nothing(cast, make_app):
    make_app(cast.finance)
    RoleGrant.objects.create(user=cast.other_clerk, role=Role.AGENCY_ADMIN, agency=cast.finance)
    cast.other_clerk.is_active = False
    assert not access.manageable_apps(cast.other_clerk).exists()
