"""What the REST API says about a 督办事项 and its 进展反馈 (workflows/api.py). Read-only: each
serializer reads only what the view's queryset has already loaded (select_related / prefetch), so a
page costs the same number of queries at 5 items and at 200."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class UnitSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["department", "agency"], help_text="处室 或 机关")
    id = serializers.IntegerField()
    name = serializers.CharField()


class PersonRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(help_text="姓名")


def _person(user: Any) -> dict[str, Any] | None:
    return {"id": user.pk, "name": user.real_name or user.username} if user is not None else None


class ItemSerializer(serializers.Serializer):
    """One 督办事项: facts, units, deadline, light and state."""

    id = serializers.IntegerField()
    number = serializers.CharField(help_text="督办编号（登记前为空）")
    title = serializers.CharField(help_text="督办事项")
    source = serializers.CharField(help_text="任务来源（instruction、meeting、document …）")
    source_label = serializers.CharField(source="get_source_display", help_text="任务来源名称")
    source_note = serializers.CharField(source="source_label", help_text="来源说明")
    requirement = serializers.CharField(help_text="办理要求")
    supervising_agency = serializers.SerializerMethodField(help_text="督办机关")
    lead_unit = serializers.SerializerMethodField(help_text="牵头单位")
    co_units = serializers.SerializerMethodField(help_text="协办单位")
    received_on = serializers.DateField(help_text="收到时间")
    due_on = serializers.DateField(allow_null=True, help_text="完成时限")
    light = serializers.CharField(help_text="红黄绿灯：green、yellow、red")
    light_reason = serializers.CharField(help_text="亮灯原因")
    state = serializers.CharField(help_text="状态（register … archived、terminated）")
    state_label = serializers.CharField(source="get_state_display")
    progress = serializers.IntegerField(help_text="完成进度（%）")
    importance = serializers.CharField(help_text="重要程度")
    supervisor = serializers.SerializerMethodField(help_text="督查员")
    report_frequency = serializers.CharField(help_text="反馈频次")
    report_interval_days = serializers.IntegerField(allow_null=True, help_text="反馈间隔（工作日）")
    next_report_on = serializers.DateField(allow_null=True, help_text="下次反馈日期")
    last_report_at = serializers.DateTimeField(allow_null=True, help_text="最近反馈")
    created_at = serializers.DateTimeField(help_text="立项时间")
    completed_at = serializers.DateTimeField(allow_null=True, help_text="办结时间")
    closed_at = serializers.DateTimeField(allow_null=True, help_text="销号时间")
    updated_at = serializers.DateTimeField(help_text="更新时间")

    @extend_schema_field(UnitSerializer)
    def get_supervising_agency(self, item: Any) -> dict[str, Any]:
        return {"kind": "agency", "id": item.agency_id, "name": item.agency.name}

    @extend_schema_field(UnitSerializer(allow_null=True))
    def get_lead_unit(self, item: Any) -> dict[str, Any] | None:
        if item.lead_department_id:
            return {"kind": "department", "id": item.lead_department_id, "name": item.lead_department.name}
        if item.lead_agency_id:
            return {"kind": "agency", "id": item.lead_agency_id, "name": item.lead_agency.name}
        return None

    @extend_schema_field(UnitSerializer(many=True))
    def get_co_units(self, item: Any) -> list[dict[str, Any]]:
        # The item's own display copy of its 协办单位 (written with the unit rows), no query.
        return [
            {"kind": u.get("kind", ""), "id": u.get("id"), "name": u.get("label", "")}
            for u in (item.co_units or [])
        ]

    @extend_schema_field(PersonRefSerializer)
    def get_supervisor(self, item: Any) -> dict[str, Any] | None:
        return _person(item.supervisor)


class AttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    filename = serializers.CharField(help_text="文件名")
    size = serializers.IntegerField(source="blob.size", help_text="字节数")
    page_url = serializers.SerializerMethodField(
        help_text="在 officeapp 中下载的地址（仅用户令牌；由页面按当前登录用户再次检查权限）"
    )

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_page_url(self, attachment: Any) -> str | None:
        from django.urls import reverse

        if not self.context.get("for_user"):
            return None
        return reverse("blobs:download", args=[attachment.blob_id, attachment.filename])


class ReportSerializer(serializers.Serializer):
    """One 进展反馈 or 办结报告 of a unit."""

    id = serializers.IntegerField()
    kind = serializers.CharField(help_text="progress 进展反馈 / completion 办结报告")
    unit = serializers.SerializerMethodField(help_text="反馈单位")
    is_lead = serializers.BooleanField(help_text="牵头单位的反馈")
    percentage = serializers.IntegerField(help_text="完成进度（%）")
    text = serializers.CharField(help_text="进展情况")
    state = serializers.CharField(
        help_text="draft 待审签、submitted 已报送、accepted 已审核、returned 退回重报"
    )
    state_label = serializers.CharField(source="get_state_display")
    period_due_on = serializers.DateField(allow_null=True, help_text="应反馈日期")
    author = serializers.SerializerMethodField(help_text="填报人")
    signed_off_by = serializers.SerializerMethodField(help_text="审签人")
    created_at = serializers.DateTimeField(help_text="填报时间")
    submitted_at = serializers.DateTimeField(allow_null=True, help_text="报送时间")
    review_note = serializers.CharField(help_text="审核意见")
    attachments = AttachmentSerializer(many=True, help_text="附件")

    @extend_schema_field(UnitSerializer)
    def get_unit(self, report: Any) -> dict[str, Any]:
        if report.department_id:
            return {"kind": "department", "id": report.department_id, "name": report.unit_label}
        return {"kind": "agency", "id": report.agency_id, "name": report.unit_label}

    @extend_schema_field(PersonRefSerializer)
    def get_author(self, report: Any) -> dict[str, Any] | None:
        return _person(report.author)

    @extend_schema_field(PersonRefSerializer(allow_null=True))
    def get_signed_off_by(self, report: Any) -> dict[str, Any] | None:
        return _person(report.signed_off_by)
