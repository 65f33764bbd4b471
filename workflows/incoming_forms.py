"""Forms of the 收文 pages: the step form (登记 … 归档), 收文登记 by hand, 指派承办人, 拟文答复 and the
登记簿's filter. They parse and check what a person typed; the services in workflows/incoming.py
decide and act (and refuse with their own message, which the page shows)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils import timezone

from documents.models import DocType, DocumentState, HandlingKind, Retention, ReturnReason, Urgency
from officeapp.org.models import Agency, Department, User
from workflows.flows import INCOMING_STEP_LABELS, incoming_earlier_steps
from workflows.forms import _decode_signature
from workflows.models import Decision

# What the 办理结论 button says at each step: the step's own verb, not a generic 同意.
AGREE_LABELS = {
    "register": "登记完毕",
    "screen": "通过",
    "propose": "提交拟办意见",
    "instruct": "批示",
    "assign": "分办",
    "handle": "办理完毕",
    "reply": "已答复",
    "complete": "办结",
    "archive": "归档",
}
URGENT = (Urgency.URGENT, Urgency.EXTRA_URGENT)
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj.real_name}（{obj.department.name}）" if obj.department_id else obj.real_name


class PeopleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj.real_name}（{obj.department.name}）" if obj.department_id else obj.real_name


def units_of(agency_id: int) -> Any:
    """The agency's working units (处室): who may 主办 or 协办; not its 领导班子."""
    return (
        Department.objects.filter(agency_id=agency_id, is_active=True)
        .exclude(kind=Department.Kind.LEADERSHIP)
        .order_by("path", "pk")
    )


def leaders_of(agency_id: int) -> Any:
    from workflows.assignment import role_holders

    return role_holders("leader", agency_id).select_related("department")


def people_of(agency_id: int) -> Any:
    return (
        User.objects.filter(is_active=True, department__agency_id=agency_id)
        .select_related("department")
        .order_by("department__path", "pk")
    )


