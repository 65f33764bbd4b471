"""The 传阅 part of `load_demo` ("35-circulation", after the 发文 and 收文 demos): circulations on
documents the demo already holds, driven through the real services by the people who would act.

- Archived 发文 of 省府办公厅, circulated by its 文秘 to its leaders: one all at once that wang.deming
  has still to read (his 待阅), one in order that has reached him after the 主任 read it, and one that
  everybody has read (with comments; the 文秘 was told it is finished).
- 收文 of 省财政厅 (from the 收文 demo), circulated by its office to its leaders, one read; when the 收文
  demo has not run, this part is skipped with a note.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction

from documents.models import DocumentCategory, DocumentState, OfficialDocument
from officeapp.org.models import Agency, Role, User
from workflows.assignment import role_holders
from workflows.circulation import circulate, mark_read
from workflows.models import Circulation, ReadingState

FIXED_LEADER = "wang.deming"  # the README's leader account of 省府办公厅
COMMENTS = ("已阅，请综合一处抓好落实。", "同意，按程序办理。", "已阅。")


def _office_actor(agency: Agency) -> User | None:
    """Who starts the agency's 传阅: its 文秘, else 办公室主任, else 收发员 (the demo's huang.lihua
    for 省府办公厅 when she exists)."""
    preferred = User.objects.filter(username="huang.lihua", department__agency=agency, is_active=True).first()
    if preferred is not None:
        return preferred
    for role in (Role.OFFICE_SECRETARY, Role.OFFICE_DIRECTOR, Role.CLERK):
        holder = role_holders(role, agency.pk).first()
        if holder is not None:
            return holder
    return None


def _leaders(agency: Agency) -> list[User]:
    """The agency's leaders, the README's fixed account last (so that the 待阅 waits for him)."""
    people = [u for u in role_holders(Role.LEADER, agency.pk) if u.agency_id == agency.pk]
    return sorted(people, key=lambda u: (u.username == FIXED_LEADER, u.pk))


def _read_all_but(circulation: Circulation, keep_unread: set[int]) -> int:
    """Each reader whose item has arrived reads it (in order: one after another), except those kept
    as 待阅; returns how many read."""
    count = 0
    while True:
        reading = (
            circulation.readers.filter(state=ReadingState.UNREAD)
            .exclude(reader_id__in=keep_unread)
            .order_by("order", "pk")
            .first()
        )
        if reading is None:
            return count
        mark_read(reading, actor=reading.reader, comment=COMMENTS[count % len(COMMENTS)])
        count += 1


class CirculationDemo:
    def __init__(self, stdout: Callable[[str], Any]) -> None:
        self.say = stdout

    def outgoing(self) -> int:
        office = Agency.objects.filter(code="GD-BGT").first()
        if office is None:
            return 0
        actor = _office_actor(office)
        leaders = _leaders(office)
        documents = list(
            OfficialDocument.objects.filter(
                agency=office, category=DocumentCategory.OUTGOING, state=DocumentState.ARCHIVED
            ).order_by("pk")[:3]
        )
        if actor is None or not leaders or not documents:
            self.say("传阅：省府办公厅没有已归档的发文或领导，跳过。")
            return 0
        fixed = {u.pk for u in leaders if u.username == FIXED_LEADER}
        plans = [(False, fixed), (True, fixed), (False, set())]
        for document, (in_order, keep_unread) in zip(documents, plans, strict=False):
            with transaction.atomic():
                circulation = circulate(
                    document, actor=actor, readers=leaders, in_order=in_order, note="请各位领导阅示。"
                )
                _read_all_but(circulation, keep_unread)
        return len(documents)

    def incoming(self) -> int:
        finance = Agency.objects.filter(short_name="省财政厅").first()
        documents = (
            list(
                OfficialDocument.objects.filter(agency=finance, category=DocumentCategory.INCOMING)
                .exclude(state=DocumentState.TERMINATED)
                .order_by("pk")[:2]
            )
            if finance is not None
            else []
        )
        if not documents:
            self.say("传阅：省财政厅还没有收文（收文演示数据未建），跳过收文传阅。")
            return 0
        actor = _office_actor(finance)
        leaders = _leaders(finance)
        if actor is None or not leaders:
            self.say("传阅：省财政厅没有办公室人员或领导，跳过收文传阅。")
            return 0
        for n, document in enumerate(documents):
            with transaction.atomic():
                circulation = circulate(
                    document, actor=actor, readers=leaders, in_order=n == 0, note="请厅领导阅示。"
                )
                # The first: the first leader has read it, the next has it in 待阅; the second waits.
                if n == 0:
                    first = circulation.readers.order_by("order", "pk").first()
                    if first is not None:
                        mark_read(first, actor=first.reader, comment="已阅，请预算处研提意见。")
        return len(documents)

    def build(self) -> str:
        outgoing = self.outgoing()
        incoming = self.incoming()
        if not outgoing and not incoming:
            return ""
        return f"传阅：{outgoing} 件发文、{incoming} 件收文已传阅（有已阅，有待阅：{FIXED_LEADER} 的待阅）。"


def build_circulation_demo(stdout: Callable[[str], Any]) -> str:
    return CirculationDemo(stdout).build()
