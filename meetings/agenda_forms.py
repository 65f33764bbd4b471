"""Forms of the agenda page: an agenda item, a move, a material upload. They parse; the rules
(time inside the meeting, file type and size) are the services' (meetings.agenda)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model

from meetings.agenda import ITEM_MAX_MINUTES, MATERIAL_TITLE_MAX_CHARS, PRESENTER_MAX_CHARS, TITLE_MAX_CHARS
from meetings.fields import refuse_out_of_range
from meetings.models import AgendaItem, Meeting, Rsvp


def presenter_choices(meeting: Meeting) -> Any:
    """Who may present: the host, the organiser and the invited."""
    ids = {
        meeting.host_id,
        meeting.organiser_id,
        *Rsvp.objects.filter(meeting=meeting).values_list("user_id", flat=True),
    }
    return get_user_model().objects.filter(pk__in=ids, is_active=True).order_by("pk")


class AgendaItemForm(forms.Form):
    title = forms.CharField(label="议题", max_length=TITLE_MAX_CHARS)
    presenter = forms.ModelChoiceField(
        label="汇报人（参会人员）",
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label="（不选）",
    )
    presenter_name = forms.CharField(
        label="汇报人（其他）",
        max_length=PRESENTER_MAX_CHARS,
        required=False,
        help_text="不在参会名单中的汇报人，填写姓名。",
    )
    starts_at = forms.DateTimeField(
        label="开始时间",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    minutes = forms.IntegerField(label="时长（分钟）", min_value=1, max_value=ITEM_MAX_MINUTES, initial=15)
    notes = forms.CharField(
        label="说明", widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000
    )

    def __init__(self, *args: Any, meeting: Meeting, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["presenter"].queryset = presenter_choices(meeting)  # type: ignore[attr-defined]
        self.fields["presenter"].label_from_instance = lambda u: u.real_name or u.username  # type: ignore[attr-defined]

    def clean_starts_at(self) -> Any:
        return refuse_out_of_range(self.cleaned_data.get("starts_at"))

    @classmethod
    def for_item(cls, item: AgendaItem, meeting: Meeting) -> AgendaItemForm:
        return cls(
            meeting=meeting,
            initial={
                "title": item.title,
                "presenter": item.presenter_id,
                "presenter_name": "" if item.presenter_id else item.presenter_name,
                "starts_at": item.starts_at,
                "minutes": item.minutes,
                "notes": item.notes,
            },
            prefix=f"item{item.pk}",
        )


class MoveForm(forms.Form):
    position = forms.IntegerField(label="移到第几项", min_value=1, max_value=1000)


class MaterialForm(forms.Form):
    file = forms.FileField(label="文件", error_messages={"required": "请选择要上传的文件。"})
    title = forms.CharField(
        label="材料名称", max_length=MATERIAL_TITLE_MAX_CHARS, required=False, help_text="不填则用文件名。"
    )
    agenda_item = forms.ModelChoiceField(
        label="所属议题", queryset=AgendaItem.objects.none(), required=False, empty_label="（整个会议）"
    )

    def __init__(self, *args: Any, meeting: Meeting, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agenda_item"].queryset = AgendaItem.objects.filter(meeting=meeting)  # type: ignore[attr-defined]
