"""督办 in search: supervision items ("supervision:<pk>") and their 进展反馈/办结报告 ("report:<pk>"),
both of kind "supervision".

Who may find them is `workflows.access.item_principals` (the mirror of `visible_items`). A report
carries its item's principals: the item page shows every report of the item, drafts included, to
whoever sees the item, and nothing narrower exists for reports. So a change of the item's units,
participants or leader refreshes the item and all its reports.

Freshness: every 督办 service emits `workflows.supervision.*` (立项, reports, 延期, 分解) or
`workflows.task.*` with payload flow "supervision" (each step, 签收 …, claim, 转办) in the
transaction of the change; a new step's holders become participants inside that same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from officeapp.outbox.models import OutboxEvent
from search.interface import MAX_BODY_CHARS, MAX_TITLE_CHARS, IndexDoc
from search.sources import RowSource, Source, parse_keys, parse_pk

ITEM_PREFIX = "supervision"
REPORT_PREFIX = "report"

# Outbox rows whose object is not an item, a report or a task of the 督办 flow, and change nothing
# that is indexed (the monthly 通报 is a document; reminders change no text and no access).
_IGNORED_TOPICS = frozenset({"workflows.supervision.bulletin_created"})


def _item_keys(item_ids: Iterable[int]) -> list[str]:
    """The item keys and the keys of their reports (which carry the item's principals)."""
    from workflows.models import ProgressReport

    ids = sorted({i for i in item_ids if i})
    if not ids:
        return []
    keys = [f"{ITEM_PREFIX}:{i}" for i in ids]
    reports = ProgressReport.objects.filter(item_id__in=ids).order_by("pk").values_list("pk", flat=True)
    keys += [f"{REPORT_PREFIX}:{r}" for r in reports]
    return keys


def refs_for_event(event: OutboxEvent) -> list[str]:
    """Keys of items and reports this event may have changed (shared by both sources)."""
    topic = event.topic or ""
    payload = event.payload if isinstance(event.payload, dict) else {}
    if topic in _IGNORED_TOPICS:
        return []
    if topic.startswith("workflows.task.") and payload.get("flow") == "supervision":
        item_id = parse_pk(payload.get("item"))
        if item_id is None:
            # 承办 completed by the signed 办结报告 names only its task.
            from viewflow.workflow.models import Task

            from workflows.models import SupervisionProcess

            process_id = Task.objects.filter(pk=parse_pk(event.object_id) or 0).values("process_id")
            item_id = (
                SupervisionProcess.objects.filter(pk__in=process_id).values_list("item_id", flat=True).first()
            )
        return _item_keys([item_id] if item_id else [])
    if not topic.startswith("workflows.supervision."):
        return []
    ids: list[int] = []
    if event.object_type == "workflows.supervisionitem":
        ids.append(parse_pk(event.object_id) or 0)
    ids.append(parse_pk(payload.get("item")) or 0)
    ids += [parse_pk(c) or 0 for c in payload.get("children") or []]
    keys = _item_keys(ids)
    if event.object_type == "workflows.progressreport":
        report_key = f"{REPORT_PREFIX}:{parse_pk(event.object_id)}"
        if report_key not in keys:
            keys.append(report_key)
    return keys


def _item_url(item_id: int) -> str:
    return reverse("workflows:supervision_item", args=[item_id])


def _join(*parts: str) -> str:
    return "\n".join(p for p in (x.strip() for x in parts if x) if p)[:MAX_BODY_CHARS]


def _unit_labels(item: Any) -> list[str]:
    labels = [item.lead_label] if item.lead_label else []
    labels += [str(u.get("label") or "") for u in item.co_units or [] if isinstance(u, dict)]
    return [label for label in labels if label]


def _item_doc(item: Any) -> IndexDoc:
    from workflows.access import item_principals

    units = _unit_labels(item)
    subtitle = " · ".join(
        p for p in (item.number, f"牵头：{item.lead_label}" if item.lead_label else "") if p
    )
    return IndexDoc(
        key=f"{ITEM_PREFIX}:{item.pk}",
        kind="supervision",
        title=item.title[:MAX_TITLE_CHARS],
        body=_join(
            item.number,
            item.source_label,
            item.instruction,
            item.requirement,
            "承办单位：" + "、".join(units) if units else "",
        ),
        principals=item_principals(item),
        url=_item_url(item.pk),
        # Local time: the year facet is read from it (1 January 00:30 in Beijing is the new year).
        date=timezone.localtime(item.created_at),
        agency_id=item.agency_id,
        agency_name=item.agency.name,
        status=item.state,
        status_label=item.get_state_display(),
        subtitle=subtitle,
    )


def _report_doc(report: Any, principals: frozenset[str]) -> IndexDoc:
    item = report.item
    files = [a.filename for a in report.attachments.all()]
    title = f"{item.title} · {report.get_kind_display()}（{report.unit_label}）"
    return IndexDoc(
        key=f"{REPORT_PREFIX}:{report.pk}",
        kind="supervision",
        title=title[:MAX_TITLE_CHARS],
        body=_join(report.text, report.review_note, "\n".join(files)),
        principals=principals,
        url=_item_url(item.pk) + "#reports",
        date=timezone.localtime(report.submitted_at or report.created_at),
        agency_id=item.agency_id,
        agency_name=item.agency.name,
        status=report.state,
        status_label=report.get_state_display(),
        subtitle=f"{report.get_kind_display()} · {report.unit_label} · {report.percentage}%",
    )


class SupervisionItemSource(RowSource):
    kind = "supervision"
    prefix = ITEM_PREFIX

    def refs_for(self, event: OutboxEvent) -> Iterable[str]:
        return [k for k in refs_for_event(event) if k.startswith(f"{ITEM_PREFIX}:")]

    def build(self, keys: list[str]) -> tuple[list[IndexDoc], list[str]]:
        from workflows.models import SupervisionItem

        wanted = parse_keys(keys, ITEM_PREFIX)
        items = SupervisionItem.objects.filter(pk__in=wanted).select_related(
            "agency", "lead_department", "lead_agency"
        )
        docs = [_item_doc(item) for item in items]
        found = {int(d.key.split(":")[1]) for d in docs}
        return docs, [key for pk, key in wanted.items() if pk not in found]

    def rows(self) -> QuerySet[Any]:
        from workflows.models import SupervisionItem

        return SupervisionItem.objects.all()


class ProgressReportSource(RowSource):
    kind = "supervision"
    prefix = REPORT_PREFIX

    def refs_for(self, event: OutboxEvent) -> Iterable[str]:
        return [k for k in refs_for_event(event) if k.startswith(f"{REPORT_PREFIX}:")]

    def build(self, keys: list[str]) -> tuple[list[IndexDoc], list[str]]:
        from workflows.access import item_principals
        from workflows.models import ProgressReport

        wanted = parse_keys(keys, REPORT_PREFIX)
        reports = (
            ProgressReport.objects.filter(pk__in=wanted)
            .select_related("item__agency", "item__lead_department", "item__lead_agency")
            .prefetch_related("attachments")
        )
        principals_of: dict[int, frozenset[str]] = {}
        docs = []
        for report in reports:
            if report.item_id not in principals_of:
                principals_of[report.item_id] = item_principals(report.item)
            docs.append(_report_doc(report, principals_of[report.item_id]))
        found = {int(d.key.split(":")[1]) for d in docs}
        return docs, [key for pk, key in wanted.items() if pk not in found]

    def rows(self) -> QuerySet[Any]:
        from workflows.models import ProgressReport

        return ProgressReport.objects.all()


SOURCES: list[Source] = [SupervisionItemSource(), ProgressReportSource()]
