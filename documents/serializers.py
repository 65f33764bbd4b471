"""How documents and their exchange records look in the REST API (documents/api.py).

Read-only shapes. Every code field (文种, 类别, 状态 …) comes with its Chinese label beside it, so an
app shows what our pages show without keeping our code tables. Links are absolute URLs of the API.
A list item never carries the document's text; the detail carries it as plain text, one paragraph
a line (the page shows it to the same people).
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from documents.bodytext import text_from_blocks
from documents.models import (
    Attachment,
    DocType,
    DocumentCategory,
    DocumentState,
    OfficialDocument,
)


def _url(context: dict[str, Any], name: str, *args: Any) -> str:
    path = reverse(f"api:documents:{name}", args=args)
    request = context.get("request")
    return request.build_absolute_uri(path) if request is not None else path


class DocumentAgencyRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class DocumentPersonRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="real_name")


class DocumentLinksSerializer(serializers.Serializer):
    self = serializers.URLField(help_text="本接口中该公文的详情")
    rendering = serializers.URLField(help_text="当前排版文件（?format=pdf 或 docx）")
    attachments = serializers.URLField(help_text="附件列表")


class DocumentSummarySerializer(serializers.Serializer):
    """One document in the list: what identifies and classifies it, never its text."""

    id = serializers.IntegerField()
    title = serializers.CharField(help_text="标题")
    doc_number = serializers.CharField(help_text="发文字号（尚未编号为空）")
    doc_type = serializers.ChoiceField(choices=DocType.choices, help_text="文种")
    doc_type_label = serializers.CharField(source="get_doc_type_display")
    category = serializers.ChoiceField(choices=DocumentCategory.choices, help_text="类别：发文或收文")
    category_label = serializers.CharField(source="get_category_display")
    state = serializers.ChoiceField(choices=DocumentState.choices, help_text="办理状态")
    state_label = serializers.CharField(source="get_state_display")
    urgency = serializers.CharField(help_text="紧急程度")
    urgency_label = serializers.CharField(source="get_urgency_display")
    agency = DocumentAgencyRefSerializer(help_text="主办机关（收文为收文机关）")
    issued_on = serializers.DateField(allow_null=True, help_text="成文日期")
    created_at = serializers.DateTimeField(help_text="创建时间")
    updated_at = serializers.DateTimeField(help_text="更新时间")
    links = serializers.SerializerMethodField()

    @extend_schema_field(DocumentLinksSerializer)
    def get_links(self, document: OfficialDocument) -> dict[str, str]:
        return {
            "self": _url(self.context, "detail", document.pk),
            "rendering": _url(self.context, "rendering", document.pk),
            "attachments": _url(self.context, "attachments", document.pk),
        }


class DocumentAttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    order = serializers.IntegerField(help_text="序号")
    title = serializers.CharField(help_text="附件名称")
    filename = serializers.CharField(help_text="文件名")
    size = serializers.IntegerField(source="blob.size", help_text="字节数")
    content_type = serializers.CharField(source="blob.content_type")
    added_at = serializers.DateTimeField(help_text="上传时间")
    download = serializers.SerializerMethodField(help_text="下载地址")

    def get_download(self, attachment: Attachment) -> str:
        return _url(self.context, "attachment", attachment.document_id, attachment.pk)


class DocumentVersionRefSerializer(serializers.Serializer):
    number = serializers.IntegerField(help_text="版本号")
    author = DocumentPersonRefSerializer(help_text="保存人")
    created_at = serializers.DateTimeField(help_text="保存时间")


class DocumentDetailSerializer(DocumentSummarySerializer):
    """The document page's facts: metadata, attachments, the current version and its text."""

    classification = serializers.CharField(help_text="密级")
    classification_label = serializers.CharField(source="get_classification_display")
    secrecy_period = serializers.CharField(help_text="保密期限")
    department = serializers.SerializerMethodField(help_text="拟稿处室（收文为登记的处室）")
    signer_names = serializers.CharField(help_text="签发人")
    main_recipients = serializers.CharField(source="main_recipients_text", help_text="主送机关（文字）")
    printed_on = serializers.DateField(allow_null=True, help_text="印发日期")
    deadline = serializers.DateField(allow_null=True, help_text="办理时限")
    current_version = serializers.SerializerMethodField()
    body_text = serializers.SerializerMethodField(help_text="正文（纯文本，每段一行）")
    attachments = serializers.SerializerMethodField()

    @extend_schema_field(DocumentAgencyRefSerializer)
    def get_department(self, document: OfficialDocument) -> dict[str, Any]:
        return {"id": document.department_id, "name": document.department.name}

    @extend_schema_field(DocumentVersionRefSerializer(allow_null=True))
    def get_current_version(self, document: OfficialDocument) -> dict[str, Any] | None:
        version = document.current_version
        return DocumentVersionRefSerializer(version).data if version is not None else None

    def get_body_text(self, document: OfficialDocument) -> str:
        version = document.current_version
        return text_from_blocks(version.body) if version is not None else ""

    @extend_schema_field(DocumentAttachmentSerializer(many=True))
    def get_attachments(self, document: OfficialDocument) -> list[dict[str, Any]]:
        return DocumentAttachmentSerializer(self.context["attachments"], many=True, context=self.context).data