class IncomingStepForm(forms.Form):
    """意见 / 批示 at any 收文 step, plus the fields the step needs."""

    decision = forms.ChoiceField(label="办理结论", choices=[], widget=forms.RadioSelect)
    # 登记
    title = forms.CharField(label="标题", max_length=200, required=False)
    doc_type = forms.ChoiceField(label="文种", choices=DocType.choices, required=False)
    source_name = forms.CharField(label="来文单位", max_length=100, required=False)
    source_number = forms.CharField(label="来文字号", max_length=40, required=False)
    copies = forms.IntegerField(label="份数", min_value=1, max_value=9999, required=False)
    urgency = forms.ChoiceField(label="紧急程度", choices=Urgency.choices, required=False)
    issued_on = forms.DateField(label="成文日期", required=False, widget=DATE)
    received_on = forms.DateField(label="收文日期", required=False, widget=DATE)
    # 初审: 退文
    return_reason = forms.ChoiceField(
        label="退文理由", choices=[("", "请选择"), *ReturnReason.choices], required=False
    )
    return_note = forms.CharField(
        label="退文说明", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    # 拟办
    handling_kind = forms.ChoiceField(
        label="办理类型", choices=HandlingKind.choices, required=False, widget=forms.RadioSelect
    )
    leader = PersonChoiceField(
        label="批办领导", queryset=User.objects.none(), required=False, empty_label="请选择"
    )
    # 拟办 (建议) / 批办 / 分办
    lead_unit = forms.ModelChoiceField(
        label="主办单位", queryset=Department.objects.none(), required=False, empty_label="请选择"
    )
    co_units = forms.ModelMultipleChoiceField(
        label="协办单位", queryset=Department.objects.none(), required=False
    )
    deadline = forms.DateField(label="办理时限", required=False, widget=DATE)
    # 分办: 传阅
    readers = PeopleChoiceField(label="传阅人", queryset=User.objects.none(), required=False)
    in_order = forms.TypedChoiceField(
        label="传阅方式",
        choices=[("0", "同时传阅"), ("1", "依次传阅")],
        coerce=lambda v: v == "1",
        required=False,
        initial="0",
        widget=forms.RadioSelect,
    )
    # 承办 / 答复
    result = forms.CharField(
        label="办理情况", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
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

    STEP_FIELDS = {
        "register": (
            "title",
            "doc_type",
            "source_name",
            "source_number",
            "copies",
            "urgency",
            "issued_on",
            "received_on",
            "deadline",
        ),
        "screen": ("return_reason", "return_note"),
        "propose": ("handling_kind", "leader", "lead_unit", "co_units"),
        "instruct": ("lead_unit", "co_units", "deadline"),
        "assign": ("lead_unit", "co_units", "deadline", "readers", "in_order"),
        "handle": ("result",),
        "reply": ("result",),
        "complete": ("result",),
        "archive": ("retention",),
    }
    STEP_ONLY = {name for names in STEP_FIELDS.values() for name in names}

    def __init__(self, *args: Any, step: str, document: Any, process: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.step = step
        self.document = document
        for name in self.STEP_ONLY - set(self.STEP_FIELDS.get(step, ())):
            del self.fields[name]
        decisions = [(Decision.AGREE, AGREE_LABELS.get(step, "同意"))]
        if step == "screen":
            decisions.append((Decision.SEND_BACK, "退文"))
        if step == "handle":
            decisions.append((Decision.NOT_OURS, "非本单位职责"))
        earlier = incoming_earlier_steps(step) if step in INCOMING_STEP_LABELS else []
        if earlier:
            decisions.append((Decision.RETURN, "退回"))
            self.fields["return_to"].choices = [("", "请选择")] + [
                (s, INCOMING_STEP_LABELS[s]) for s in earlier
            ]
        else:
            del self.fields["return_to"]
        self.fields["decision"].choices = decisions
        self.fields["decision"].initial = Decision.AGREE
        agency_id = document.agency_id
        if "lead_unit" in self.fields:
            self.fields["lead_unit"].queryset = units_of(agency_id)  # type: ignore[attr-defined]
            self.fields["co_units"].queryset = units_of(agency_id)  # type: ignore[attr-defined]
            self.fields["lead_unit"].initial = process.lead_unit_id
            self.fields["co_units"].initial = list(process.co_units or [])
            if step == "propose":
                self.fields["lead_unit"].label = "建议主办单位"
                self.fields["co_units"].label = "建议协办单位"
        if "deadline" in self.fields and step != "register":
            self.fields["deadline"].initial = process.deadline or document.deadline
            if step == "instruct" and document.urgency in URGENT:
                self.fields["deadline"].help_text = "紧急公文必须确定办理时限。"
        if "leader" in self.fields:
            self.fields["leader"].queryset = leaders_of(agency_id)  # type: ignore[attr-defined]
            self.fields["leader"].initial = process.instructing_leader_id
            self.fields["handling_kind"].initial = process.handling_kind or HandlingKind.FOR_ACTION
        if "readers" in self.fields:
            self.fields["readers"].queryset = people_of(agency_id)  # type: ignore[attr-defined]
            self.fields["readers"].widget.attrs["size"] = 6
            self.fields["readers"].help_text = "阅知性公文须选择传阅人；批办性公文可另送领导传阅。"
        if "result" in self.fields and step == "reply":
            self.fields["result"].label = "办理结果"
            self.fields["result"].help_text = "将告知来文单位；需行文答复的，请用下方“拟文答复”。"
        if step == "complete":
            self.fields["result"].label = "办理结果"
            self.fields["result"].initial = document.incoming.result
            self.fields["result"].help_text = "办结时告知来文单位；不填则沿用答复环节的办理结果。"
        if step == "register":
            incoming = document.incoming
            # Left empty, the 办理时限 is counted from the 紧急程度 in 工作日 (the service does it).
            current = document.deadline.isoformat() if document.deadline else "无"
            self.fields["deadline"].help_text = f"不填则按紧急程度以工作日计算（当前：{current}）。"
            self.initial.setdefault("title", document.title)
            self.initial.setdefault("doc_type", document.doc_type)
            self.initial.setdefault("source_name", incoming.source_name)
            self.initial.setdefault("source_number", incoming.source_number)
            self.initial.setdefault("copies", incoming.copies)
            self.initial.setdefault("urgency", document.urgency)
            self.initial.setdefault("issued_on", document.issued_on)
            self.initial.setdefault("received_on", incoming.received_on)
            for name in ("title", "doc_type", "source_name", "copies", "urgency", "received_on"):
                self.fields[name].required = True

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
        if decision == Decision.SEND_BACK:
            if not data.get("return_reason"):
                self.add_error("return_reason", "请选择退文理由。")
            if not (data.get("return_note") or "").strip():
                self.add_error("return_note", "请填写退文说明。")
        if decision == Decision.NOT_OURS and not opinion:
            self.add_error("opinion", "请说明为何不属于本单位职责。")
        if decision != Decision.AGREE:
            return data
        step = self.step
        if (
            step == "propose"
            and data.get("handling_kind") == HandlingKind.FOR_ACTION
            and not data.get("leader")
        ):
            self.add_error("leader", "批办性公文请选择批办领导。")
        if step == "instruct":
            if not data.get("lead_unit"):
                self.add_error("lead_unit", "请确定主办单位。")
            if self.document.urgency in URGENT and not data.get("deadline"):
                self.add_error("deadline", "紧急公文必须确定办理时限。")
        lead = data.get("lead_unit")
        if step in ("propose", "instruct", "assign") and lead and lead in (data.get("co_units") or []):
            self.add_error("co_units", "主办单位不能同时作为协办单位。")
        if step in ("handle", "reply") and not (data.get("result") or "").strip():
            self.add_error("result", "请填写办理情况。" if step == "handle" else "请填写办理结果。")
        if step == "archive" and not data.get("retention"):
            self.add_error("retention", "请选择保管期限。")
        if step == "register":
            received, issued = data.get("received_on"), data.get("issued_on")
            if received and issued and issued > received:
                self.add_error("issued_on", "成文日期不能晚于收文日期。")
        return data

    def registration(self) -> dict[str, Any] | None:
        if self.step != "register":
            return None
        data = self.cleaned_data
        return {
            name: data.get(name)
            for name in (
                "title",
                "doc_type",
                "source_name",
                "source_number",
                "copies",
                "urgency",
                "issued_on",
                "received_on",
                "deadline",
            )
        }


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class RegisterByHandForm(forms.Form):
    """收文登记 by hand: a paper document or one from an outside system, scanned, with its facts."""

    title = forms.CharField(label="标题", max_length=200)
    doc_type = forms.ChoiceField(label="文种", choices=DocType.choices, initial=DocType.NOTICE)
    source_agency = forms.ModelChoiceField(
        label="来文单位（平台内机关）",
        queryset=Agency.objects.none(),
        required=False,
        empty_label="不在平台内，按下方名称登记",
    )
    source_name = forms.CharField(
        label="来文单位", max_length=100, required=False, help_text="选了平台内机关可不填。"
    )
    source_number = forms.CharField(label="来文字号", max_length=40, required=False)
    urgency = forms.ChoiceField(label="紧急程度", choices=Urgency.choices, initial=Urgency.NORMAL)
    issued_on = forms.DateField(label="成文日期", required=False, widget=DATE)
    received_on = forms.DateField(label="收文日期", widget=DATE)
    copies = forms.IntegerField(label="份数", min_value=1, max_value=9999, initial=1)
    deadline = forms.DateField(
        label="办理时限", required=False, widget=DATE, help_text="不填则按紧急程度以工作日计算。"
    )
    scanned_file = forms.FileField(label="扫描件（PDF 或图片）")
    attachments = MultipleFileField(label="附件", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source_agency"].queryset = Agency.objects.filter(is_active=True).order_by("path")  # type: ignore[attr-defined]
        self.fields["received_on"].initial = timezone.localdate()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        agency = data.get("source_agency")
        if not (data.get("source_name") or "").strip():
            if agency is None:
                self.add_error("source_name", "请填写来文单位。")
            else:
                data["source_name"] = agency.name
        received: date | None = data.get("received_on")
        issued: date | None = data.get("issued_on")
        if received and issued and issued > received:
            self.add_error("issued_on", "成文日期不能晚于收文日期。")
        return data


class AssignHandlerForm(forms.Form):
    """A unit head gives the unit's 承办 task to a person of the unit (指派承办人)."""

    handler = PersonChoiceField(label="承办人", queryset=User.objects.none(), empty_label="请选择")

    def __init__(self, *args: Any, unit_id: int | None, exclude: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        people = User.objects.filter(is_active=True, department_id=unit_id).select_related("department")
        if exclude:
            people = people.exclude(pk=exclude)
        self.fields["handler"].queryset = people.order_by("pk")  # type: ignore[attr-defined]


class ReplyDraftForm(forms.Form):
    """拟文答复: a 发文 (批复, 函 …) in reply, started from the 答复 or 承办 step."""

    doc_type = forms.ChoiceField(
        label="文种",
        choices=[
            (DocType.REPLY, "批复"),
            (DocType.LETTER, "函"),
            (DocType.NOTICE, "通知"),
            (DocType.REPORT, "报告"),
        ],
        initial=DocType.LETTER,
    )
    reply_title = forms.CharField(label="答复标题", max_length=200)


class IncomingFilterForm(forms.Form):
    """收文登记簿's filter: state, year, urgency, 来文单位, and a search over title / 收文号 / 来文字号."""

    STATES = [
        ("", "全部状态"),
        *[
            (s.value, s.label)
            for s in (
                DocumentState.REGISTER,
                DocumentState.SCREEN,
                DocumentState.PROPOSE,
                DocumentState.INSTRUCT,
                DocumentState.ASSIGN,
                DocumentState.HANDLE,
                DocumentState.REPLY,
                DocumentState.COMPLETE,
                DocumentState.ARCHIVE,
                DocumentState.ARCHIVED,
                DocumentState.RETURNED,
            )
        ],
        ("overdue", "已超期"),
    ]
    state = forms.ChoiceField(label="状态", choices=STATES, required=False)
    year = forms.IntegerField(label="年度", min_value=2000, max_value=2100, required=False)
    urgency = forms.ChoiceField(label="紧急程度", choices=[("", "全部"), *Urgency.choices], required=False)
    source = forms.CharField(label="来文单位", max_length=100, required=False)
    q = forms.CharField(label="搜索", max_length=100, required=False, help_text="标题、收文号或来文字号")
