"""月度督办通报 (flows.md §3 step 10): the month's 督办 figures of an agency written as a 通报 draft
(文种 通报, DocType.CIRCULAR) in the agency's name, started in the 发文 flow, so the GB/T 9704
renderer lays it out at 排版 and it goes through 审核 … 签发 like any 发文.

`bulletin_for(agency_id, month)` reads the figures (a handful of GROUP BYs, see supervision_stats for
the definitions) and writes the text; `create_bulletin(...)` turns it into the draft. Creating a
second 通报 for the same month is refused with BulletinExists unless `redo=True` (the page asks).

The month's figures, for the agency's items (its 督查室's whole scope):
- 新立项: created in the month; 销号: closed in the month; 在办 at month end: created before its end,
  not closed by then, not 已撤销;
- lights: the stored lights of the open items now (a light is a present state, not a history);
- 逾期单位: lead units of items whose deadline passed before they were 办结 and that were still late
  at some time in the month (deadline before today and on or before the month's last day, not
  finished before the month began);
- 表扬: lead units whose items closed in the month were all 办结 by their deadline;
- 批评: the 逾期单位, and the units late with a progress report now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from documents.models import DocType, OfficialDocument
from officeapp.audit.services import record
from officeapp.outbox.services import emit
from workflows.access import can_supervise
from workflows.acting import FlowError
from workflows.models import OPEN_ITEM_STATES, ItemState, Light, SupervisionItem
from workflows.supervision_stats import _day_start, next_month, report_late_q, with_days

COMPLETED_LIST_LIMIT = 30


class BulletinExists(FlowError):
    """A 通报 of this month was already drafted; redo=True makes another one."""


@dataclass
class UnitCount:
    label: str
    count: int

    def __str__(self) -> str:
        return f"{self.label}（{self.count}件）"


@dataclass
class Bulletin:
    agency_name: str
    month: date
    title: str
    created: int
    closed: int
    open_at_end: int
    lights: dict[str, int]
    completed: list[tuple[str, str, str]]  # (督办编号, 事项, 牵头单位)
    overdue_units: list[UnitCount]
    report_late_units: list[UnitCount]
    praised_units: list[UnitCount]

    @property
    def month_label(self) -> str:
        return f"{self.month.year}年{self.month.month}月"

    def blocks(self) -> list[dict[str, str]]:
        """正文 as the structured text of DocumentVersion.body (h1 一、 … and paragraphs)."""
        red, yellow, green = (self.lights.get(v, 0) for v in (Light.RED, Light.YELLOW, Light.GREEN))
        blocks: list[dict[str, str]] = [
            {"kind": "p", "text": f"现将{self.month_label}督查督办工作情况通报如下。"},
            {"kind": "h1", "text": "一、总体情况"},
            {
                "kind": "p",
                "text": (
                    f"{self.month_label}，新立项督办事项{self.created}件，办结销号{self.closed}件，"
                    f"截至月末在办{self.open_at_end}件。目前在办事项中，红灯（逾期）{red}件，"
                    f"黄灯（临近时限或反馈逾期）{yellow}件，绿灯（正常推进）{green}件。"
                ),
            },
            {"kind": "h1", "text": "二、办结情况"},
        ]
        if self.completed:
            listed = self.completed[:COMPLETED_LIST_LIMIT]
            for n, (number, title, unit) in enumerate(listed, 1):
                label = f"（{number}）" if number else ""
                blocks.append({"kind": "p", "text": f"{n}. {title}{label}，牵头单位：{unit or '未定'}。"})
            if len(self.completed) > len(listed):
                blocks.append(
                    {
                        "kind": "p",
                        "text": f"另有{len(self.completed) - len(listed)}件已办结销号，不再逐一列出。",
                    }
                )
        else:
            blocks.append({"kind": "p", "text": "本月没有办结销号的督办事项。"})
        blocks.append({"kind": "h1", "text": "三、逾期情况"})
        if self.overdue_units:
            blocks.append(
                {
                    "kind": "p",
                    "text": "以下单位牵头的督办事项未在时限内办结："
                    + "、".join(map(str, self.overdue_units))
                    + "。",
                }
            )
        else:
            blocks.append({"kind": "p", "text": "本月没有未在时限内办结的督办事项。"})
        if self.report_late_units:
            blocks.append(
                {
                    "kind": "p",
                    "text": "以下单位未按时反馈办理进展："
                    + "、".join(map(str, self.report_late_units))
                    + "。",
                }
            )
        blocks.append({"kind": "h1", "text": "四、表扬与批评"})
        if self.praised_units:
            blocks.append(
                {
                    "kind": "p",
                    "text": "表扬："
                    + "、".join(map(str, self.praised_units))
                    + "按时办结督办事项，工作扎实，予以通报表扬。",
                }
            )
        criticised = _merge(self.overdue_units, self.report_late_units)
        if criticised:
            blocks.append(
                {
                    "kind": "p",
                    "text": "批评："
                    + "、".join(u.label for u in criticised)
                    + "督办事项逾期或未按时反馈，予以通报批评，请于收到本通报后5个工作日内说明原因，限期整改。",
                }
            )
        if not self.praised_units and not criticised:
            blocks.append({"kind": "p", "text": "本月无表扬、批评事项。"})
        blocks += [
            {"kind": "h1", "text": "五、工作要求"},
            {
                "kind": "p",
                "text": (
                    "各单位要对照督办事项的办理要求和完成时限，落实责任，按时反馈办理进展；确需延期的，"
                    "应在时限届满前提出延期申请。督查室将继续跟踪督办，每月通报办理情况。"
                ),
            },
        ]
        return blocks

    def text(self) -> str:
        return "\n".join(b["text"] for b in self.blocks())


def _merge(*groups: list[UnitCount]) -> list[UnitCount]:
    seen: dict[str, UnitCount] = {}
    for group in groups:
        for unit in group:
            seen.setdefault(unit.label, unit)
    return list(seen.values())


def bulletin_title(month: date) -> str:
    return f"关于{month.year}年{month.month}月督查督办工作情况的通报"


def _by_lead(items: QuerySet[SupervisionItem]) -> list[UnitCount]:
    rows = (
        items.values("lead_department__name", "lead_agency__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "lead_department__name", "lead_agency__name")
    )
    return [
        UnitCount(r["lead_department__name"] or r["lead_agency__name"] or "未定单位", r["n"])
        for r in rows
        if r["lead_department__name"] or r["lead_agency__name"]
    ]


def bulletin_for(agency_id: int, month: date, *, today: date | None = None) -> Bulletin:
    """The month's figures of the agency's 督办事项, ready to be written as the 通报's text."""
    from officeapp.org.models import Agency

    today = today or timezone.localdate()
    first, end = month.replace(day=1), next_month(month.replace(day=1))
    last = end - timedelta(days=1)
    start_at, end_at = _day_start(first), _day_start(end)
    items = with_days(SupervisionItem.objects.filter(agency_id=agency_id))
    counts = items.aggregate(
        created=Count("pk", filter=Q(created_at__gte=start_at, created_at__lt=end_at)),
        closed=Count("pk", filter=Q(closed_at__gte=start_at, closed_at__lt=end_at)),
        open_at_end=Count(
            "pk",
            filter=Q(created_at__lt=end_at)
            & (Q(closed_at__isnull=True) | Q(closed_at__gte=end_at))
            & ~Q(state=ItemState.TERMINATED),
        ),
    )
    lights = dict(
        items.filter(state__in=OPEN_ITEM_STATES)
        .order_by()
        .values_list("light")
        .annotate(n=Count("pk"))
        .values_list("light", "n")
    )
    closed_in_month = items.filter(closed_at__gte=start_at, closed_at__lt=end_at)
    completed = [
        (number, title, dept or agency or "")
        for number, title, dept, agency in closed_in_month.order_by("closed_at", "pk").values_list(
            "number", "title", "lead_department__name", "lead_agency__name"
        )
    ]
    finished_on = Q(completed_at__isnull=False, completed_on__gt=F("due_on")) | Q(
        completed_at__isnull=True, closed_at__isnull=False, closed_on__gt=F("due_on")
    )
    overdue = items.filter(
        Q(due_on__isnull=False, due_on__lt=today, due_on__lte=last)
        & ~Q(state=ItemState.TERMINATED)
        & (Q(completed_at__isnull=True, closed_at__isnull=True) | finished_on)
        # still late at some time in the month: not finished before it began
        & (Q(completed_at__isnull=True) | Q(completed_on__gte=first))
        & (Q(completed_at__isnull=False) | Q(closed_at__isnull=True) | Q(closed_on__gte=first))
    )
    late_closers = closed_in_month.filter(
        Q(completed_at__isnull=False, completed_on__gt=F("due_on"))
        | Q(completed_at__isnull=True, closed_on__gt=F("due_on"))
    )
    closers = _by_lead(closed_in_month)
    late_units = {u.label for u in _by_lead(late_closers)}
    overdue_units = _by_lead(overdue)
    blamed = {u.label for u in overdue_units} | late_units
    report_late = _by_lead(items.filter(report_late_q(today))) if last >= today - timedelta(days=1) else []
    agency = Agency.objects.get(pk=agency_id)
    return Bulletin(
        agency_name=agency.name,
        month=first,
        title=bulletin_title(first),
        created=counts["created"],
        closed=counts["closed"],
        open_at_end=counts["open_at_end"],
        lights={k: int(v) for k, v in lights.items()},
        completed=completed,
        overdue_units=overdue_units,
        report_late_units=report_late,
        praised_units=[u for u in closers if u.label not in blamed],
    )


