"""部门群 follow the org: transfers, disabled accounts, new people, 兼职 and departments closed —
through the signals after commit, and through the nightly repair run, never twice."""

from __future__ import annotations

from typing import Any

import pytest

from chat import department_groups
from chat.models import Conversation, ConversationKind, MemberRole, Membership, Message, MessageKind
from officeapp.org import services as org
from officeapp.org.models import Department
from tests.chat.chat_cast import ChatCast

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def quiet_live(monkeypatch: Any) -> None:
    """Pushes after commit go nowhere (the socket is tested elsewhere)."""
    from chat import live

    monkeypatch.setattr(live, "publish", lambda *args: None)
    monkeypatch.setattr(live, "publish_to_users", lambda *args: None)


def group_of(department: Department) -> Conversation:
    return Conversation.objects.get(department=department)


def members_of(department: Department) -> set[str]:
    return set(
        Membership.objects.filter(conversation__department=department, left_at__isnull=True).values_list(
            "user__username", flat=True
        )
    )


def admins_of(department: Department) -> set[str]:
    return set(
        Membership.objects.filter(
            conversation__department=department, left_at__isnull=True, role=MemberRole.ADMIN
        ).values_list("user__username", flat=True)
    )


def test_every_department_with_people_gets_one_group_with_its_head_as_admin(chat: ChatCast) -> None:
    report = department_groups.full_sync()

    general = group_of(chat.cast.general_dept)
    assert general.kind == ConversationKind.DEPARTMENT and general.name == "省府办公厅·综合处"
    assert members_of(chat.cast.general_dept) == {"drafter", "dept_head"}
    assert admins_of(chat.cast.general_dept) == {"dept_head"}
    assert members_of(chat.cast.higher_ed) == {"outsider", "education_member"}
    # 三员分立: the 审计管理员 never chats, so is not put in the 信息中心's group.
    assert members_of(chat.cast.it_centre) == {"system_admin", "security_admin"}
    assert report.created == Conversation.objects.filter(kind=ConversationKind.DEPARTMENT).count() == 8
    assert Message.objects.filter(conversation=general, kind=MessageKind.SYSTEM).count() == 1


def test_running_the_sync_again_changes_nothing(chat: ChatCast) -> None:
    department_groups.full_sync()
    messages = Message.objects.count()
    memberships = Membership.objects.count()

    again = department_groups.full_sync()

    assert (again.created, again.synced, again.added, again.removed) == (0, 0, 0, 0)
    assert Message.objects.count() == messages and Membership.objects.count() == memberships


def test_transfer_moves_a_person_from_one_department_group_to_another(
    chat: ChatCast, django_capture_on_commit_callbacks: Any
) -> None:
    department_groups.full_sync()

    with django_capture_on_commit_callbacks(execute=True):
        org.transfer_user(chat.outsider, actor=None, department=chat.cast.finance_office)

    assert "outsider" not in members_of(chat.cast.higher_ed)
    assert members_of(chat.cast.finance_office) == {"other_clerk", "outsider"}
    left = Message.objects.filter(conversation=group_of(chat.cast.higher_ed)).order_by("seq").last()
    assert left is not None and left.body == "赵文静 离开了群聊"
    joined = Message.objects.filter(conversation=group_of(chat.cast.finance_office)).order_by("seq").last()
    assert joined is not None and joined.body == "赵文静 加入了群聊"


def test_disabled_user_is_removed_from_their_department_group(
    chat: ChatCast, django_capture_on_commit_callbacks: Any
) -> None:
    department_groups.full_sync()

    with django_capture_on_commit_callbacks(execute=True):
        org.disable_user(chat.education_member, actor=None, successor=chat.outsider)

    assert members_of(chat.cast.higher_ed) == {"outsider"}


def test_new_user_joins_their_department_group_and_sees_no_older_messages(
    chat: ChatCast, django_capture_on_commit_callbacks: Any
) -> None:
    department_groups.full_sync()
    seq_before = group_of(chat.cast.general_dept).last_seq

    with django_capture_on_commit_callbacks(execute=True):
        org.create_user(
            actor=None, username="newcomer", real_name="新同事", department=chat.cast.general_dept
        )

    assert members_of(chat.cast.general_dept) == {"drafter", "dept_head", "newcomer"}
    membership = Membership.objects.get(
        conversation__department=chat.cast.general_dept, user__username="newcomer"
    )
    assert membership.joined_seq == seq_before and membership.role == MemberRole.MEMBER


