"""load_demo builds the demo province once: realistic size, working demo accounts, 三员 apart."""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from officeapp import access
from officeapp.demo import DEMO_PASSWORD, DEMO_TOTP_SECRETS, demo_accounts, demo_totp_code
from officeapp.org.models import (
    ADMIN_ROLES,
    Agency,
    Delegation,
    Department,
    DirectoryFieldPolicy,
    Portfolio,
    Role,
    User,
)


@pytest.fixture(scope="module")
def province(django_db_setup: Any, django_db_blocker: Any) -> Iterator[str]:
    """Build the province once for this module, inside a transaction rolled back at the end, so that
    no other test module sees it."""
    with django_db_blocker.unblock(), transaction.atomic():
        out = StringIO()
        call_command("load_demo", stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


def test_demo_builds_a_province_of_realistic_size(province: str, db: Any) -> None:
    assert Agency.objects.count() >= 55
    assert 1800 <= User.objects.count() <= 2400
    assert (
        Agency.objects.filter(level="city").values("name").filter(name__endswith="市人民政府").count() == 21
    )
    assert Agency.objects.get(number_prefix="粤府办").name == "广东省人民政府办公厅"
    prefixes = set(Agency.objects.values_list("number_prefix", flat=True))
    assert {"粤府", "粤发改", "粤教", "粤财", "粤人社", "穗府", "穗府办", "深府办"} <= prefixes
    assert "演示省份已建成" in province


def test_every_department_has_a_head(province: str, db: Any) -> None:
    without_head = Department.objects.exclude(kind=Department.Kind.LEADERSHIP).exclude(
        role_grants__role=Role.DEPT_HEAD
    )
    assert list(without_head.values_list("code", flat=True)) == []


def test_agency_tree_paths_follow_parents(province: str, db: Any) -> None:
    for agency in Agency.objects.select_related("parent"):
        expected = (agency.parent.path if agency.parent else "") + f"{agency.pk:07d}."
        assert agency.path == expected


@pytest.mark.parametrize("username", [a[0] for a in demo_accounts()])
def test_every_demo_account_signs_in_with_the_demo_password(
    province: str, db: Any, client: Any, username: str
) -> None:
    user = User.objects.get(username=username)
    assert user.must_change_password is False
    assert client.login(username=username, password=DEMO_PASSWORD)


def test_the_incoming_walkthrough_accounts_hold_the_roles_the_readme_names(province: str, db: Any) -> None:
    from officeapp.demo import WALKTHROUGH_ACCOUNTS

    expected = {
        "ma.xuebin": Role.OFFICE_SECRETARY,
        "feng.jiajuan": Role.OFFICE_DIRECTOR,
        "deng.tingjuan": Role.LEADER,
        "liang.hanyao": Role.DEPT_HEAD,
        "chen.hui": Role.MEETING_ADMIN,
    }
    assert [a.username for a in WALKTHROUGH_ACCOUNTS] == list(expected)
    for account in WALKTHROUGH_ACCOUNTS:
        user = User.objects.select_related("department__agency").get(username=account.username)
        assert user.real_name == account.real_name
        agency = "广东省人民政府办公厅" if account.username == "chen.hui" else "广东省财政厅"
        assert user.department.agency.name == agency
        assert user.role_grants.filter(role=expected[account.username]).exists()


def test_demo_account_with_a_wrong_password_is_refused(province: str, db: Any, client: Any) -> None:
    assert not client.login(username="lin.xiaomei", password="Demo-2026-gx")


def test_each_administrator_holds_exactly_one_admin_role(province: str, db: Any) -> None:
    expected = {"sysadmin": Role.SYSTEM_ADMIN, "secadmin": Role.SECURITY_ADMIN, "auditor": Role.AUDIT_ADMIN}
    for username, role in expected.items():
        user = User.objects.get(username=username)
        assert list(user.role_grants.filter(role__in=ADMIN_ROLES).values_list("role", flat=True)) == [role]
    assert User.objects.filter(role_grants__role__in=ADMIN_ROLES).count() == 3


def test_administrators_have_a_confirmed_totp_device_with_the_demo_secret(province: str, db: Any) -> None:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    for username in DEMO_TOTP_SECRETS:
        device = TOTPDevice.objects.get(user__username=username)
        assert device.confirmed
        assert device.verify_token(demo_totp_code(username))
    assert not TOTPDevice.objects.filter(user__username="lin.xiaomei").exists()


def test_demo_roles_fit_their_descriptions(province: str, db: Any) -> None:
    users = {u.username: u for u in User.objects.filter(username__in=[a[0] for a in demo_accounts()])}
    general_one = Department.objects.get(agency__number_prefix="粤府办", name="综合一处")
    finance = Agency.objects.get(number_prefix="粤财")
    assert users["lin.xiaomei"].department == general_one and users["lin.xiaomei"].position.name == "科员"
    assert access.has_role(users["lin.xiaomei"], Role.DRAFTER, department=general_one)
    assert list(access.dept_heads_of(general_one)) == [users["chen.zhiqiang"]]
    assert access.has_role(users["huang.lihua"], Role.OFFICE_SECRETARY, agency=general_one.agency)
    assert access.has_role(users["zhou.jianguo"], Role.OFFICE_DIRECTOR, agency=general_one.agency)
    assert access.oversees(users["wang.deming"], general_one)
    assert access.has_role(users["li.guohua"], Role.CLERK, agency=finance)
    assert not access.has_role(users["li.guohua"], Role.CLERK, agency=general_one.agency)
    assert access.has_role(users["zheng.haitao"], Role.SUPERVISOR, agency=general_one.agency)


def test_demo_has_portfolios_delegations_and_field_policies(province: str, db: Any) -> None:
    assert Portfolio.objects.count() > 300
    assert Delegation.objects.filter(revoked_at__isnull=True).count() == 2
    assert DirectoryFieldPolicy.objects.get(field="mobile").visibility == "same_agency"


def test_every_agency_office_has_the_office_roles(province: str, db: Any) -> None:
    for role in (
        Role.OFFICE_DIRECTOR,
        Role.OFFICE_SECRETARY,
        Role.CLERK,
        Role.SEAL_KEEPER,
        Role.ARCHIVIST,
        Role.MEETING_ADMIN,
    ):
        holders = set(Agency.objects.filter(role_grants__role=role).values_list("pk", flat=True))
        assert Agency.objects.filter(number_prefix="粤财").get().pk in holders, role


def test_rerun_with_if_empty_keeps_the_data(province: str, db: Any) -> None:
    before = (Agency.objects.count(), User.objects.count())
    out = StringIO()
    call_command("load_demo", "--if-empty", stdout=out)
    assert (Agency.objects.count(), User.objects.count()) == before
    assert "保留现有数据" in out.getvalue()


def test_rerun_without_if_empty_is_refused_with_a_clear_message(province: str, db: Any) -> None:
    before = User.objects.count()
    with pytest.raises(CommandError, match="拒绝加载演示省份"):
        call_command("load_demo", stdout=StringIO())
    assert User.objects.count() == before


def test_demo_accounts_list_every_role_with_a_chinese_description() -> None:
    accounts = demo_accounts()
    assert [a[0] for a in accounts] == [
        "lin.xiaomei",
        "chen.zhiqiang",
        "huang.lihua",
        "zhou.jianguo",
        "wang.deming",
        "li.guohua",
        "zheng.haitao",
        "he.jun",
        "deng.lan",
        "sysadmin",
        "secadmin",
        "auditor",
        "ma.xuebin",
        "feng.jiajuan",
        "deng.tingjuan",
        "liang.hanyao",
        "chen.hui",
    ]
    assert all(password == DEMO_PASSWORD for _, password, _ in accounts)
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in description) for _, _, description in accounts)