class ExchangeRecordSerializer(serializers.Serializer):
    """One recipient of a distribution, as the sender's 分发情况 page shows it."""

    id = serializers.IntegerField()
    sender = DocumentAgencyRefSerializer(help_text="分发机关（转发时为转发机关）")
    recipient = DocumentAgencyRefSerializer(help_text="收文机关")
    kind = serializers.CharField(help_text="主送或抄送")
    kind_label = serializers.CharField(source="get_kind_display")
    state = serializers.CharField(help_text="交换状态")
    state_label = serializers.CharField(source="get_state_display")
    sent_at = serializers.DateTimeField(help_text="分发时间")
    received_at = serializers.DateTimeField(allow_null=True, help_text="签收时间")
    received_by = DocumentPersonRefSerializer(allow_null=True, help_text="签收人")
    returned_at = serializers.DateTimeField(allow_null=True, help_text="退文时间")
    return_reason = serializers.CharField(help_text="退文理由")
    return_reason_label = serializers.CharField(source="get_return_reason_display")
    return_note = serializers.CharField(help_text="退文说明")
    withdrawn_at = serializers.DateTimeField(allow_null=True, help_text="撤回时间")
    completed_at = serializers.DateTimeField(allow_null=True, help_text="办结时间")


class DocumentFilterSerializer(serializers.Serializer):
    """The list's query parameters; anything else in them is ignored, a bad value is a 400."""

    category = serializers.ChoiceField(choices=DocumentCategory.choices, required=False, help_text="类别")
    doc_type = serializers.ChoiceField(choices=DocType.choices, required=False, help_text="文种")
    state = serializers.ChoiceField(choices=DocumentState.choices, required=False, help_text="状态")
    # Bounded by the id column's range: a larger number would overflow the query (500), not 400.
    agency = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, required=False, help_text="主办机关 id"
    )
    year = serializers.IntegerField(
        min_value=1949, max_value=2999, required=False, help_text="成文日期的年份（尚无成文日期的按创建时间）"
    )
    updated_since = serializers.DateTimeField(required=False, help_text="只列此时间（含）之后更新的")
    q = serializers.CharField(
        max_length=50, required=False, trim_whitespace=True, help_text="标题包含的文字（至多 50 字）"
    )


class RenderingQuerySerializer(serializers.Serializer):
    format = serializers.ChoiceField(
        choices=[("pdf", "版式文件（PDF）"), ("docx", "排版稿（.docx）")],
        required=False,
        default="pdf",
        help_text="pdf（有盖章版时为盖章版）或 docx",
    )
