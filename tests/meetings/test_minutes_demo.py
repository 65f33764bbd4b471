"""load_demo's minutes part ("71-meetings-minutes") builds what its docstring promises the demo
accounts: an ended meeting with agenda, materials and check-ins, its 纪要 in the 发文 flow and two
decisions that became 督办 items linking back to the meeting."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from documents.models import DocType, Layout
from meetings.demo_minutes import TITLE
from meetings.models import CheckinMethod, Meeting, MeetingStatus, Reply
from officeapp.org.models import User
from workflows.models import OutgoingProcess, SupervisionSource
from workflows.supervision_sources import source_link


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Iterator[list[str]]:
    """The province and the minutes demo, built once for this module and rolled back at its end."""
    from meetings import checkin
    from officeapp.demo import load_demo_province
    from officeapp.registries import demo_builders

    lines: list[str] = []
    with django_db_blocker.unblock(), transaction.atomic(), pytest.MonkeyPatch.context() as patched:
        patched.setattr(checkin, "push_stats", lambda *args: None)
        load_demo_province(stdout=None)
        lines.append(demo_builders["71-meetings-minutes"](lines.append))
        yield lines
        transaction.set_rollback(True)


def meeting() -> Meeting:
    return Meeting.objects.get(title=TITLE)


def test_an_ended_meeting_of_yesterday_with_agenda_materials_and_check_ins(demo: list[str], db: Any) -> None:
    m = meeting()
    assert m.status == MeetingStatus.ENDED
    assert timezone.localtime(m.starts_at).date() == timezone.localdate() - timedelta(days=1)
    assert m.agenda_items.count() == 3
    pdf = m.materials.get(filename="工作进展汇报.pdf")
    assert pdf.page_count == 4 and pdf.agenda_item is not None
    methods = dict(
        m.rsvps.filter(checked_in_at__isnull=False).values_list("user__username", "checkin_method")
    )
    assert methods == {
        "lin.xiaomei": CheckinMethod.QR,
        "chen.zhiqiang": CheckinMethod.MANUAL,
        "zheng.haitao": CheckinMethod.LIVE,
    }
    assert all(
        m.starts_at - timedelta(hours=1) <= r.checked_in_at <= m.ends_at
        for r in m.rsvps.exclude(checked_in_at=None)
    )
    assert m.rsvps.get(user__username="zhou.jianguo").reply == Reply.LEAVE
    assert "签到3人" in demo[0]


def test_the_minutes_are_a_minutes_draft_in_the_outgoing_flow(demo: list[str], db: Any) -> None:
    document = meeting().minutes.document
    assert document is not None
    assert document.doc_type == DocType.MINUTES and document.layout == Layout.MINUTES
    assert document.drafter.username == "huang.lihua"
    assert OutgoingProcess.objects.filter(document=document).exists()
    assert document.minutes_on_leave == ["周建国"]


def test_both_decisions_are_supervision_items_linking_back(demo: list[str], db: Any) -> None:
    decisions = list(meeting().minutes.decisions.order_by("order"))
    assert len(decisions) == 2 and all(d.supervision_item_id for d in decisions)
    item = decisions[0].supervision_item
    assert item.source == SupervisionSource.MEETING
    link = source_link(item, User.objects.get(username="chen.zhiqiang"))
    assert link is not None and link.url.endswith(f"/{meeting().pk}/")
