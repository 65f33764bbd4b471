"""Forms of the minutes page: the 纪要 body and the 议定事项 rows (a formset)."""

from __future__ import annotations

from typing import Any

from django import forms

from meetings.access import MAX_ID
from meetings.fields import refuse_out_of_range
from meetings.minutes import BODY_MAX_CHARS, DECISION_MAX_CHARS, DecisionInput
from meetings.models import Meeting, Minutes
from officeapp.org.models import Department

BLANK_DECISION_ROWS = 3


class MinutesBodyForm(forms.Form):
    body = forms.CharField(
        label="纪要正文",
        widget=forms.Textarea(attrs={"rows": 14}),
        required=False,
        max_length=BODY_MAX_CHARS,
        help_text="每段一行；以“一、”“（一）”“1.”“（1）”开头的行自动作为各级标题。",
    )


MSG_STALE_ROW = "议定事项已被他人修改，请刷新页面后重试。"


class DecisionForm(forms.Form):
    # A row's own id, posted back: bounded so a forged one is a form error, not a database overflow.
    id = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1, max_value=MAX_ID)
    text = forms.CharField(
        label="议定事项",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=DECISION_MAX_CHARS,
    )
    lead_department = forms.ModelChoiceField(
        label="牵头单位", queryset=Department.objects.none(), required=False, empty_label="（未指定）"
    )
    due_on = forms.DateField(label="完成时限", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean_due_on(self) -> Any:
        return refuse_out_of_range(self.cleaned_data.get("due_on"))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        # The id is a hidden field: its refusal would show nowhere, so the row says it.
        if "id" in self.errors:
            self.add_error(None, MSG_STALE_ROW)
        return data

    def __init__(self, *args: Any, meeting: Meeting | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["id"].error_messages.update(
            invalid=MSG_STALE_ROW, min_value=MSG_STALE_ROW, max_value=MSG_STALE_ROW
        )
        if meeting is not None:
            field = self.fields["lead_department"]
            field.queryset = Department.objects.filter(is_active=True, agency_id=meeting.agency_id).order_by(
                "pk"
            )  # type: ignore[attr-defined]
            field.label_from_instance = lambda d: d.name  # type: ignore[attr-defined]


DecisionFormSet = forms.formset_factory(DecisionForm, extra=0, max_num=60, validate_max=True)


def decision_formset(meeting: Meeting, minutes: Minutes | None, data: Any = None) -> Any:
    initial = []
    if minutes is not None:
        initial = [
            {"id": d.pk, "text": d.text, "lead_department": d.lead_department_id, "due_on": d.due_on}
            for d in minutes.decisions.order_by("order")
        ]
    initial += [{} for _ in range(BLANK_DECISION_ROWS)]
    if data is not None:
        return DecisionFormSet(data, prefix="decisions", form_kwargs={"meeting": meeting})
    return DecisionFormSet(initial=initial, prefix="decisions", form_kwargs={"meeting": meeting})


def decision_inputs(formset: Any) -> list[DecisionInput]:
    return [
        DecisionInput(
            text=f.cleaned_data.get("text") or "",
            lead_department=f.cleaned_data.get("lead_department"),
            due_on=f.cleaned_data.get("due_on"),
            id=f.cleaned_data.get("id"),
        )
        for f in formset.forms
        if f.cleaned_data
    ]
