"""The chat pages of the 安全管理员 (消息保存期限) and of a group's owner (导出聊天记录).

Thin: parse → chat.access → one call into chat.retention / chat.export → render or stream.
"""

from __future__ import annotations

from collections.abc import Iterator

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from chat import access, export, retention
from chat.errors import ChatError

RETENTION_FORBIDDEN = "仅安全管理员可以设置消息保存期限。"
EXPORT_FORBIDDEN = "只有群主可以导出群聊记录。"
# Text export: lines are sent in chunks of about this many characters, not one write per line.
_CHUNK = 64 * 1024


class RetentionForm(forms.Form):
    days = forms.IntegerField(
        label="消息保存天数",
        min_value=0,
        max_value=retention.MAX_DAYS,
        help_text=f"填 0 表示永久保存；最多 {retention.MAX_DAYS} 天。",
        error_messages={
            "required": "请填写保存天数（0 表示永久保存）。",
            "invalid": "保存天数必须是整数。",
            "min_value": "保存天数不能小于 0。",
            "max_value": f"保存天数不能超过 {retention.MAX_DAYS} 天。",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def retention_page(request: HttpRequest) -> HttpResponse:
    if not access.can_set_retention(request.user):
        raise PermissionDenied(RETENTION_FORBIDDEN)
    setting = retention.current_retention()
    form = RetentionForm(request.POST or None, initial={"days": setting.days})
    if request.method == "POST" and form.is_valid():
        try:
            setting = retention.set_retention(actor=request.user, days=form.cleaned_data["days"])
        except ChatError as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(
                request,
                f"已设置：消息保存 {setting.days} 天。" if setting.days else "已设置：消息永久保存。",
            )
            return redirect("chat:retention")
    return render(
        request,
        "chat/admin/retention.html",
        {"form": form, "setting": setting, "page_title": "消息保存期限"},
    )


def _chunks(lines: Iterator[str]) -> Iterator[bytes]:
    buffer: list[str] = []
    size = 0
    for line in lines:
        buffer.append(line)
        size += len(line)
        if size >= _CHUNK:
            yield "".join(buffer).encode()
            buffer, size = [], 0
    if buffer:
        yield "".join(buffer).encode()


@login_required
@require_GET
def export_page(request: HttpRequest, conversation_id: int) -> HttpResponse:
    """Without ?format: the page that says what will be exported; with it: the file."""
    membership = access.get_membership_for(request.user, conversation_id)
    if not access.can_export(membership):
        raise PermissionDenied(EXPORT_FORBIDDEN)
    fmt = request.GET.get("format", "")
    if not fmt:
        available = max(membership.conversation.last_seq - membership.joined_seq, 0)
        return render(
            request,
            "chat/admin/export.html",
            {
                "conversation": membership.conversation,
                "available": available,
                "cap": export.EXPORT_CAP,
                "page_title": "导出聊天记录",
            },
        )
    try:
        plan = export.plan_export(membership, actor=request.user, fmt=fmt)
    except ChatError as refused:
        return render(
            request,
            "chat/admin/export.html",
            {
                "conversation": membership.conversation,
                "available": max(membership.conversation.last_seq - membership.joined_seq, 0),
                "cap": export.EXPORT_CAP,
                "error": refused.message,
                "page_title": "导出聊天记录",
            },
            status=400,
        )
    if fmt == "txt":
        response = StreamingHttpResponse(
            _chunks(export.text_lines(plan)), content_type="text/plain; charset=utf-8"
        )
        response["Content-Disposition"] = _attachment(plan.filename)
        return response
    return FileResponse(
        export.xlsx_file(plan),
        as_attachment=True,
        filename=plan.filename,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def _attachment(filename: str) -> str:
    from urllib.parse import quote

    return f"attachment; filename*=UTF-8''{quote(filename)}"
