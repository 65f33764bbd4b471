from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from officeapp.audit.models import AuditEvent
from officeapp.org import services
from officeapp.org.models import Agency, AgencyLevel, Delegation, Department, Role, RoleGrant, User
from officeapp.org.services import OrgError
from officeapp.outbox.models import OutboxEvent
from officeapp.registries import handover_providers


class RecordingProvider:
    """A stand-in for the workflows' task provider: holds open items per user id."""

    name = "test_tasks"
    label = "测试待办"

    def __init__(self, items):
        self.items = items
        self.calls = []

    def open_items(self, user):
        return self.items.get(user.pk, 0)

    def hand_over(self, from_user, to_user, *, actor):
        moved = self.items.pop(from_user.pk, 0)
        self.items[to_user.pk] = self.items.get(to_user.pk, 0) + moved
        self.calls.append((from_user.pk, to_user.pk))
        return moved


@pytest.fixture
def provider():
    registered = RecordingProvider({})
    handover_providers.register(registered.name, registered)
    yield registered
    handover_providers.unregister(registered.name)


def test_moving_a_department_keeps_the_paths_of_its_whole_subtree(cast):
    sub = services.create_department(
        actor=None, agency=cast.gov_office, name="文电科", code="T-WD", parent=cast.secretariat
    )
    subsub = services.create_department(
        actor=None, agency=cast.gov_office, name="收文组", code="T-SW", parent=sub
    )

    services.move_department(sub, actor=cast.system_admin, parent=cast.office)

    sub.refresh_from_db()
    subsub.refresh_from_db()
    assert sub.path.startswith(cast.office.path) and sub.path != cast.office.path
    assert subsub.path.startswith(sub.path)
    assert set(Department.objects.filter(path__startswith=cast.office.path)) == {cast.office, sub, subsub}
    assert not Department.objects.filter(path__startswith=cast.secretariat.path).exclude(
        pk=cast.secretariat.pk
    )


def test_moving_a_department_under_its_own_child_is_refused(cast):
    child = services.create_department(
        actor=None, agency=cast.gov_office, name="子科", code="T-ZK", parent=cast.general_dept
    )
    with pytest.raises(OrgError):
        services.move_department(cast.general_dept, actor=cast.system_admin, parent=child)


def test_moving_an_agency_keeps_department_and_child_paths_in_step(cast):
    city = services.create_agency(actor=None, name="广州市人民政府", level=AgencyLevel.CITY, code="GZ")
    bureau = services.create_agency(
        actor=None, name="广州市财政局", level=AgencyLevel.CITY, code="GZ-CZ", parent=cast.finance
    )

    services.move_agency(cast.finance, actor=cast.system_admin, parent=city)

    cast.finance.refresh_from_db()
    bureau.refresh_from_db()
    assert cast.finance.path.startswith(city.path)
    assert bureau.path.startswith(cast.finance.path)
    assert set(Agency.objects.filter(path__startswith=city.path)) == {city, cast.finance, bureau}


def test_renaming_a_user_keeps_pinyin_and_initials_in_step(cast):
    services.update_user(
        cast.drafter, actor=cast.system_admin, real_name="张伟", employee_no="BGT001", mobile="13800000001"
    )
    cast.drafter.refresh_from_db()
    assert (cast.drafter.name_pinyin, cast.drafter.name_initials) == ("zhangwei", "zw")
    assert AuditEvent.objects.filter(action="org.user.update", object_id=str(cast.drafter.pk)).exists()
    assert OutboxEvent.objects.filter(
        topic="org.user.changed", object_id=str(cast.drafter.pk), payload__event="updated"
    ).exists()


def test_agency_admin_cannot_edit_a_department_of_another_agency(cast):
    services.grant_role(actor=None, user=cast.office_director, role=Role.AGENCY_ADMIN, agency=cast.gov_office)
    with pytest.raises(PermissionDenied):
        services.update_department(cast.finance_office, actor=cast.office_director, name="改名")
    services.update_department(cast.general_dept, actor=cast.office_director, name="综合一处")
    cast.general_dept.refresh_from_db()
    assert cast.general_dept.name == "综合一处"


def _period(days_from=1, days=3):
    start = timezone.now() + timedelta(days=days_from)
    return start, start + timedelta(days=days)


def test_delegation_needs_end_after_start(cast):
    start, end = _period()
    with pytest.raises(OrgError, match="结束时间必须晚于开始时间"):
        services.create_delegation(
            actor=cast.leader, from_user=cast.leader, to_user=cast.dept_head, starts_at=end, ends_at=start
        )


def test_delegation_to_oneself_is_refused(cast):
    start, end = _period()
    with pytest.raises(OrgError, match="不能委托给自己"):
        services.create_delegation(
            actor=cast.leader, from_user=cast.leader, to_user=cast.leader, starts_at=start, ends_at=end
        )


