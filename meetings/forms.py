"""Forms of the meeting pages: they parse and refuse in Chinese; meetings.services decides the rest
(who may be host, whether the room is free, quotas, delegates)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone

from meetings import access
from meetings.fields import IdsChoiceField, refuse_out_of_range
from meetings.models import MeetingKind, Reply, Room, Series
from officeapp.org.models import Agency, Department, User

TITLE_MAX = 120
NOTICE_MAX = 5000
REASON_MAX = 200
PEOPLE_MAX = 500
DATETIME_INPUT = "%Y-%m-%dT%H:%M"


def _refusals(field: forms.Field, **messages: str) -> None:
    field.error_messages.update(messages)


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(format=DATETIME_INPUT)


class PeopleField(forms.Field):
    """User ids, one "members" value each (the 通讯录 picker's checkboxes), cleaned to active users
    in the order picked."""

    widget = forms.MultipleHiddenInput

    def clean(self, value: Any) -> list[User]:  # type: ignore[override]
        values = value if isinstance(value, list | tuple) else [value] if value else []
        ids: list[int] = []
        for part in (str(v).strip() for v in values):
            if not part:
                continue
            if not part.isascii() or not part.isdigit() or len(part) > 12:
                raise forms.ValidationError("所选人员不在可选范围内，请重新选择。")
            if int(part) not in ids:
                ids.append(int(part))
        if len(ids) > PEOPLE_MAX:
            raise forms.ValidationError(f"一次最多选择 {PEOPLE_MAX} 人。")
        found = User.objects.filter(pk__in=ids, is_active=True).in_bulk()
        if len(found) != len(ids):
            raise forms.ValidationError("所选人员不在可选范围内，请重新选择。")
        if self.required and not ids:
            raise forms.ValidationError(self.error_messages["required"])
        return [found[i] for i in ids]


def _room_label(room: Room) -> str:
    return f"{room.name}（{room.capacity}人{'，需审批' if room.requires_approval else ''}）"


class MeetingForm(forms.Form):
    title = forms.CharField(label="会议名称", max_length=TITLE_MAX)
    kind = forms.ChoiceField(label="会议类型", choices=MeetingKind.choices, initial=MeetingKind.OFFICE)
    starts_at = forms.DateTimeField(
        label="开始时间", widget=LocalDateTimeInput(), input_formats=[DATETIME_INPUT]
    )
    ends_at = forms.DateTimeField(
        label="结束时间", widget=LocalDateTimeInput(), input_formats=[DATETIME_INPUT]
    )
    host = forms.ModelChoiceField(label="主持人", queryset=User.objects.none())
    room = forms.ModelChoiceField(
        label="会议室", queryset=Room.objects.none(), required=False, empty_label="不使用会议室"
    )
    online = forms.BooleanField(label="线上参会（视频会）", required=False)
    notice = forms.CharField(
        label="会议通知", max_length=NOTICE_MAX, required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    remind_minutes_before = forms.IntegerField(
        label="开会前提醒未回执人员（分钟，0 为不提醒）", initial=60, min_value=0
    )
    frequency = forms.ChoiceField(
        label="重复",
        required=False,
        choices=[("", "不重复"), *Series.Frequency.choices],
    )
    count = forms.IntegerField(label="重复次数", required=False, min_value=2, max_value=52)

    def __init__(self, *args: Any, user: Any, series: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        agency_id = getattr(getattr(user, "department", None), "agency_id", None)
        self.fields["host"].queryset = (
            User.objects.filter(is_active=True, department__agency_id=agency_id)
            .select_related("department")
            .order_by("department__sort_order", "sort_order", "pk")
        )
        self.fields["host"].label_from_instance = lambda u: f"{u.real_name}（{u.department.name}）"
        self.fields["room"].queryset = access.visible_rooms(user).filter(is_active=True).order_by("name")
        self.fields["room"].label_from_instance = _room_label
        if not series:
            del self.fields["frequency"]
            del self.fields["count"]
        _refusals(
            self.fields["title"], required="请填写会议名称。", max_length=f"会议名称最多 {TITLE_MAX} 个字。"
        )
        _refusals(self.fields["kind"], required="请选择会议类型。", invalid_choice="请选择会议类型。")
        for name in ("starts_at", "ends_at"):
            _refusals(
                self.fields[name],
                required="请填写会议的开始和结束时间。",
                invalid="时间格式不对，请重新选择。",
            )
        _refusals(self.fields["host"], required="请选择主持人。", invalid_choice="所选主持人不在可选范围内。")
        _refusals(self.fields["room"], invalid_choice="所选会议室不可用，请重新选择。")
        _refusals(self.fields["notice"], max_length=f"会议通知最多 {NOTICE_MAX} 个字。")
        _refusals(
            self.fields["remind_minutes_before"],
            required="请填写提前提醒的分钟数（0 为不提醒）。",
            invalid="提前提醒的分钟数须是整数。",
            min_value="提前提醒的分钟数不能为负数。",
        )
        if series:
            _refusals(
                self.fields["count"],
                invalid="重复次数须是整数。",
                min_value="重复次数至少 2 次。",
                max_value="重复次数最多 52 次。",
            )

    def clean_starts_at(self) -> Any:
        return refuse_out_of_range(self.cleaned_data.get("starts_at"))

    def clean_ends_at(self) -> Any:
        return refuse_out_of_range(self.cleaned_data.get("ends_at"))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("frequency") and not data.get("count"):
            self.add_error("count", "请填写重复次数。")
        return data

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            key: data[key]
            for key in (
                "title",
                "kind",
                "starts_at",
                "ends_at",
                "host",
                "room",
                "online",
                "notice",
                "remind_minutes_before",
            )
        }


def initial_for(meeting: Any) -> dict[str, Any]:
    return {
        "title": meeting.title,
        "kind": meeting.kind,
        "starts_at": timezone.localtime(meeting.starts_at).strftime(DATETIME_INPUT),
        "ends_at": timezone.localtime(meeting.ends_at).strftime(DATETIME_INPUT),
        "host": meeting.host_id,
        "room": meeting.room.pk if meeting.room else None,
        "online": meeting.online,
        "notice": meeting.notice,
        "remind_minutes_before": meeting.remind_minutes_before,
    }


class InviteesForm(forms.Form):
    """People (picker: "members"), whole departments of the organiser's agency ("departments") and
    agencies ("agencies", each with its "quota_<id>")."""

    members = PeopleField(label="参会人员", required=False)
    departments = IdsChoiceField(
        label="整个部门",
        queryset=Department.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    agencies = IdsChoiceField(
        label="邀请单位（由其收发员报送参会人员）",
        queryset=Agency.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, meeting: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["departments"].queryset = Department.objects.filter(
            agency_id=meeting.agency_id, is_active=True
        ).order_by("sort_order", "pk")
        self.fields["agencies"].queryset = (
            Agency.objects.filter(is_active=True).exclude(pk=meeting.agency_id).order_by("path", "sort_order")
        )
        self.fields["agencies"].label_from_instance = lambda a: a.short_name or a.name
        _refusals(
            self.fields["departments"],
            invalid_choice="所选部门不在可选范围内。",
            invalid_pk_value="所选部门不在可选范围内。",
        )
        _refusals(
            self.fields["agencies"],
            invalid_choice="所选单位不在可选范围内。",
            invalid_pk_value="所选单位不在可选范围内。",
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        quotas: list[tuple[Agency, int]] = []
        for agency in data.get("agencies") or []:
            raw = str(self.data.get(f"quota_{agency.pk}", "") or "0").strip()
            if not raw.isascii() or not raw.isdigit() or len(raw) > 3:
                self.add_error(
                    "agencies",
                    f"{agency.short_name or agency.name} 的名额须是 0 到 999 的整数（0 表示不限）。",
                )
                continue
            quotas.append((agency, int(raw)))
        data["quotas"] = quotas
        return data


class ReplyForm(forms.Form):
    reply = forms.ChoiceField(
        label="回执",
        choices=[(Reply.ATTEND, "参加"), (Reply.LEAVE, "请假"), (Reply.DELEGATE, "指派他人")],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label="请假事由", max_length=REASON_MAX, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    delegate = forms.ModelChoiceField(
        label="指派人员（本部门）", queryset=User.objects.none(), required=False
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["delegate"].queryset = (
            User.objects.filter(is_active=True, department_id=user.department_id)
            .exclude(pk=user.pk)
            .order_by("sort_order", "pk")
        )
        self.fields["delegate"].label_from_instance = lambda u: u.real_name
        _refusals(
            self.fields["reply"],
            required="请选择回执：参加、请假或指派他人。",
            invalid_choice="请选择回执：参加、请假或指派他人。",
        )
        _refusals(self.fields["reason"], max_length=f"请假事由不能超过 {REASON_MAX} 个字。")
        _refusals(self.fields["delegate"], invalid_choice="只能指派本部门的人员参会。")


class ChooseForm(forms.Form):
    members = IdsChoiceField(
        label="参会人员", queryset=User.objects.none(), widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, agency_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = (
            User.objects.filter(is_active=True, department__agency_id=agency_id)
            .select_related("department")
            .order_by("department__sort_order", "sort_order", "pk")
        )
        self.fields["members"].label_from_instance = lambda u: f"{u.real_name}（{u.department.name}）"
        _refusals(
            self.fields["members"],
            required="请至少选择一位参会人员。",
            invalid_choice="所选人员不是本单位人员。",
            invalid_pk_value="所选人员不是本单位人员。",
        )


class CancelForm(forms.Form):
    reason = forms.CharField(label="取消原因", max_length=200, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _refusals(
            self.fields["reason"], required="请填写取消会议的原因。", max_length="取消原因不能超过 200 个字。"
        )
