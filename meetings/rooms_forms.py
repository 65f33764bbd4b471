"""Forms of the room pages: they parse and refuse in Chinese; meetings.booking decides the rest
(times in the past, overlaps, capacity, who may)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django import forms
from django.utils import timezone

from meetings.booking import BOOKING_MAX_HOURS, SERIES_MAX_COUNT, SERIES_MAX_INTERVAL
from meetings.fields import IdsChoiceField, in_range, refuse_out_of_range
from meetings.models import BookableBy, Room, Series
from officeapp.org.models import Department, User

REPEAT_CHOICES = [("", "不重复"), *Series.Frequency.choices]


def _refusals(field: forms.Field, **messages: str) -> None:
    field.error_messages.update(messages)


def parse_day(value: str | None, default: date) -> date:
    """A yyyy-mm-dd from the query string, or `default` (a bad value is not an error page; nor is a
    day so far out that the previous or next day would leave the calendar)."""
    if value:
        try:
            day = date.fromisoformat(value[:10])
        except ValueError:
            pass
        else:
            if in_range(day):
                return day
    return default


class BookingForm(forms.Form):
    day = forms.DateField(label="日期", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    start = forms.TimeField(label="开始时间", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    end = forms.TimeField(label="结束时间", widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    purpose = forms.CharField(label="用途", max_length=120, required=False)
    attendees = forms.IntegerField(label="人数", min_value=1, initial=1)
    repeat = forms.ChoiceField(label="重复", choices=REPEAT_CHOICES, required=False)
    count = forms.IntegerField(
        label="次数", min_value=1, max_value=SERIES_MAX_COUNT, initial=1, required=False
    )
    interval = forms.IntegerField(
        label="间隔（周/月）", min_value=1, max_value=SERIES_MAX_INTERVAL, initial=1, required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _refusals(self.fields["day"], required="请选择日期。", invalid="日期格式不正确。")
        _refusals(self.fields["start"], required="请填写开始时间。", invalid="时间格式不正确，例如 09:30。")
        _refusals(self.fields["end"], required="请填写结束时间。", invalid="时间格式不正确，例如 11:00。")
        _refusals(self.fields["purpose"], max_length="用途最多 120 个字。")
        _refusals(
            self.fields["attendees"],
            required="请填写参会人数。",
            invalid="人数须为整数。",
            min_value="参会人数至少为 1 人。",
        )
        _refusals(self.fields["repeat"], invalid_choice="请选择重复方式。")
        _refusals(
            self.fields["count"],
            invalid="次数须为整数。",
            min_value=f"重复次数须在 1 到 {SERIES_MAX_COUNT} 次之间。",
            max_value=f"重复次数须在 1 到 {SERIES_MAX_COUNT} 次之间。",
        )
        _refusals(
            self.fields["interval"],
            invalid="间隔须为整数。",
            min_value=f"间隔须在 1 到 {SERIES_MAX_INTERVAL} 之间。",
            max_value=f"间隔须在 1 到 {SERIES_MAX_INTERVAL} 之间。",
        )
        self.fields["end"].help_text = f"一次最长 {BOOKING_MAX_HOURS} 小时"

    def clean_day(self) -> Any:
        return refuse_out_of_range(self.cleaned_data.get("day"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        day, start, end = data.get("day"), data.get("start"), data.get("end")
        if isinstance(day, date) and isinstance(start, time) and isinstance(end, time):
            data["starts_at"] = timezone.make_aware(datetime.combine(day, start))
            data["ends_at"] = timezone.make_aware(datetime.combine(day, end))
        if data.get("repeat") and not data.get("count"):
            self.add_error("count", "请填写重复次数。")
        return data


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "批准"), ("refuse", "不批准")])
    note = forms.CharField(label="意见", max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _refusals(
            self.fields["decision"], required="请选择批准或不批准。", invalid_choice="请选择批准或不批准。"
        )
        _refusals(self.fields["note"], max_length="意见最多 200 个字。")


class CancelForm(forms.Form):
    reason = forms.CharField(label="取消原因", max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _refusals(self.fields["reason"], max_length="取消原因最多 200 个字。")


class RoomForm(forms.Form):
    name = forms.CharField(label="名称", max_length=60)
    location = forms.CharField(label="位置", max_length=120, required=False)
    capacity = forms.IntegerField(label="容纳人数", min_value=1, max_value=10_000)
    equipment = forms.CharField(
        label="设备",
        max_length=500,
        required=False,
        help_text="用逗号或顿号分隔，例如：投影、话筒、视频会议终端",
    )
    bookable_by = forms.ChoiceField(label="谁可预订", choices=BookableBy.choices, widget=forms.RadioSelect)
    bookable_departments = IdsChoiceField(
        label="可预订部门",
        queryset=Department.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    requires_approval = forms.BooleanField(label="预订需审批", required=False)
    admins = IdsChoiceField(
        label="会议室管理员",
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    is_active = forms.BooleanField(label="启用", required=False, initial=True)

    def __init__(self, *args: Any, agency_id: int, may_set_admins: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["bookable_departments"].queryset = Department.objects.filter(
            agency_id=agency_id
        ).order_by("pk")
        self.fields["admins"].queryset = User.objects.filter(
            is_active=True, department__agency_id=agency_id
        ).order_by("pk")
        if not may_set_admins:
            del self.fields["admins"]
        _refusals(self.fields["name"], required="请填写会议室名称。", max_length="会议室名称最多 60 个字。")
        _refusals(self.fields["location"], max_length="位置最多 120 个字。")
        capacity = "容纳人数须为 1 到 10000 之间的整数。"
        _refusals(
            self.fields["capacity"],
            required="请填写容纳人数。",
            invalid=capacity,
            min_value=capacity,
            max_value=capacity,
        )
        _refusals(self.fields["equipment"], max_length="设备清单过长。")
        _refusals(
            self.fields["bookable_by"], required="请选择谁可以预订。", invalid_choice="请选择谁可以预订。"
        )
        _refusals(self.fields["bookable_departments"], invalid_choice="只能选择本机关的部门。")
        if "admins" in self.fields:
            _refusals(self.fields["admins"], invalid_choice="所选人员不在可选范围内，请重新选择。")

    @staticmethod
    def initial_for(room: Room) -> dict[str, Any]:
        return {
            "name": room.name,
            "location": room.location,
            "capacity": room.capacity,
            "equipment": "、".join(room.equipment or []),
            "bookable_by": room.bookable_by,
            "bookable_departments": list(room.bookable_departments.all()),
            "requires_approval": room.requires_approval,
            "admins": list(room.admins.all()),
            "is_active": room.is_active,
        }