def test_a_first_person_in_a_new_department_creates_its_group(
    chat: ChatCast, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        department = org.create_department(
            actor=None, agency=chat.cast.education, name="基础教育处", code="JC"
        )
        org.create_user(actor=None, username="first", real_name="第一人", department=department)

    assert group_of(department).name == "省教育厅·基础教育处"
    assert members_of(department) == {"first"}


def test_concurrent_post_brings_a_person_into_a_second_group_and_out_again(
    chat: ChatCast, django_capture_on_commit_callbacks: Any
) -> None:
    department_groups.full_sync()

    with django_capture_on_commit_callbacks(execute=True):
        post = org.add_concurrent_post(chat.finance_member, actor=None, department=chat.cast.general_dept)
    assert "other_clerk" in members_of(chat.cast.general_dept)
    assert "other_clerk" in members_of(chat.cast.finance_office)

    with django_capture_on_commit_callbacks(execute=True):
        org.remove_concurrent_post(post, actor=None)
    assert "other_clerk" not in members_of(chat.cast.general_dept)


def test_a_new_department_head_becomes_admin(chat: ChatCast, django_capture_on_commit_callbacks: Any) -> None:
    department_groups.full_sync()

    with django_capture_on_commit_callbacks(execute=True):
        org.grant_role(actor=None, user=chat.outsider, role="dept_head", department=chat.cast.higher_ed)

    assert admins_of(chat.cast.higher_ed) == {"outsider"}


def test_a_closed_department_leaves_its_group_read_only_with_its_history(
    chat: ChatCast, django_capture_on_commit_callbacks: Any
) -> None:
    department_groups.full_sync()
    department = chat.cast.higher_ed

    with django_capture_on_commit_callbacks(execute=True):
        department.is_active = False
        department.save(update_fields=["is_active"])

    group = group_of(department)
    assert group.dissolved_at is not None
    assert members_of(department) == {"outsider", "education_member"}
    last = group.messages.order_by("-seq").first()
    assert last.data["event"] == "dissolved" and "该部门已撤销" in last.body


def test_a_failing_chat_sync_does_not_undo_the_transfer_and_the_nightly_run_repairs_it(
    chat: ChatCast, django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    from chat import services

    department_groups.full_sync()

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("chat is down")

    with monkeypatch.context() as patched:
        patched.setattr(services, "sync_members", broken)
        with django_capture_on_commit_callbacks(execute=True):
            org.transfer_user(chat.outsider, actor=None, department=chat.cast.finance_office)
    chat.outsider.refresh_from_db()
    assert chat.outsider.department == chat.cast.finance_office
    assert "outsider" in members_of(chat.cast.higher_ed)

    report = department_groups.nightly_sync_job()

    assert "同步 2 个" in report
    assert "outsider" not in members_of(chat.cast.higher_ed)
    assert "outsider" in members_of(chat.cast.finance_office)


def test_the_nightly_run_is_bounded_and_leaves_the_rest_for_the_next(chat: ChatCast) -> None:
    first = department_groups.full_sync(repair_limit=3)
    assert first.created == 3 and first.remaining == 5

    second = department_groups.full_sync(repair_limit=3)
    third = department_groups.full_sync(repair_limit=3)

    assert (second.created, second.remaining) == (3, 2)
    assert (third.created, third.remaining) == (2, 0)
    assert department_groups.full_sync().synced == 0


def test_a_change_touching_many_departments_goes_to_the_worker(
    chat: ChatCast, django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    import django_q.tasks

    department_groups.full_sync()
    queued: list[tuple[str, tuple[Any, ...]]] = []
    monkeypatch.setattr(django_q.tasks, "async_task", lambda func, *args, **kw: queued.append((func, args)))
    monkeypatch.setattr(department_groups, "INLINE_LIMIT", 1)

    with django_capture_on_commit_callbacks(execute=True):
        org.transfer_user(chat.outsider, actor=None, department=chat.cast.finance_office)

    assert "outsider" in members_of(chat.cast.higher_ed)  # not synced inside the org request
    [(func, (chunk,))] = queued
    assert func == "chat.department_groups.sync_departments_task"
    assert {chat.cast.higher_ed.pk, chat.cast.finance_office.pk} <= set(chunk)

    department_groups.sync_departments_task(chunk)

    assert "outsider" not in members_of(chat.cast.higher_ed)
    assert "outsider" in members_of(chat.cast.finance_office)


@pytest.mark.django_db(transaction=True)
def test_changes_of_a_rolled_back_transaction_do_not_ride_along_with_the_next(
    chat: ChatCast, monkeypatch: Any
) -> None:
    from django.db import transaction

    department_groups.full_sync()
    monkeypatch.setattr(department_groups, "INLINE_LIMIT", 2)

    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        for department in Department.objects.all()[:5]:
            department_groups._note(department_id=department.pk)
        raise Undo
    org.transfer_user(chat.outsider, actor=None, department=chat.cast.finance_office)

    # Two departments (the old and the new one) are synced at once, not sent to the worker because of
    # the five that a rolled-back transaction had noted.
    assert members_of(chat.cast.finance_office) == {"other_clerk", "outsider"}
