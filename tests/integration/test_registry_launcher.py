"""The 工作台 launcher shows each user the registered apps meant for them, in one query."""

from __future__ import annotations

import pytest
from django.urls import reverse

from officeapp.integration.models import AppStatus
from officeapp.org.models import Role
from officeapp.workbench.launcher import visible_apps

pytestmark = pytest.mark.django_db


def names(user):
    return {app.name for app in visible_apps(user)}


def test_an_app_without_visibility_is_seen_by_its_owner_agency_only(cast, make_app):
    make_app(cast.finance, name="财务报销系统")
    assert "财务报销系统" in names(cast.other_clerk)
    assert "财务报销系统" not in names(cast.drafter) and "财务报销系统" not in names(cast.outsider)


def test_a_visible_agency_covers_the_agencies_under_it(cast, make_app):
    app = make_app(cast.gov_office, name="行政审批系统")
    app.visible_agencies.add(cast.gov_office.parent)  # the province: everyone
    for user in (cast.drafter, cast.other_clerk, cast.outsider):
        assert "行政审批系统" in names(user)


def test_a_visible_agency_replaces_the_owner_default(cast, make_app):
    app = make_app(cast.gov_office, name="预算系统")
    app.visible_agencies.add(cast.finance)
    assert "预算系统" in names(cast.other_clerk)
    assert "预算系统" not in names(cast.drafter)


def test_a_visible_department_shows_the_app_to_that_department_only(cast, make_app):
    app = make_app(cast.gov_office, name="督查系统")
    app.visible_departments.add(cast.supervision_dept)
    assert "督查系统" in names(cast.supervisor)
    assert "督查系统" not in names(cast.drafter)


def test_visible_roles_narrow_the_agencies(cast, make_app):
    app = make_app(cast.gov_office, name="收发登记", visible_roles=[Role.CLERK])
    app.visible_agencies.add(cast.gov_office.parent)
    assert "收发登记" in names(cast.clerk) and "收发登记" in names(cast.other_clerk)
    assert "收发登记" not in names(cast.drafter)


def test_a_suspended_app_is_hidden(cast, make_app):
    make_app(cast.gov_office, name="人事管理系统", status=AppStatus.SUSPENDED)
    assert "人事管理系统" not in names(cast.drafter)


def test_a_user_without_a_department_sees_no_app(cast, make_app):
    app = make_app(cast.gov_office, name="行政审批系统")
    app.visible_agencies.add(cast.gov_office.parent)
    cast.drafter.department = None
    assert names(cast.drafter) == set()


def test_the_launcher_costs_one_query_however_many_apps(cast, make_app, django_assert_num_queries):
    from officeapp import access

    for i in range(5):
        app = make_app(cast.gov_office, name=f"系统{i}")
        app.visible_agencies.add(cast.gov_office.parent, cast.gov_office)
        app.visible_departments.add(cast.general_dept)
    user = type(cast.drafter).objects.select_related("department__agency").get(pk=cast.drafter.pk)
    access.grants_of(user)
    with django_assert_num_queries(1):
        assert len(visible_apps(user)) == 5


def test_the_workbench_tile_links_to_the_apps_url(cast, make_app, sign_in_verified):
    app = make_app(cast.gov_office, name="行政审批系统", icon="批")
    page = sign_in_verified(cast.drafter).get(reverse("workbench:home")).text
    assert f'href="{app.url}"' in page and "行政审批系统" in page
