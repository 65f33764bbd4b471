"""导出聊天记录: the owner of a group (either person of a 1:1 chat) takes its history away as Excel
or text.

Bounded: at most EXPORT_CAP messages, the newest ones; when the conversation holds more, the file
says so on its first line, and the export page says the cap beforehand. The rows are read in
keyset pages of PAGE messages (seq ranges on the (conversation, seq) index), so memory does not
grow with the conversation: text is streamed to the client as it is read; Excel is written by
openpyxl's write-only workbook into a temporary file, which is then streamed.

What a row shows: time (Asia/Shanghai), sender and agency, and the content — a recalled message as
消息已撤回, a message emptied by retention as 消息已过保存期限, a file by its name and size. The
audit event records the conversation, the format and the count, never message text.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from chat import access
from chat.errors import ChatError
from chat.models import Conversation, Membership, Message, MessageKind
from officeapp.audit.services import record

EXPORT_CAP = 100_000
PAGE = 2000
FORMATS = ("xlsx", "txt")
RECALLED = "消息已撤回"
PURGED = "消息已过保存期限"
HEADER = ("序号", "时间", "发送人", "单位", "内容")
_SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass
class ExportPlan:
    """What one export will contain: seq range and counts, decided (and audited) before streaming."""

    conversation: Conversation
    first_seq: int
    last_seq: int
    available: int
    format: str

    @property
    def count(self) -> int:
        return max(self.last_seq - self.first_seq + 1, 0)

    @property
    def cut(self) -> bool:
        return self.available > self.count

    @property
    def filename(self) -> str:
        stamp = timezone.localtime(timezone.now(), _SHANGHAI).strftime("%Y%m%d-%H%M")
        return f"聊天记录-{self.conversation.pk}-{stamp}.{self.format}"

    @property
    def cut_line(self) -> str:
        return (
            f"本会话共 {self.available:,} 条消息，超过导出上限 {self.count:,} 条，"
            f"仅导出最近的 {self.count:,} 条（第 {self.first_seq} 条起）。"
        )


def plan_export(membership: Membership, *, actor: Any, fmt: str, cap: int | None = None) -> ExportPlan:
    """Check, decide the range and write the audit event (seq has no gaps, so counting is arithmetic)."""
    if fmt not in FORMATS:
        raise ChatError("导出格式只能是 Excel（xlsx）或文本（txt）。")
    if membership.user_id != getattr(actor, "pk", None) or not access.can_export(membership):
        raise ChatError("只有群主可以导出群聊记录。")
    cap = cap or EXPORT_CAP
    conversation = membership.conversation
    last_seq = conversation.last_seq
    available = max(last_seq - membership.joined_seq, 0)
    first_seq = max(membership.joined_seq + 1, last_seq - cap + 1)
    plan = ExportPlan(conversation, first_seq, last_seq, available, fmt)
    with transaction.atomic():
        record(
            "chat.conversation.export",
            actor=actor,
            obj=conversation,
            details={"format": fmt, "count": plan.count, "cut": plan.cut},
        )
    return plan


def _rows(plan: ExportPlan) -> Iterator[Message]:
    seq = plan.first_seq - 1
    while seq < plan.last_seq:
        page = list(
            Message.objects.filter(conversation=plan.conversation, seq__gt=seq, seq__lte=plan.last_seq)
            .select_related("sender", "sender__department__agency", "reply_to", "reply_to__sender")
            .order_by("seq")[:PAGE]
        )
        if not page:
            return
        yield from page
        seq = page[-1].seq


def _size(n: int | None) -> str:
    if not n:
        return ""
    for unit in ("B", "KB", "MB"):
        if n < 1024:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n:.1f} GB"


def content_of(message: Message) -> str:
    """The text a row shows for a message."""
    if message.is_recalled:
        return RECALLED
    if message.purged_at is not None:
        return PURGED
    parts: list[str] = []
    if message.forwarded_from_id or message.origin_sender_name:
        where = f"「{message.origin_conversation_name}」" if message.origin_conversation_name else ""
        parts.append(f"[转发自 {message.origin_sender_name}{where}]")
    if message.reply_to_id and message.reply_to is not None:
        replied = message.reply_to.sender.real_name if message.reply_to.sender else ""
        parts.append(f"[回复 {replied} 的第 {message.reply_to.seq} 条]")
    if message.kind == MessageKind.IMAGE:
        parts.append(f"[图片] {message.file_name}")
    elif message.kind == MessageKind.FILE:
        parts.append(f"[文件] {message.file_name}（{_size(message.file_size)}）")
    if message.body:
        parts.append(message.body)
    return " ".join(parts)


def _when(value: datetime) -> str:
    return timezone.localtime(value, _SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def _fields(message: Message) -> tuple[int, str, str, str, str]:
    sender = message.sender
    if message.kind == MessageKind.SYSTEM or sender is None:
        name, agency = "系统消息", ""
    else:
        name = sender.real_name
        agency_obj = sender.department.agency if sender.department_id else None
        agency = (agency_obj.short_name or agency_obj.name) if agency_obj else ""
    return message.seq, _when(message.created_at), name, agency, content_of(message)


def text_lines(plan: ExportPlan) -> Iterator[str]:
    """The text export, a line at a time (the header says what it is and whether it was cut)."""
    conversation = plan.conversation
    yield f"聊天记录：{conversation.name or '单聊'}（导出时间 {_when(timezone.now())}）\n"
    if plan.cut:
        yield plan.cut_line + "\n"
    yield f"共 {plan.count:,} 条消息\n\n"
    for message in _rows(plan):
        seq, when, name, agency, content = _fields(message)
        who = f"{name}（{agency}）" if agency else name
        content = content.replace("\r\n", "\n").replace("\n", "\n    ")
        yield f"[{when}] #{seq} {who}：{content}\n"


def write_xlsx(plan: ExportPlan, out: IO[bytes]) -> None:
    """The Excel export through openpyxl's write-only workbook (rows go to disk as they come)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("聊天记录")
    sheet.column_dimensions["B"].width = 20
    sheet.column_dimensions["C"].width = 12
    sheet.column_dimensions["D"].width = 14
    sheet.column_dimensions["E"].width = 80

    def text_cell(value: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
        # A message that starts with "=" is text, never a formula that Excel would run.
        cell.data_type = "s"
        return cell

    if plan.cut:
        sheet.append([text_cell(plan.cut_line)])
    sheet.append(list(HEADER))
    for message in _rows(plan):
        seq, when, name, agency, content = _fields(message)
        sheet.append([seq, when, text_cell(name), text_cell(agency), text_cell(content)])
    workbook.save(out)


def xlsx_file(plan: ExportPlan) -> IO[bytes]:
    """A temporary file holding the workbook, rewound; it disappears when closed."""
    out = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 (closed by the streaming response)
    write_xlsx(plan, out)
    out.seek(0)
    return out
