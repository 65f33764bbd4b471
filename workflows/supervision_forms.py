"""Forms of the 督办 pages: 立项, the step form (登记编号 … 归档), 进展反馈 / 办结报告, 延期申请 with its
初审 and 审批, and the list's filter. They parse and check what a person typed; the services in
workflows/supervision.py decide and act (and refuse with their own message, which the page shows)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.db.models import Q
from django.utils import timezone

from documents.models import Retention
from officeapp.blobs.checks import UploadRefused, check_upload
from officeapp.calendar.workdays import MAX_SPAN_DAYS
from officeapp.org.models import Agency, Department, User
from workflows.flows import SUPERVISION_STEP_LABELS, supervision_earlier_steps
from workflows.forms import _decode_signature
from workflows.incoming_forms import DATE, MultipleFileField, PersonChoiceField, leaders_of, units_of
from workflows.models import (
    Decision,
    Importance,
    ItemState,
    Light,
    ReportFrequency,
    ReportKind,
    SupervisionItem,
    SupervisionSource,
)
from workflows.supervision_sources import _document_label

# What the 办理结论 button says at each step: the step's own verb.
AGREE_LABELS = {
    "register": "确认登记",
    "propose": "提交拟办意见",
    "approve": "审定同意",
    "assign": "交办",
    "accept": "签收",
    "handle": "办理完毕",
    "review": "审核通过",
    "leader_review": "已阅",
    "close": "销号",
    "archive": "归档",
}
# Steps whose form may adjust the 督办通知单 (title, requirement, units, 时限, 反馈频次 …).
ADJUSTING_STEPS = frozenset({"propose", "approve"})
MAX_REPORT_FILES = 10


# --- units: a department of the supervising agency, or another agency ------------------------------


def unit_key(unit: Department | Agency) -> str:
    return f"{'agency' if isinstance(unit, Agency) else 'department'}:{unit.pk}"


def unit_choices(agency_id: int) -> list[tuple[str, list[tuple[str, str]]]]:
    """主办/协办 choices, grouped: the agency's own 处室, then other agencies of the platform."""
    departments = [(f"department:{d.pk}", d.name) for d in units_of(agency_id)]
    agencies = [
        (f"agency:{a.pk}", a.name)
        for a in Agency.objects.filter(is_active=True).exclude(pk=agency_id).order_by("path", "pk")
    ]
    return [("本机关处室", departments), ("其他机关", agencies)]


def resolve_unit(key: str) -> Department | Agency | None:
    kind, _, raw = (key or "").partition(":")
    if not raw.isdigit():
        return None
    if kind == "department":
        return Department.objects.filter(pk=int(raw)).first()
    if kind == "agency":
        return Agency.objects.filter(pk=int(raw)).first()
    return None


def item_unit_keys(item: SupervisionItem) -> tuple[str, list[str]]:
    lead = (
        f"department:{item.lead_department_id}"
        if item.lead_department_id
        else (f"agency:{item.lead_agency_id}" if item.lead_agency_id else "")
    )
    co = [f"{u.get('kind')}:{u.get('id')}" for u in (item.co_units or []) if u.get("id")]
    return lead, co


class _UnitsMixin:
    """lead_unit / co_units as "department:<id>" / "agency:<id>", resolved to rows in clean()."""

    fields: dict[str, Any]
    cleaned_data: dict[str, Any]

    def _set_unit_choices(self, agency_id: int) -> None:
        choices = unit_choices(agency_id)
        self.fields["lead_unit"].choices = [("", "请选择"), *choices]
        self.fields["co_units"].choices = choices
        self.fields["co_units"].widget.attrs["size"] = 6

    def _clean_units(self, data: dict[str, Any], *, required: bool) -> None:
        lead_key = data.get("lead_unit") or ""
        co_keys = list(data.get("co_units") or [])
        if not lead_key:
            if required:
                self.add_error("lead_unit", "请选择牵头（主办）单位。")  # type: ignore[attr-defined]
            return
        if lead_key in co_keys:
            self.add_error("co_units", "牵头单位不能同时作为协办单位。")  # type: ignore[attr-defined]
            return
        lead = resolve_unit(lead_key)
        co = [resolve_unit(k) for k in co_keys]
        if lead is None or any(u is None for u in co):
            self.add_error("lead_unit", "所选单位不存在，请重新选择。")  # type: ignore[attr-defined]
            return
        data["lead_unit_obj"] = lead
        data["co_units_obj"] = tuple(co)


def _refuse_far_date(form: forms.Form, name: str, value: date | None) -> None:
    """A date more than ten years from today is a typo (9999 for 2026); the working-day count of
    the light cannot span it, so refuse it here rather than fail on saving."""
    if value is not None and abs((value - timezone.localdate()).days) > MAX_SPAN_DAYS:
        form.add_error(name, "日期超出合理范围（前后十年内），请检查年份。")


