"""传阅 services (workflows/circulation.py): in order and all at once, refusals, delegation (代),
live notifications and inbox pushes, the finish, audit and outbox."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from documents.models import Participant, ParticipantKind
from officeapp.audit.models import AuditEvent
from officeapp.notify.models import Notification
from officeapp.org.models import Delegation, DelegationScope
from officeapp.outbox.models import OutboxEvent
from tests.workflows.threads import at_once
from workflows.acting import FlowError
from workflows.circulation import ALREADY_READ, NO_READERS, circulate, mark_read, readings_of
from workflows.models import Circulation, CirculationReader, ReadingState


def make_document(cast: Any, title: str = "关于做好2026年防汛防台风工作的通知") -> Any:
    from documents.services import create_draft

    return create_draft(
        actor=cast.drafter,
        department=cast.general_dept,
        title=title,
        body=[{"kind": "p", "text": "现就有关事项通知如下。"}],
        main_recipients=[cast.finance],
    )


def second_leader(cast: Any) -> Any:
    from officeapp.org import services
    from officeapp.org.models import Role

    user = services.create_user(
        actor=None,
        username="leader2",
        real_name="李副秘书长",
        department=cast.leadership,
        password="Cast-Passw0rd-2026",
        employee_no="BGT0301",
        mobile="13600000301",
    )
    services.grant_role(actor=None, user=user, role=Role.LEADER, agency=cast.gov_office)
    return user


def rows(circulation: Circulation) -> list[tuple[str, str]]:
    return [
        (r.reader.real_name, r.state)
        for r in circulation.readers.select_related("reader").order_by("order", "pk")
    ]


def notified(user: Any, kind: str = "workflows.circulation") -> list[Notification]:
    return list(Notification.objects.filter(recipient=user, kind=kind).order_by("pk"))


def test_all_at_once_every_reader_gets_a_to_read_item_and_a_notificationat_once(cast: Any) -> None:
    document = make_document(cast)
    leader2 = second_leader(cast)

    circulation = circulate(
        document, actor=cast.office_secretary, readers=[cast.leader, leader2], in_order=False, note="请阅"
    )

    assert rows(circulation) == [("王德明", ReadingState.UNREAD), ("李副秘书长", ReadingState.UNREAD)]
    assert all(r.arrived_at for r in circulation.readers.all())
    for reader in (cast.leader, leader2):
        (note,) = notified(reader)
        assert note.title == f"待阅：{document.title}" and note.url.startswith("/workflows/readings/")
    # Readers may now open the document and its files.
    assert set(
        Participant.objects.filter(document=document, kind=ParticipantKind.READER).values_list(
            "user", flat=True
        )
    ) == {cast.leader.pk, leader2.pk}
    assert AuditEvent.objects.filter(
        action="workflows.circulation_started", object_id=str(circulation.pk)
    ).exists()
    assert OutboxEvent.objects.filter(topic="workflows.circulation.started").exists()


def test_in_order_only_the_first_reader_has_it_until_they_read_then_the_next(cast: Any) -> None:
    document = make_document(cast)
    leader2 = second_leader(cast)
    circulation = circulate(
        document, actor=cast.office_secretary, readers=[leader2, cast.leader], in_order=True
    )
    assert rows(circulation) == [("李副秘书长", ReadingState.UNREAD), ("王德明", ReadingState.WAITING)]
    assert notified(cast.leader) == []
    second = circulation.readers.get(reader=cast.leader)
    with pytest.raises(FlowError, match="还未轮到您"):
        mark_read(second, actor=cast.leader)

    first = circulation.readers.get(reader=leader2)
    mark_read(first, actor=leader2, comment="同意，请财政厅抓紧落实。")

    assert rows(circulation) == [("李副秘书长", ReadingState.READ), ("王德明", ReadingState.UNREAD)]
    second.refresh_from_db()
    assert second.arrived_at is not None
    assert len(notified(cast.leader)) == 1
    circulation.refresh_from_db()
    assert circulation.finished_at is None


def test_when_everyone_has_read_the_circulation_is_finished_and_the_starter_told(cast: Any) -> None:
    document = make_document(cast)
    leader2 = second_leader(cast)
    circulation = circulate(
        document, actor=cast.office_secretary, readers=[cast.leader, leader2], in_order=False
    )
    mark_read(circulation.readers.get(reader=cast.leader), actor=cast.leader)
    circulation.refresh_from_db()
    assert circulation.finished_at is None
    assert notified(cast.office_secretary, "workflows.circulation_finished") == []

    mark_read(circulation.readers.get(reader=leader2), actor=leader2, comment="已阅")

    circulation.refresh_from_db()
    assert circulation.finished_at is not None
    (told,) = notified(cast.office_secretary, "workflows.circulation_finished")
    assert told.title == f"传阅完毕：{document.title}"
    assert AuditEvent.objects.filter(action="workflows.circulation_read").count() == 2


def test_marking_twice_is_refused_and_keeps_the_first_comment_and_time(cast: Any) -> None:
    document = make_document(cast)
    circulation = circulate(document, actor=cast.office_secretary, readers=[cast.leader], in_order=False)
    reading = circulation.readers.get()
    mark_read(reading, actor=cast.leader, comment="请综合处办理")
    reading.refresh_from_db()
    first_time = reading.read_at

    with pytest.raises(FlowError) as refused:
        mark_read(reading, actor=cast.leader, comment="改了")

    assert refused.value.message == ALREADY_READ and "您已阅过" in ALREADY_READ
    reading.refresh_from_db()
    assert reading.comment == "请综合处办理" and reading.read_at == first_time


@pytest.mark.parametrize(
    ("who", "message"),
    [("drafter", "只有本单位办公室"), ("other_clerk", "只有本单位办公室"), ("leader", "只有本单位办公室")],
)
def test_someone_not_of_the_agencys_office_may_not_circulate(cast: Any, who: str, message: str) -> None:
    document = make_document(cast)
    with pytest.raises(FlowError, match=message):
        circulate(document, actor=getattr(cast, who), readers=[cast.leader], in_order=False)
    assert not Circulation.objects.exists()


def test_circulating_to_nobody_is_refused_and_nothing_is_written(cast: Any) -> None:
    document = make_document(cast)
    with pytest.raises(FlowError) as refused:
        circulate(document, actor=cast.clerk, readers=[], in_order=True)
    assert refused.value.message == NO_READERS
    assert not Circulation.objects.exists() and not Notification.objects.filter(kind="workflows.circulation")


def test_an_inactive_reader_is_refused_by_name_and_nobody_is_told(cast: Any) -> None:
    document = make_document(cast)
    leader2 = second_leader(cast)
    leader2.is_active = False
    leader2.save(update_fields=["is_active"])
    with pytest.raises(FlowError, match="李副秘书长已停用"):
        circulate(document, actor=cast.office_director, readers=[cast.leader, leader2], in_order=False)
    assert not CirculationReader.objects.exists()
    assert notified(cast.leader) == []


def test_a_reader_of_another_agency_is_refused(cast: Any) -> None:
    document = make_document(cast)
    with pytest.raises(FlowError, match="赵文静不是本单位人员"):
        circulate(document, actor=cast.office_director, readers=[cast.outsider], in_order=False)
    assert not Circulation.objects.exists()


def test_someone_who_is_not_the_reader_may_not_mark_it(cast: Any) -> None:
    document = make_document(cast)
    circulation = circulate(document, actor=cast.clerk, readers=[cast.leader], in_order=False)
    with pytest.raises(FlowError, match="不是该文件的阅读人"):
        mark_read(circulation.readers.get(), actor=cast.dept_head)
    assert circulation.readers.get().state == ReadingState.UNREAD


def test_a_reader_chosen_twice_reads_once(cast: Any) -> None:
    document = make_document(cast)
    circulation = circulate(
        document, actor=cast.clerk, readers=[cast.leader, cast.dept_head, cast.leader], in_order=True
    )
    assert rows(circulation) == [("王德明", ReadingState.UNREAD), ("陈志强", ReadingState.WAITING)]


def _away(user: Any, to: Any, scope: str = DelegationScope.INCOMING) -> Delegation:
    now = timezone.now()
    return Delegation.objects.create(
        from_user=user,
        to_user=to,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=3),
        scope=scope,
        reason="出差",
    )


def test_a_reader_away_on_a_delegation_has_the_delegate_read_for_them_shown_as_dai(cast: Any) -> None:
    document = make_document(cast)
    _away(cast.leader, cast.dept_head)

    circulation = circulate(document, actor=cast.clerk, readers=[cast.leader], in_order=False)

    reading = circulation.readers.get()
    assert reading.reader == cast.dept_head and reading.on_behalf_of == cast.leader
    (note,) = notified(cast.dept_head)
    assert note.title == f"待阅（代王德明阅）：{document.title}"
    assert notified(cast.leader) == []
    mark_read(reading, actor=cast.dept_head, comment="代阅")
    (circ,) = readings_of(document)
    (row,) = circ.readers.all()
    assert (row.reader.real_name, row.on_behalf_of.real_name, row.state) == (
        "陈志强",
        "王德明",
        ReadingState.READ,
    )


def test_a_delegation_for_outgoing_work_only_does_not_move_a_reading(cast: Any) -> None:
    document = make_document(cast)
    _away(cast.leader, cast.dept_head, scope=DelegationScope.OUTGOING)
    circulation = circulate(document, actor=cast.clerk, readers=[cast.leader], in_order=False)
    assert circulation.readers.get().reader == cast.leader


def test_a_delegation_made_after_the_item_arrived_lets_the_delegate_read_it_as_dai(cast: Any) -> None:
    document = make_document(cast)
    circulation = circulate(document, actor=cast.clerk, readers=[cast.leader], in_order=False)
    _away(cast.leader, cast.dept_head)

    reading = mark_read(circulation.readers.get(), actor=cast.dept_head)

    assert reading.reader == cast.dept_head and reading.on_behalf_of == cast.leader
    assert Participant.objects.filter(document=document, user=cast.dept_head).exists()


def test_the_reader_a_delegate_read_for_still_opens_the_item_from_their_notification(cast: Any) -> None:
    from workflows.access import get_reading_for

    document = make_document(cast)
    circulation = circulate(document, actor=cast.clerk, readers=[cast.leader], in_order=False)
    _away(cast.leader, cast.dept_head)
    reading = mark_read(circulation.readers.get(), actor=cast.dept_head)

    assert get_reading_for(cast.leader, reading.pk) == reading


def test_each_arrival_and_each_read_is_pushed_live_after_commit(
    cast: Any, django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    document = make_document(cast)
    leader2 = second_leader(cast)
    sent: list[Any] = []
    monkeypatch.setattr("workflows.live.send_to_groups", sent.extend)
    with django_capture_on_commit_callbacks(execute=True):
        circulation = circulate(document, actor=cast.clerk, readers=[cast.leader, leader2], in_order=True)
    created = [(g, f["frame"]["action"]) for g, f in sent if f["frame"]["type"] == "inbox.changed"]
    assert created == [(f"user.{cast.leader.pk}", "created")]

    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        mark_read(circulation.readers.get(reader=cast.leader), actor=cast.leader)
    changed = sorted((g, f["frame"]["action"]) for g, f in sent if f["frame"]["type"] == "inbox.changed")
    assert changed == sorted([(f"user.{cast.leader.pk}", "closed"), (f"user.{leader2.pk}", "created")])


def test_readings_of_lists_circulations_newest_first_with_readers_in_order(cast: Any) -> None:
    document = make_document(cast)
    first = circulate(document, actor=cast.clerk, readers=[cast.leader], in_order=False)
    second = circulate(document, actor=cast.clerk, readers=[cast.dept_head, cast.leader], in_order=True)
    listed = readings_of(document)
    assert [c.pk for c in listed] == [second.pk, first.pk]
    assert [r.reader.real_name for r in listed[0].readers.all()] == ["陈志强", "王德明"]


def test_a_note_too_long_is_refused(cast: Any) -> None:
    document = make_document(cast)
    with pytest.raises(FlowError, match="传阅说明最多 200 个字"):
        circulate(document, actor=cast.clerk, readers=[cast.leader], in_order=False, note="字" * 201)
    assert not Circulation.objects.exists()


# --- the demo ------------------------------------------------------------------------------------


def _archived(cast: Any, title: str, agency: Any = None, **fields: Any) -> Any:
    from documents.models import DocumentState, OfficialDocument

    return OfficialDocument.objects.create(
        agency=agency or cast.gov_office,
        department=fields.pop("department", cast.general_dept),
        drafter=fields.pop("drafter", cast.drafter),
        title=title,
        state=fields.pop("state", DocumentState.ARCHIVED),
        **fields,
    )


def test_demo_circulates_archived_documents_to_the_leaders_leaving_the_fixed_leader_items_to_read(
    cast: Any,
) -> None:
    from workflows.circulation_demo import build_circulation_demo
    from workflows.inbox import source

    cast.leader.username = "wang.deming"
    cast.leader.save(update_fields=["username"])
    leader2 = second_leader(cast)
    for title in ("归档一", "归档二", "归档三"):
        _archived(cast, title)
    said: list[str] = []

    summary = build_circulation_demo(said.append)

    assert summary.startswith("传阅：3 件发文、0 件收文")
    assert any("跳过收文传阅" in line for line in said)
    by_title = {c.document.title: c for c in Circulation.objects.select_related("document")}
    assert rows(by_title["归档一"]) == [("李副秘书长", ReadingState.READ), ("王德明", ReadingState.UNREAD)]
    assert rows(by_title["归档二"]) == [("李副秘书长", ReadingState.READ), ("王德明", ReadingState.UNREAD)]
    assert by_title["归档二"].in_order
    assert by_title["归档三"].finished_at is not None
    assert sorted(i.title for i in source.to_read(cast.leader)) == ["归档一", "归档二"]
    assert source.to_read_count(leader2) == 0


def test_demo_circulates_finances_incoming_documents_when_they_exist(receiving: Any) -> None:
    from documents.models import DocumentCategory, DocumentState
    from workflows.circulation_demo import build_circulation_demo

    cast = receiving.cast
    _archived(
        cast,
        "关于下达2026年预算的通知（收文）",
        agency=cast.finance,
        department=cast.finance_office,
        drafter=cast.other_clerk,
        category=DocumentCategory.INCOMING,
        state=DocumentState.HANDLE,
    )

    summary = build_circulation_demo(lambda line: None)

    assert "1 件收文" in summary
    circulation = Circulation.objects.get(document__agency=cast.finance)
    assert circulation.in_order
    assert [state for _, state in rows(circulation)] == [ReadingState.READ, ReadingState.UNREAD]


# --- at the same moment (PostgreSQL: real row locks) ---------------------------------------------

ONLY_POSTGRES = pytest.mark.skipif(
    not django_settings.IS_POSTGRES, reason="row locks race only on PostgreSQL (DATABASE_URL)"
)


@pytest.mark.postgres
@ONLY_POSTGRES
@pytest.mark.django_db(transaction=True)
def test_the_last_two_readers_reading_at_once_finish_the_circulation_once(cast: Any) -> None:
    document = make_document(cast)
    leader2 = second_leader(cast)
    circulation = circulate(document, actor=cast.clerk, readers=[cast.leader, leader2], in_order=False)
    first, second = circulation.readers.order_by("order")

    outcomes = at_once(
        [lambda: mark_read(first, actor=cast.leader), lambda: mark_read(second, actor=leader2)]
    )

    assert outcomes == ["ok", "ok"]
    circulation.refresh_from_db()
    assert circulation.finished_at is not None
    assert len(notified(cast.clerk, "workflows.circulation_finished")) == 1


@pytest.mark.postgres
@ONLY_POSTGRES
@pytest.mark.django_db(transaction=True)
def test_one_reader_submitting_twice_at_once_reads_once(cast: Any) -> None:
    document = make_document(cast)
    circulation = circulate(document, actor=cast.clerk, readers=[cast.leader], in_order=False)
    reading = circulation.readers.get()

    outcomes = at_once(
        [
            lambda: mark_read(reading, actor=cast.leader, comment="甲"),
            lambda: mark_read(reading, actor=cast.leader),
        ]
    )

    assert sorted(outcomes) == sorted(["ok", ALREADY_READ])
    assert AuditEvent.objects.filter(action="workflows.circulation_read").count() == 1


def test_a_double_click_on_circulate_starts_one_circulation_and_tells_each_reader_once(cast: Any) -> None:
    document = make_document(cast)
    leader2 = second_leader(cast)

    first = circulate(document, actor=cast.office_secretary, readers=[cast.leader, leader2], in_order=False)
    second = circulate(document, actor=cast.office_secretary, readers=[cast.leader, leader2], in_order=False)

    assert second.pk == first.pk
    assert Circulation.objects.filter(document=document).count() == 1
    assert len(notified(cast.leader)) == 1 and len(notified(leader2)) == 1


def test_circulating_again_to_other_readers_or_later_starts_a_new_round(cast: Any) -> None:
    document = make_document(cast)
    leader2 = second_leader(cast)
    first = circulate(document, actor=cast.office_secretary, readers=[cast.leader], in_order=False)

    to_others = circulate(document, actor=cast.office_secretary, readers=[leader2], in_order=False)
    Circulation.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(minutes=3))
    later = circulate(document, actor=cast.office_secretary, readers=[cast.leader], in_order=False)

    assert len({first.pk, to_others.pk, later.pk}) == 3
    assert len(notified(cast.leader)) == 2
