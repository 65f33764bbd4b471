"""退文通知单: what a recipient that returned a document (退文) hands back to the sender — who sent
what (发文机关, 标题, 发文字号), why it came back (理由 from the list, 说明), who returned it and when.

`notice_lines(record)` is the one list of (label, value) both forms print: the HTML page
(documents/templates/documents/exchange/return_notice.html) and the .docx (`return_notice_docx`).
Times are shown in Asia/Shanghai.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from documents import ooxml
from documents.gbt9704 import FANGSONG, SIZE_3
from documents.models import ExchangeRecord
from documents.printable import add_fact_table, add_title, new_sheet, sheet_bytes

SHANGHAI = ZoneInfo("Asia/Shanghai")
TITLE = "退文通知单"
LABEL_WIDTH = 2000


def _moment(value: object) -> str:
    if value is None:
        return ""
    local = value.astimezone(SHANGHAI)  # type: ignore[attr-defined]
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def _person(user: object) -> str:
    if user is None:
        return ""
    return getattr(user, "real_name", "") or getattr(user, "username", "")


def notice_lines(record: ExchangeRecord) -> list[tuple[str, str]]:
    """(label, value) rows of the notice, in printing order."""
    document = record.document
    return [
        ("发文机关", record.sender.name),
        ("公文标题", document.title),
        ("发文字号", document.doc_number or "（无）"),
        ("分发时间", _moment(record.sent_at)),
        ("退文单位", record.recipient.name),
        ("退文理由", record.get_return_reason_display()),
        ("退文说明", record.return_note),
        ("退文人", _person(record.returned_by)),
        ("退文时间", _moment(record.returned_at)),
    ]


def notice_sentence(record: ExchangeRecord) -> str:
    """The paragraph under the title, addressed to the sender."""
    return (
        f"{record.sender.name}：你单位分发的《{record.document.title}》"
        f"（{record.document.doc_number or '无文号'}），经{record.recipient.name}审核，"
        f"因“{record.get_return_reason_display()}”予以退回，请研究处理。"
    )


def return_notice_docx(record: ExchangeRecord) -> bytes:
    """The 退文通知单 as .docx bytes (A4, GB/T 9704 margins and faces)."""
    docx = new_sheet(half_points=SIZE_3)
    add_title(docx, TITLE)
    intro = docx.add_paragraph()
    ooxml.style_run(intro.add_run(notice_sentence(record)), face=FANGSONG, half_points=SIZE_3)
    add_fact_table(docx, notice_lines(record), LABEL_WIDTH, half_points=SIZE_3)

    signature = docx.add_paragraph()
    ooxml.set_alignment(signature, "right")
    ooxml.style_run(
        signature.add_run(f"{record.recipient.name}\n{_moment(record.returned_at)}"),
        face=FANGSONG,
        half_points=SIZE_3,
    )
    return sheet_bytes(docx)


__all__ = ["notice_lines", "notice_sentence", "return_notice_docx"]