def earlier_bulletins(agency_id: int, month: date) -> list[OfficialDocument]:
    """通报 of this month already drafted in the agency (found by their title)."""
    return list(
        OfficialDocument.objects.filter(
            agency_id=agency_id, doc_type=DocType.CIRCULAR, title=bulletin_title(month.replace(day=1))
        ).order_by("pk")
    )


def create_bulletin(*, actor: Any, agency_id: int, month: date, redo: bool = False) -> OfficialDocument:
    """起草 the month's 督办通报 as a 通报 draft of the actor's department (in the agency's name) and
    start its 发文 process; the actor holds the 拟稿 task. A second one for the same month needs
    `redo=True`."""
    from documents.services import create_draft
    from workflows.services import start_outgoing

    department = getattr(actor, "department", None)
    if department is None or department.agency_id != agency_id or not can_supervise(actor, agency_id):
        raise FlowError("只有本机关督查室（督查员）和办公室可以生成督办通报。")
    bulletin = bulletin_for(agency_id, month)
    with transaction.atomic():
        if earlier_bulletins(agency_id, month) and not redo:
            raise BulletinExists("本月的督办通报已经生成过。")
        document = create_draft(
            actor=actor,
            department=department,
            title=bulletin.title,
            doc_type=DocType.CIRCULAR,
            body=bulletin.blocks(),
            main_recipients_text="各有关单位",
        )
        start_outgoing(document, actor=actor)
        record(
            "workflows.supervision_bulletin_created",
            actor=actor,
            obj=document,
            details={"month": bulletin.month.strftime("%Y-%m"), "redo": redo},
        )
        emit(
            "workflows.supervision.bulletin_created",
            document,
            payload={"agency": agency_id, "month": bulletin.month.strftime("%Y-%m")},
        )
    return document
