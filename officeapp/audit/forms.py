"""The audit page's filter form: what the 审计管理员 searches by, turned into an indexed query."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django import forms
from django.db.models import Q, QuerySet

from officeapp.audit.models import AuditEvent, Outcome
from officeapp.org.models import Agency, User

PLATFORM_NAMES = ("platform", "平台")
# A name shared by more people than this is too vague to filter by; ask for the 工号 instead.
MAX_ACTORS_PER_NAME = 50


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M")


class EventFilterForm(forms.Form):
    start = forms.DateTimeField(label="开始时间", required=False, widget=DateTimeLocalInput())
    end = forms.DateTimeField(label="结束时间", required=False, widget=DateTimeLocalInput())
    actor = forms.CharField(label="操作人（姓名、工号或账号）", required=False, max_length=120)
    action = forms.CharField(label="操作（可填前缀，如 org.）", required=False, max_length=64)
    object_type = forms.CharField(label="对象类型", required=False, max_length=64)
    object_id = forms.CharField(label="对象 ID", required=False, max_length=64)
    outcome = forms.ChoiceField(label="结果", required=False, choices=[("", "全部"), *Outcome.choices])
    chain = forms.CharField(label="机关（机构代码或名称，“平台”为平台链）", required=False, max_length=100)
    client_address = forms.GenericIPAddressField(
        label="客户端地址", required=False, error_messages={"invalid": "请输入有效的 IP 地址。"}
    )
    # Keyset cursor: show events with an id below this one (the "next page" link sets it).
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actor_ids: list[int] = []
        self.chain_name: str = ""
        self.fields["start"].error_messages["invalid"] = "请输入有效的时间。"
        self.fields["end"].error_messages["invalid"] = "请输入有效的时间。"
        self.fields["before"].error_messages["invalid"] = "分页参数无效。"
        self.fields["outcome"].error_messages["invalid_choice"] = "请选择有效的结果。"

    def _clean_moment(self, name: str) -> datetime | None:
        # A time the database cannot hold once turned into UTC (0001-01-01 in Shanghai is still
        # year 0 in UTC) is as invalid as one that does not parse.
        value: datetime | None = self.cleaned_data[name]
        if value is not None:
            try:
                value.astimezone(UTC)
            except OverflowError as exc:
                raise forms.ValidationError("请输入有效的时间。") from exc
        return value

    def clean_start(self) -> datetime | None:
        return self._clean_moment("start")

    def clean_end(self) -> datetime | None:
        return self._clean_moment("end")

    def clean_actor(self) -> str:
        value: str = self.cleaned_data["actor"].strip()
        if value:
            ids = list(
                User.objects.filter(
                    Q(real_name=value) | Q(employee_no=value) | Q(username=value)
                ).values_list("id", flat=True)[: MAX_ACTORS_PER_NAME + 1]
            )
            if not ids:
                raise forms.ValidationError("未找到该操作人。")
            if len(ids) > MAX_ACTORS_PER_NAME:
                raise forms.ValidationError("同名人员过多，请改用工号。")
            self.actor_ids = ids
        return value

    def clean_chain(self) -> str:
        value: str = self.cleaned_data["chain"].strip()
        if not value:
            return value
        if value.lower() in PLATFORM_NAMES:
            self.chain_name = "platform"
            return value
        agency_id = (
            Agency.objects.filter(Q(code=value) | Q(name=value) | Q(short_name=value))
            .order_by("path")
            .values_list("id", flat=True)
            .first()
        )
        if agency_id is None:
            raise forms.ValidationError("未找到该机关。")
        self.chain_name = f"agency:{agency_id}"
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and end <= start:
            self.add_error("end", "结束时间须晚于开始时间。")
        return data

    def filter(self, events: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        """Narrow `events` by the valid form's filters (cursor excluded), newest first."""
        data = self.cleaned_data
        if data.get("start"):
            events = events.filter(occurred_at__gte=data["start"])
        if data.get("end"):
            events = events.filter(occurred_at__lt=data["end"])
        if self.actor_ids:
            events = events.filter(actor_id__in=self.actor_ids)
        if data.get("action"):
            events = events.filter(action__startswith=data["action"].strip())
        if data.get("object_type"):
            events = events.filter(object_type=data["object_type"].strip())
        if data.get("object_id"):
            events = events.filter(object_id=data["object_id"].strip())
        if data.get("outcome"):
            events = events.filter(outcome=data["outcome"])
        if self.chain_name:
            events = events.filter(chain=self.chain_name)
        if data.get("client_address"):
            events = events.filter(client_address=data["client_address"])
        return events.order_by("-id")

    def summary(self) -> dict[str, str]:
        """The filters in use, as text, for the export's own audit event."""
        return {
            name: str(value)
            for name, value in self.cleaned_data.items()
            if value not in (None, "") and name != "before"
        }