def test_overlapping_delegations_of_the_same_scope_are_refused(cast):
    start, end = _period()
    services.create_delegation(
        actor=cast.leader, from_user=cast.leader, to_user=cast.dept_head, starts_at=start, ends_at=end
    )
    with pytest.raises(OrgError, match="已有相同范围的委托"):
        services.create_delegation(
            actor=cast.leader,
            from_user=cast.leader,
            to_user=cast.office_director,
            starts_at=start + timedelta(days=1),
            ends_at=end + timedelta(days=1),
        )
    # Another scope, or a period after the first, is fine.
    services.create_delegation(
        actor=cast.leader,
        from_user=cast.leader,
        to_user=cast.office_director,
        starts_at=start,
        ends_at=end,
        scope="incoming",
    )
    services.create_delegation(
        actor=cast.leader,
        from_user=cast.leader,
        to_user=cast.office_director,
        starts_at=end,
        ends_at=end + timedelta(days=2),
    )


def test_only_the_leave_taker_or_an_admin_sets_up_a_delegation(cast):
    start, end = _period()
    with pytest.raises(PermissionDenied):
        services.create_delegation(
            actor=cast.drafter, from_user=cast.leader, to_user=cast.drafter, starts_at=start, ends_at=end
        )
    services.create_delegation(
        actor=cast.system_admin, from_user=cast.leader, to_user=cast.dept_head, starts_at=start, ends_at=end
    )


def test_revoked_delegation_no_longer_routes_tasks(cast):
    from officeapp import access

    now = timezone.now()
    delegation = services.create_delegation(
        actor=cast.leader,
        from_user=cast.leader,
        to_user=cast.dept_head,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=1),
    )
    assert access.active_delegate(cast.leader) == cast.dept_head
    services.revoke_delegation(delegation, actor=cast.leader)
    assert access.active_delegate(cast.leader) is None


def test_disabling_hands_open_work_to_the_department_head_by_default(cast, provider):
    provider.items[cast.drafter.pk] = 3

    report = services.disable_user(cast.drafter, actor=cast.system_admin)

    assert report.successor == cast.dept_head
    assert report.moved == {"test_tasks": 3}
    assert provider.items == {cast.dept_head.pk: 3}
    cast.drafter.refresh_from_db()
    assert not cast.drafter.is_active and cast.drafter.disabled_at is not None
    event = OutboxEvent.objects.get(
        topic="org.user.changed", object_id=str(cast.drafter.pk), payload__event="disabled"
    )
    assert event.payload["successor"] == cast.dept_head.pk
    assert AuditEvent.objects.filter(action="org.user.disable", object_id=str(cast.drafter.pk)).exists()


def test_disabling_hands_open_work_to_a_named_successor(cast, provider):
    provider.items[cast.drafter.pk] = 2
    services.disable_user(cast.drafter, actor=cast.system_admin, successor=cast.office_secretary)
    assert provider.items == {cast.office_secretary.pk: 2}


def test_disabling_with_open_work_and_no_head_asks_for_a_successor_and_changes_nothing(cast, provider):
    provider.items[cast.outsider.pk] = 1
    with pytest.raises(OrgError, match="请指定接替人"):
        services.disable_user(cast.outsider, actor=cast.system_admin)
    cast.outsider.refresh_from_db()
    assert cast.outsider.is_active
    assert provider.items == {cast.outsider.pk: 1}


def test_a_failing_provider_rolls_back_the_whole_disable(cast, provider):
    class Broken:
        name = "broken"
        label = "坏的"

        def open_items(self, user):
            return 1

        def hand_over(self, from_user, to_user, *, actor):
            raise RuntimeError("boom")

    handover_providers.register("broken", Broken())
    try:
        now = timezone.now()
        services.create_delegation(
            actor=None,
            from_user=cast.leader,
            to_user=cast.drafter,
            starts_at=now,
            ends_at=now + timedelta(days=2),
        )
        with pytest.raises(RuntimeError):
            services.disable_user(cast.drafter, actor=cast.system_admin)
    finally:
        handover_providers.unregister("broken")
    cast.drafter.refresh_from_db()
    assert cast.drafter.is_active
    assert Delegation.objects.get(from_user=cast.leader).to_user == cast.drafter


def test_disabling_moves_delegations_the_user_received_to_the_successor(cast):
    now = timezone.now()
    received = services.create_delegation(
        actor=None,
        from_user=cast.leader,
        to_user=cast.drafter,
        starts_at=now,
        ends_at=now + timedelta(days=2),
    )
    given = services.create_delegation(
        actor=None, from_user=cast.drafter, to_user=cast.clerk, starts_at=now, ends_at=now + timedelta(days=2)
    )

    report = services.disable_user(cast.drafter, actor=cast.system_admin)

    received.refresh_from_db()
    given.refresh_from_db()
    assert report.moved == {"delegations": 2}
    assert received.to_user == cast.dept_head and received.revoked_at is None
    assert given.revoked_at is not None