def _clean_deadline(form: forms.Form, data: dict[str, Any], *, required: bool) -> None:
    due_on: date | None = data.get("due_on")
    for name in ("due_on", "received_on"):
        if name in form.fields:
            _refuse_far_date(form, name, data.get(name))
    days: int | None = data.get("due_in_working_days")
    if due_on and days:
        form.add_error("due_in_working_days", "完成时限请只填一种：具体日期或工作日数。")
    elif required and not due_on and not days:
        form.add_error("due_on", "请填写完成时限（具体日期或工作日数）。")
    received: date | None = data.get("received_on")
    if due_on and received and due_on < received:
        form.add_error("due_on", "完成时限不能早于收到时间。")
    if data.get("report_frequency") == ReportFrequency.CUSTOM and not data.get("report_interval_days"):
        form.add_error("report_interval_days", "自定义反馈频次请填写间隔工作日数。")


def _document_matches(user: Any, query: str) -> Any:
    from documents.access import visible_documents

    query = query.strip()
    return (
        visible_documents(user)
        .filter(
            Q(doc_number=query)
            | Q(incoming__number=query)
            | Q(doc_number__icontains=query)
            | Q(title__icontains=query)
        )
        .distinct()
        .order_by("-pk")
    )


def _incoming_number(document: Any) -> str:
    incoming = getattr(document, "incoming", None) if getattr(document, "is_incoming", False) else None
    return incoming.number if incoming is not None else ""