def test_drafter_signs_in_through_the_form_and_reaches_the_workbench(
    province: str, db: Any, client: Any
) -> None:
    from django.urls import reverse

    response = client.post(
        reverse("accounts:sign_in"), {"username": "lin.xiaomei", "password": DEMO_PASSWORD}, follow=True
    )
    assert response.status_code == 200
    assert response.wsgi_request.user.username == "lin.xiaomei"
    assert client.get("/").status_code == 200


def test_administrator_needs_the_demo_totp_code_after_the_password(
    province: str, db: Any, client: Any
) -> None:
    from django.urls import reverse

    response = client.post(reverse("accounts:sign_in"), {"username": "sysadmin", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    # Not yet in: every page sends the administrator to the code first.
    response = client.get(reverse("org:manage"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:verify_otp"))
    response = client.post(reverse("accounts:verify_otp"), {"token": demo_totp_code("sysadmin")})
    assert response.status_code == 302
    assert client.get(reverse("org:manage")).status_code == 200


def test_demo_accounts_find_sample_notifications_in_their_bell(province: str, db: Any) -> None:
    from officeapp.notify.models import Notification

    assert "8 条演示通知" in province
    titles = set(
        Notification.objects.filter(recipient__username="lin.xiaomei").values_list("title", flat=True)
    )
    # The foundation's two samples, beside what later parts of the demo notify her of (会议通知 …).
    assert {"欢迎使用协同办公平台", "请核对本周拟稿安排"} <= titles
    assert all(t.startswith("会议通知：") for t in titles - {"欢迎使用协同办公平台", "请核对本周拟稿安排"})
    assert "未创建" not in province


def test_demo_has_outgoing_documents_in_every_state(province: str, db: Any) -> None:
    from documents.models import DocumentState, OfficialDocument

    states = set(OfficialDocument.objects.values_list("state", flat=True))
    assert states == set(DocumentState.values)
    assert "发文：16 件公文" in province


def test_demo_accounts_find_their_own_work_in_their_inbox(province: str, db: Any) -> None:
    from viewflow.workflow.models import Task

    from workflows.models import TaskCandidate

    def open_for(username: str) -> set[str]:
        user = User.objects.get(username=username)
        owned = Task.objects.filter(owner=user, status__in=["NEW", "ASSIGNED"])
        claimable = Task.objects.filter(
            pk__in=TaskCandidate.objects.filter(user=user).values("task_id"), owner__isnull=True, status="NEW"
        )
        return {t.flow_task.name for t in [*owned, *claimable]}

    assert open_for("lin.xiaomei") == {"draft"}
    assert open_for("chen.zhiqiang") >= {"dept_review"}
    assert "sign_off" in open_for("wang.deming")
    assert {"office_review", "recheck", "assign_number", "typeset", "distribute"} <= open_for("huang.lihua")
    assert open_for("he.jun") == {"seal"}
    assert open_for("deng.lan") == {"archive"}


def test_demo_distributed_documents_wait_in_the_finance_clerks_pending_list(province: str, db: Any) -> None:
    from documents.exchange import pending_for

    clerk = User.objects.get(username="li.guohua")
    titles = set(pending_for(clerk).values_list("document__title", flat=True))
    assert "关于做好2026年防汛防台风工作的通知" in titles
