"""What the REST API says about a meeting (meetings/api.py). Read-only; each serializer reads only
what the view has loaded, so a page of meetings costs the same queries whatever its size."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class MeetingPersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(help_text="姓名")


class MeetingRoomSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(help_text="会议室")
    location = serializers.CharField(help_text="位置")


def _person(user: Any) -> dict[str, Any] | None:
    return {"id": user.pk, "name": user.real_name or user.username} if user is not None else None


class MeetingSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField(help_text="会议名称")
    kind = serializers.CharField(help_text="会议类型：office、topic、video、forum、training、other")
    kind_label = serializers.CharField(source="get_kind_display")
    status = serializers.CharField(help_text="状态：noticed、live、ended、cancelled（草稿不出现）")
    status_label = serializers.CharField(source="get_status_display")
    agency = serializers.SerializerMethodField(help_text="主办机关")
    starts_at = serializers.DateTimeField(help_text="开始时间")
    ends_at = serializers.DateTimeField(help_text="结束时间")
    room = serializers.SerializerMethodField(help_text="会议室（线上会议或尚未选定时为空）")
    online = serializers.BooleanField(help_text="线上参会")
    host = serializers.SerializerMethodField(help_text="主持人")
    organiser = serializers.SerializerMethodField(help_text="组织者")
    updated_at = serializers.DateTimeField(help_text="更新时间")

    @extend_schema_field(MeetingPersonSerializer)
    def get_agency(self, meeting: Any) -> dict[str, Any]:
        return {"id": meeting.agency_id, "name": meeting.agency.name}

    @extend_schema_field(MeetingRoomSerializer(allow_null=True))
    def get_room(self, meeting: Any) -> dict[str, Any] | None:
        room = meeting.booking.room if meeting.booking_id else None
        return {"id": room.pk, "name": room.name, "location": room.location} if room else None

    @extend_schema_field(MeetingPersonSerializer)
    def get_host(self, meeting: Any) -> dict[str, Any] | None:
        return _person(meeting.host)

    @extend_schema_field(MeetingPersonSerializer)
    def get_organiser(self, meeting: Any) -> dict[str, Any] | None:
        return _person(meeting.organiser)


class AgendaItemSerializer(serializers.Serializer):
    order = serializers.IntegerField(help_text="顺序")
    title = serializers.CharField(help_text="议题")
    presenter = serializers.SerializerMethodField(help_text="汇报人")
    starts_at = serializers.DateTimeField(allow_null=True)
    minutes = serializers.IntegerField(help_text="时长（分钟）")

    @extend_schema_field(serializers.CharField())
    def get_presenter(self, item: Any) -> str:
        return item.presenter_name or (item.presenter.real_name if item.presenter else "")


class MaterialSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField(help_text="名称")
    filename = serializers.CharField(help_text="文件名")
    agenda_order = serializers.IntegerField(source="agenda_item.order", allow_null=True, default=None)
    page_url = serializers.SerializerMethodField(
        help_text="在 officeapp 中下载的地址（仅用户令牌；页面按当前登录用户再次检查权限）"
    )

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_page_url(self, material: Any) -> str | None:
        if not self.context.get("for_user"):
            return None
        return reverse("meetings:material", args=[material.pk])


class RsvpSerializer(serializers.Serializer):
    reply = serializers.CharField(help_text="回执：空（未回复）、attend、leave、delegate")
    reply_label = serializers.CharField(source="get_reply_display")
    reason = serializers.CharField(help_text="请假事由")
    replied_at = serializers.DateTimeField(allow_null=True)
    checked_in_at = serializers.DateTimeField(allow_null=True, help_text="签到时间")


class RsvpCountsSerializer(serializers.Serializer):
    invited = serializers.IntegerField(help_text="应回执人数")
    attend = serializers.IntegerField(help_text="参加")
    leave = serializers.IntegerField(help_text="请假")
    delegate = serializers.IntegerField(help_text="指派他人")
    silent = serializers.IntegerField(help_text="未回执")
    checked_in = serializers.IntegerField(help_text="已签到")
    expected = serializers.IntegerField(help_text="应到")


class MeetingDetailSerializer(MeetingSerializer):
    """The meeting with its agenda; its materials for whoever reads them; the caller's own 回执 (user
    token); the 回执 counts for whoever manages the meeting."""

    notice = serializers.CharField(help_text="会议通知")
    agenda = AgendaItemSerializer(many=True, source="api_agenda", help_text="议题")
    materials = MaterialSerializer(
        many=True, source="api_materials", allow_null=True, help_text="会议材料（无权阅读时为 null）"
    )
    my_rsvp = RsvpSerializer(source="api_rsvp", allow_null=True, help_text="调用用户本人的回执")
    rsvp_counts = RsvpCountsSerializer(source="api_counts", allow_null=True, help_text="回执统计（仅组织方）")