def test_transfer_hands_work_to_the_old_head_and_ends_old_roles(cast, provider):
    provider.items[cast.drafter.pk] = 4

    report = services.transfer_user(cast.drafter, actor=cast.system_admin, department=cast.finance_office)

    cast.drafter.refresh_from_db()
    assert cast.drafter.department == cast.finance_office
    assert report.successor == cast.dept_head
    assert provider.items == {cast.dept_head.pk: 4}
    assert not RoleGrant.objects.filter(user=cast.drafter, agency=cast.gov_office).exists()
    assert OutboxEvent.objects.filter(
        topic="org.user.changed", object_id=str(cast.drafter.pk), payload__event="transferred"
    ).exists()


def test_reset_password_forces_a_change_and_ends_sessions(cast):
    before = cast.drafter.session_epoch
    password = services.reset_password(cast.drafter, actor=cast.system_admin)
    cast.drafter.refresh_from_db()
    assert cast.drafter.check_password(password)
    assert cast.drafter.must_change_password
    assert cast.drafter.session_epoch == before + 1


def test_reset_password_closes_the_users_open_sockets_after_commit(
    cast, monkeypatch, django_capture_on_commit_callbacks
):
    # given: a tab someone else may have opened with the old password is connected
    from officeapp.notify import services as notify_services
    from officeapp.notify.relay import user_group

    sent = []
    monkeypatch.setattr(notify_services, "send_to_groups", sent.extend)

    # when: the administrator resets the password
    with django_capture_on_commit_callbacks(execute=True):
        services.reset_password(cast.drafter, actor=cast.system_admin)
        assert sent == []

    # then: the user's sockets are told their session ended, once the reset is committed
    assert (user_group(cast.drafter.pk), {"type": "session.end"}) in sent


def test_disabling_twice_from_the_same_stale_page_acts_once(cast):
    # given: two requests loaded the drafter before either disabled her (a double click)
    first, second = User.objects.get(pk=cast.drafter.pk), User.objects.get(pk=cast.drafter.pk)
    services.disable_user(first, actor=cast.system_admin, successor=cast.dept_head)

    # when: the second one gets the lock after the first committed
    with pytest.raises(OrgError, match="该用户已停用"):
        services.disable_user(second, actor=cast.system_admin, successor=cast.dept_head)

    # then: one disable, one audit event
    assert AuditEvent.objects.filter(action="org.user.disable", object_id=str(cast.drafter.pk)).count() == 1


def test_transferring_twice_from_the_same_stale_page_acts_once(cast):
    first, second = User.objects.get(pk=cast.drafter.pk), User.objects.get(pk=cast.drafter.pk)
    services.transfer_user(first, actor=cast.system_admin, department=cast.office, successor=cast.dept_head)

    with pytest.raises(OrgError, match="新部门与当前部门相同"):
        services.transfer_user(
            second, actor=cast.system_admin, department=cast.office, successor=cast.dept_head
        )

    assert AuditEvent.objects.filter(action="org.user.transfer", object_id=str(cast.drafter.pk)).count() == 1


def test_a_drafter_cannot_disable_anyone(cast):
    with pytest.raises(PermissionDenied):
        services.disable_user(cast.clerk, actor=cast.drafter)
    assert User.objects.get(pk=cast.clerk.pk).is_active


def test_portfolio_and_concurrent_post_are_recorded(cast):
    services.add_portfolio(actor=cast.system_admin, leader=cast.leader, department=cast.secretariat)
    from officeapp import access

    assert access.oversees(cast.leader, cast.secretariat)
    services.add_concurrent_post(cast.drafter, actor=cast.system_admin, department=cast.office)
    assert cast.drafter.concurrent_posts.get().department == cast.office
    with pytest.raises(OrgError):
        services.add_concurrent_post(cast.drafter, actor=cast.system_admin, department=cast.general_dept)


def test_refused_move_leaves_the_department_as_it_was(cast):
    # given: a 科 under 综合处
    from officeapp.org import services

    section = services.create_department(
        actor=None, agency=cast.gov_office, name="文字科", code="GD-BGT-ZH-WZ", parent=cast.general_dept
    )
    # when: an edit renames 综合处 and tries to move it under its own 科
    with pytest.raises(services.OrgError):
        services.edit_department(cast.general_dept, actor=cast.system_admin, parent=section, name="综合一处")
    # then: neither the rename nor the move happened
    cast.general_dept.refresh_from_db()
    assert cast.general_dept.name == "综合处"
    assert cast.general_dept.parent_id is None