class ItemForm(_UnitsMixin, forms.Form):
    """立项: where the task comes from, what it is, who leads and helps, by when, how often to report."""

    source = forms.ChoiceField(label="任务来源", choices=SupervisionSource.choices)
    source_document = forms.CharField(
        label="来源公文（文号或标题）",
        max_length=200,
        required=False,
        help_text="可选：关联一份您可查看的收文或发文，输入文号或标题。",
    )
    source_label = forms.CharField(
        label="来源说明", max_length=200, required=False, help_text="如：某次会议、某领导批示件。"
    )
    title = forms.CharField(label="督办事项", max_length=200)
    requirement = forms.CharField(
        label="办理要求", required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    instruction = forms.CharField(
        label="领导批示", required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    lead_unit = forms.ChoiceField(label="牵头（主办）单位", choices=[])
    co_units = forms.MultipleChoiceField(label="协办单位", choices=[], required=False)
    received_on = forms.DateField(label="收到时间", widget=DATE)
    due_on = forms.DateField(label="完成时限（日期）", required=False, widget=DATE)
    due_in_working_days = forms.IntegerField(
        label="或：完成时限（工作日）",
        min_value=1,
        max_value=999,
        required=False,
        help_text="自交办之日起按工作日计算；与具体日期二选一。",
    )
    report_frequency = forms.ChoiceField(
        label="反馈频次", choices=ReportFrequency.choices, initial=ReportFrequency.MONTHLY
    )
    report_interval_days = forms.IntegerField(
        label="反馈间隔（工作日）", min_value=1, max_value=250, required=False, help_text="自定义频次时填写。"
    )
    importance = forms.ChoiceField(label="重要程度", choices=Importance.choices, initial=Importance.NORMAL)
    leader = PersonChoiceField(
        label="批办领导", queryset=User.objects.none(), required=False, empty_label="（无）"
    )

    def __init__(self, *args: Any, user: Any, agency_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.agency_id = agency_id
        self._set_unit_choices(agency_id)
        self.fields["leader"].queryset = leaders_of(agency_id)  # type: ignore[attr-defined]
        self.fields["received_on"].initial = timezone.localdate()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self._clean_units(data, required=True)
        _clean_deadline(self, data, required=True)
        query = (data.get("source_document") or "").strip()
        data["source_object"] = None
        if query:
            matches = list(_document_matches(self.user, query)[:6])
            exact = [d for d in matches if query in (d.doc_number, _incoming_number(d))]
            if len(exact) == 1 or len(matches) == 1:
                data["source_object"] = (exact or matches)[0]
            elif not matches:
                self.add_error("source_document", "未找到您可查看的公文，请核对文号或标题。")
            else:
                names = "；".join(_document_label(d) for d in matches[:5])
                self.add_error("source_document", f"匹配到多份公文，请输入完整文号：{names}")
        return data


class SupervisionStepForm(_UnitsMixin, forms.Form):
    """意见 / 批示 at any 督办 step, plus what the step needs."""

    decision = forms.ChoiceField(label="办理结论", choices=[], widget=forms.RadioSelect)
    # 拟办 / 审定: adjust the 督办通知单
    title = forms.CharField(label="督办事项", max_length=200, required=False)
    requirement = forms.CharField(
        label="办理要求", required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    lead_unit = forms.ChoiceField(label="牵头（主办）单位", choices=[], required=False)
    co_units = forms.MultipleChoiceField(label="协办单位", choices=[], required=False)
    due_on = forms.DateField(label="完成时限", required=False, widget=DATE)
    report_frequency = forms.ChoiceField(label="反馈频次", choices=ReportFrequency.choices, required=False)
    report_interval_days = forms.IntegerField(
        label="反馈间隔（工作日）", min_value=1, max_value=250, required=False
    )
    importance = forms.ChoiceField(label="重要程度", choices=Importance.choices, required=False)
    # 报送领导审阅: a new 批示 loops back to 交办
    instruction = forms.CharField(
        label="新的批示",
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="不填即为“阅”，事项进入销号；填写新的批示则重新交办。",
    )
    # 归档
    retention = forms.ChoiceField(
        label="保管期限", choices=[("", "请选择"), *Retention.choices], required=False
    )
    opinion = forms.CharField(
        label="意见", widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000
    )
    return_to = forms.ChoiceField(label="退回至", choices=[], required=False)
    signature = forms.CharField(widget=forms.HiddenInput, required=False)

    ADJUSTABLE = (
        "title",
        "requirement",
        "lead_unit",
        "co_units",
        "due_on",
        "report_frequency",
        "report_interval_days",
        "importance",
    )
    STEP_FIELDS: dict[str, tuple[str, ...]] = {
        "propose": ADJUSTABLE,
        "approve": ADJUSTABLE,
        "leader_review": ("instruction",),
        "archive": ("retention",),
    }
    STEP_ONLY = {name for names in STEP_FIELDS.values() for name in names}

    def __init__(self, *args: Any, step: str, item: SupervisionItem, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.step = step
        self.item = item
        for name in self.STEP_ONLY - set(self.STEP_FIELDS.get(step, ())):
            del self.fields[name]
        decisions = [(Decision.AGREE, AGREE_LABELS.get(step, "同意"))]
        if step == "accept":
            decisions.append((Decision.NOT_OURS, "非本单位职责（退回）"))
        if step == "review":
            decisions.append((Decision.DISAGREE, "退办重办"))
        earlier = supervision_earlier_steps(step) if step in SUPERVISION_STEP_LABELS else []
        if earlier and step not in ("accept", "handle"):
            decisions.append((Decision.RETURN, "退回"))
            self.fields["return_to"].choices = [("", "请选择")] + [
                (s, SUPERVISION_STEP_LABELS[s]) for s in earlier
            ]
        else:
            del self.fields["return_to"]
        self.fields["decision"].choices = decisions
        self.fields["decision"].initial = Decision.AGREE
        if step == "review":
            self.fields["opinion"].help_text = "退办重办时必须写明理由（事实不清、问题未解决等）。"
        if step in ADJUSTING_STEPS:
            self._set_unit_choices(item.agency_id)
            lead, co = item_unit_keys(item)
            for name, value in (
                ("title", item.title),
                ("requirement", item.requirement),
                ("lead_unit", lead),
                ("co_units", co),
                ("due_on", item.due_on),
                ("report_frequency", item.report_frequency),
                ("report_interval_days", item.report_interval_days),
                ("importance", item.importance),
            ):
                self.initial.setdefault(name, value)
            self.fields["title"].required = True
            self.fields["lead_unit"].required = True

    def clean_signature(self) -> Any:
        return _decode_signature(self.cleaned_data.get("signature") or "")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        decision = data.get("decision")
        opinion = (data.get("opinion") or "").strip()
        if decision == Decision.RETURN:
            if not data.get("return_to"):
                self.add_error("return_to", "请选择要退回的环节。")
            if not opinion:
                self.add_error("opinion", "退回时必须填写理由。")
        if decision == Decision.NOT_OURS and not opinion:
            self.add_error("opinion", "请说明为何不属于本单位职责。")
        if decision == Decision.DISAGREE and not opinion:
            self.add_error("opinion", "退办重办时必须写明理由。")
        if decision != Decision.AGREE:
            return data
        if self.step in ADJUSTING_STEPS:
            self._clean_units(data, required=True)
            _clean_deadline(self, {**data, "received_on": self.item.received_on}, required=False)
        if self.step == "archive" and not data.get("retention"):
            self.add_error("retention", "请选择保管期限。")
        return data

    def changes(self) -> dict[str, Any]:
        """What 拟办/审定 changed on the 督办通知单 (only the fields that differ)."""
        if self.step not in ADJUSTING_STEPS or self.cleaned_data.get("decision") != Decision.AGREE:
            return {}
        data = self.cleaned_data
        item = self.item
        lead, co = item_unit_keys(item)
        changed: dict[str, Any] = {}
        for name in (
            "title",
            "requirement",
            "due_on",
            "report_frequency",
            "report_interval_days",
            "importance",
        ):
            value = data.get(name)
            if value in ("", None) and name in ("report_frequency", "importance"):
                continue
            if value != getattr(item, name):
                changed[name] = value
        if data.get("lead_unit") != lead:
            changed["lead_unit"] = data.get("lead_unit_obj")
        if sorted(data.get("co_units") or []) != sorted(co) or "lead_unit" in changed:
            changed["co_units"] = data.get("co_units_obj", ())
        return changed


class ReportForm(forms.Form):
    """进展反馈 or 办结报告, with attachments checked before anything is stored."""

    kind = forms.ChoiceField(
        label="类型", choices=ReportKind.choices, initial=ReportKind.PROGRESS, widget=forms.RadioSelect
    )
    text = forms.CharField(label="进展情况", max_length=8000, widget=forms.Textarea(attrs={"rows": 6}))
    percentage = forms.IntegerField(label="完成进度（%）", min_value=0, max_value=100, initial=0)
    files = MultipleFileField(label="附件", required=False, help_text="可上传 Word、PDF、OFD、Excel 或图片。")

    def clean_files(self) -> list[Any]:
        files = self.cleaned_data.get("files") or []
        if len(files) > MAX_REPORT_FILES:
            raise forms.ValidationError(f"一次最多上传 {MAX_REPORT_FILES} 个附件。")
        errors = []
        for f in files:
            try:
                check_upload(f, allowed_kinds=("document", "image"))
            except UploadRefused as refusal:
                errors.append(f"{getattr(f, 'name', '')}：{refusal.message}")
            else:
                f.seek(0)
        if errors:
            raise forms.ValidationError(errors)
        return files

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") == ReportKind.COMPLETION and not (data.get("text") or "").strip():
            self.add_error("text", "请填写办结情况。")
        return data


class ExtensionForm(forms.Form):
    """延期申请: why, how far it is, and the new date (later than the current 完成时限)."""

    reason = forms.CharField(label="延期理由", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    progress = forms.CharField(label="目前进展", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    new_due_on = forms.DateField(label="申请延至", widget=DATE)

    def __init__(self, *args: Any, item: SupervisionItem, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.item = item
        if item.due_on:
            self.fields["new_due_on"].help_text = f"须晚于当前完成时限 {item.due_on:%Y-%m-%d}。"

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "reason" in data and not data["reason"].strip():
            self.add_error("reason", "请填写延期理由。")
        new = data.get("new_due_on")
        _refuse_far_date(self, "new_due_on", new)
        if new and self.item.due_on and new <= self.item.due_on:
            self.add_error("new_due_on", "申请延至的日期须晚于当前完成时限。")
        return data


class ExtensionDecisionForm(forms.Form):
    """初审 (督查员: 报领导审批 or 不予转报) and 审批 (领导: 批准 or 不批准)."""

    verdict = forms.TypedChoiceField(
        label="结论", choices=[], coerce=lambda v: v == "yes", widget=forms.RadioSelect
    )
    note = forms.CharField(
        label="意见", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, stage: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stage = stage
        self.fields["verdict"].choices = (
            [("yes", "报领导审批"), ("no", "不予转报")]
            if stage == "screen"
            else [("yes", "批准延期"), ("no", "不批准")]
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("verdict") is False and not (data.get("note") or "").strip():
            self.add_error("note", "不同意时请写明理由。")
        return data


class SupervisionFilterForm(forms.Form):
    """督办事项 list: state, light, source, unit, importance, period, and a search over title / 编号."""

    STATES = [("", "全部状态"), ("open", "办理中"), *ItemState.choices]
    state = forms.ChoiceField(label="状态", choices=STATES, required=False)
    light = forms.ChoiceField(label="灯", choices=[("", "全部"), *Light.choices], required=False)
    source = forms.ChoiceField(
        label="来源", choices=[("", "全部"), *SupervisionSource.choices], required=False
    )
    unit = forms.CharField(label="单位", max_length=100, required=False)
    importance = forms.ChoiceField(
        label="重要程度", choices=[("", "全部"), *Importance.choices], required=False
    )
    start = forms.DateField(label="立项自", required=False, widget=DATE)
    end = forms.DateField(label="至", required=False, widget=DATE)
    q = forms.CharField(label="搜索", max_length=100, required=False, help_text="事项名称或督办编号")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", "结束日期不能早于开始日期。")
        return data
