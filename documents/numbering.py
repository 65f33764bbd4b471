"""发文字号: the G14 form, the G29 date form, and gap-free numbers per 机关代字 and year.

Every serial ever handed out is a DocNumber row (assigned, reserved or voided), so the register
shows a complete run 1…N for a year: a number is never skipped and never reused. Serials come from
one NumberSequence row per 机关代字 and year, locked with SELECT … FOR UPDATE for the rest of the
transaction, so parallel requests queue on that row and each gets the next serial.

Lock order (so two services never wait on each other): document → sequence → number.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from documents.access import can_keep_letterheads
from documents.errors import DocumentError, NumberRuleBroken
from documents.models import (
    DocNumber,
    Letterhead,
    NumberSequence,
    NumberState,
    OfficialDocument,
    Participant,
    ParticipantKind,
)
from officeapp.audit.services import record
from officeapp.org.models import Agency
from officeapp.outbox.services import emit

# G14 (GB/T 9704-2012 §7.2.5 发文字号; §7.2.4 is the 发文机关标志): 机关代字 + 〔年份全称〕 + 序号 + 号; 六角括号 U+3014/U+3015; no 第, no 虚位.
DOC_NUMBER_RULE = re.compile(r"^\S+〔(19|20)\d{2}〕[1-9]\d*号$")
# G29 (GB/T 9704 §7.3.5.1): 阿拉伯数字, 年份全称, 月日不编虚位.
ISSUED_ON_RULE = re.compile(r"^(19|20)\d{2}年([1-9]|1[0-2])月([1-9]|[12]\d|3[01])日$")

EXAMPLE = "粤府办〔2026〕12号"
NUMBER_CLAUSE = "GB/T 9704 第7.2.5条"
DATE_CLAUSE = "GB/T 9704 第7.3.5.1条"
NUMBER_RULE_MESSAGE = (
    f"发文字号应为“机关代字〔年份〕序号号”，如 {EXAMPLE}：年份用六角括号〔〕，"
    f"序号不编虚位、不加“第”（{NUMBER_CLAUSE}）"
)
DATE_RULE_MESSAGE = (
    f"成文日期应用阿拉伯数字写全年、月、日，年份写全称，月、日不编虚位，如 2026年7月1日（{DATE_CLAUSE}）"
)

_WRONG_BRACKETS = re.compile(r"[\[\]【】()（）〈〉《》<>{}]")
_CHINESE_NUMERALS = re.compile(r"[〇零一二三四五六七八九十]")
_RETRIES = 5


# --- the forms (G14, G29) ------------------------------------------------------------------------


def format_doc_number(prefix: str, year: int, serial: int) -> str:
    return f"{prefix}〔{year}〕{serial}号"


def format_issued_on(day: datetime.date) -> str:
    """成文日期 in the G29 form: 2026年7月1日 (no zero padding)."""
    return f"{day.year}年{day.month}月{day.day}日"


def validate_doc_number(text: str) -> str:
    """The stripped 发文字号, or NumberRuleBroken naming the rule it breaks (G14)."""
    value = (text or "").strip()
    if not value:
        raise NumberRuleBroken(f"请填写发文字号。{NUMBER_RULE_MESSAGE}")
    if DOC_NUMBER_RULE.match(value):
        return value
    if _WRONG_BRACKETS.search(value) or "〔" not in value or "〕" not in value:
        raise NumberRuleBroken(
            "发文字号的年份应使用六角括号“〔〕”，不能使用“[]”“【】”“()”“（）”等其他括号，"
            f"如 {EXAMPLE}（{NUMBER_CLAUSE}）。"
        )
    head, _, rest = value.partition("〔")
    year, _, tail = rest.partition("〕")
    if not head or any(c.isspace() for c in head):
        raise NumberRuleBroken(f"发文字号应以机关代字开头，中间不留空格，如 {EXAMPLE}（{NUMBER_CLAUSE}）。")
    if not re.fullmatch(r"(19|20)\d{2}", year):
        raise NumberRuleBroken(f"发文字号的年份应写全称（四位阿拉伯数字），如 {EXAMPLE}（{NUMBER_CLAUSE}）。")
    if tail.startswith("第"):
        raise NumberRuleBroken(
            f"发文字号的序号前不加“第”，如写 {EXAMPLE}，不写 粤府办〔2026〕第12号（{NUMBER_CLAUSE}）。"
        )
    if not tail.endswith("号"):
        raise NumberRuleBroken(f"发文字号应以“号”字结尾，如 {EXAMPLE}（{NUMBER_CLAUSE}）。")
    serial = tail[:-1]
    if serial.isdigit() and serial.startswith("0"):
        raise NumberRuleBroken(
            f"发文字号的序号不编虚位（不写 01、012 这样的前导零），如 {EXAMPLE}（{NUMBER_CLAUSE}）。"
        )
    raise NumberRuleBroken(NUMBER_RULE_MESSAGE + "。")


def validate_issued_on(text: str) -> datetime.date:
    """The date of a 成文日期 written in the G29 form, or NumberRuleBroken naming the rule."""
    value = (text or "").strip()
    if not value:
        raise NumberRuleBroken(f"请填写成文日期。{DATE_RULE_MESSAGE}。")
    match = ISSUED_ON_RULE.match(value)
    if match is None:
        if _CHINESE_NUMERALS.search(value):
            raise NumberRuleBroken(f"成文日期应使用阿拉伯数字，不用汉字数字。{DATE_RULE_MESSAGE}。")
        if re.fullmatch(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}", value):
            raise NumberRuleBroken(f"成文日期应写作“年月日”，不用“-”“.”“/”分隔。{DATE_RULE_MESSAGE}。")
        if re.fullmatch(r"\d{2}年\d{1,2}月\d{1,2}日", value):
            raise NumberRuleBroken(f"成文日期的年份应写全称（四位数字）。{DATE_RULE_MESSAGE}。")
        if re.fullmatch(r"\d{4}年0?\d{1,2}月0?\d{1,2}日", value):
            raise NumberRuleBroken(f"成文日期的月、日不编虚位（1不编为01）。{DATE_RULE_MESSAGE}。")
        raise NumberRuleBroken(DATE_RULE_MESSAGE + "。")
    numbers = [int(n) for n in re.findall(r"\d+", value)]
    try:
        return datetime.date(numbers[0], numbers[1], numbers[2])
    except ValueError as exc:
        raise NumberRuleBroken(f"成文日期“{value}”不是一个存在的日期，请核对。") from exc


# --- the register --------------------------------------------------------------------------------


def prefix_of(document: OfficialDocument) -> str:
    letterhead = document.letterhead
    prefix = (letterhead.number_prefix if letterhead is not None else "") or document.agency.number_prefix
    return prefix.strip()


def year_of(document: OfficialDocument) -> int:
    """The year follows the 成文日期; before it is set, today's year in China."""
    if document.issued_on is not None:
        return document.issued_on.year
    return timezone.localdate().year


def prefixes_of(agency: Agency) -> list[str]:
    """The 机关代字 an agency numbers under: its own and its 版头模板's."""
    found = [agency.number_prefix.strip()] if agency.number_prefix.strip() else []
    for prefix in Letterhead.objects.filter(agency=agency).values_list("number_prefix", flat=True):
        if prefix.strip() and prefix.strip() not in found:
            found.append(prefix.strip())
    return found


def numbers_of(agency: Agency, year: int) -> QuerySet[DocNumber]:
    """Every serial the agency handed out in `year`, in register order."""
    return (
        DocNumber.objects.filter(sequence__agency=agency, sequence__year=year)
        .select_related("sequence", "document", "created_by", "voided_by")
        .order_by("sequence__prefix", "serial")
    )


def reserved_for(document: OfficialDocument) -> QuerySet[DocNumber]:
    """The reserved numbers the 编号 step may offer this document: same 机关代字 and year."""
    return DocNumber.objects.filter(
        sequence__prefix=prefix_of(document), sequence__year=year_of(document), state=NumberState.RESERVED
    ).order_by("serial")


def years_of(agency: Agency) -> list[int]:
    return sorted(
        set(NumberSequence.objects.filter(agency=agency).values_list("year", flat=True)), reverse=True
    )


def _check_prefix(prefix: str) -> str:
    value = (prefix or "").strip()
    if not value or any(c.isspace() for c in value) or _WRONG_BRACKETS.search(value) or "〔" in value:
        raise NumberRuleBroken(f"机关代字不能为空，也不能含空格或括号。{NUMBER_RULE_MESSAGE}。")
    return value


def _lock_sequence(agency: Agency, prefix: str, year: int) -> NumberSequence:
    """The sequence row for prefix/year, created if missing, locked until the transaction ends.

    Two first requests of a year may both try to create the row: the loser's INSERT waits on the
    unique index, then fails with IntegrityError inside its savepoint, and simply retries — by then
    the winner's row is committed and visible, so the retry finds and locks it. Every number
    but the year's first finds the row: one locking read, no savepoint."""
    locked = NumberSequence.objects.select_for_update().filter(prefix=prefix, year=year).first()
    if locked is not None:
        if locked.agency_id != agency.pk:
            raise DocumentError(f"机关代字“{prefix}”已由其他机关使用，请核对版头模板中的机关代字。")
        return locked
    for _attempt in range(_RETRIES):
        try:
            with transaction.atomic():
                sequence, _ = NumberSequence.objects.get_or_create(
                    prefix=prefix, year=year, defaults={"agency": agency}
                )
        except IntegrityError:
            continue
        locked = NumberSequence.objects.select_for_update().get(pk=sequence.pk)
        if locked.agency_id != agency.pk:
            raise DocumentError(f"机关代字“{prefix}”已由其他机关使用，请核对版头模板中的机关代字。")
        return locked
    raise DocumentError("取号的人较多，请稍后重试。")


def _next_number(sequence: NumberSequence, *, actor: Any, state: str, **fields: Any) -> DocNumber:
    sequence.last_serial += 1
    sequence.save(update_fields=["last_serial"])
    return DocNumber.objects.create(
        sequence=sequence,
        serial=sequence.last_serial,
        text=format_doc_number(sequence.prefix, sequence.year, sequence.last_serial),
        state=state,
        created_by=actor,
        **fields,
    )


def _may_number(actor: Any, document: OfficialDocument) -> bool:
    # The office numbers; a delegate or anyone handed the 编号 task holds it as a handler.
    if can_keep_letterheads(actor, document.agency_id):
        return True
    return Participant.objects.filter(
        document=document, user=actor, kind__in=[ParticipantKind.HANDLER, ParticipantKind.DELEGATE]
    ).exists()


def assign_number(
    document: OfficialDocument, *, actor: Any, reserved: DocNumber | int | None = None
) -> DocNumber:
    """编号: give the document the next serial of its 机关代字 and year, or a reserved one.

    Refused when the document already holds a number, when no 机关代字 is set, and when the
    reserved number is not a reserved number of the same 机关代字 and year."""
    with transaction.atomic():
        locked = (
            OfficialDocument.objects.select_for_update(of=("self",))
            .select_related("agency", "letterhead")
            .get(pk=document.pk)
        )
        if not _may_number(actor, locked):
            raise PermissionDenied("只有本机关办公室可以编发文字号。")
        held = DocNumber.objects.filter(document=locked, state=NumberState.ASSIGNED).first()
        if held is not None:
            raise DocumentError(f"该公文已编号（{held.text}），不能重复取号。如需更换，请先作废原文号。")
        prefix = prefix_of(locked)
        if not prefix:
            raise DocumentError("本机关尚未设置机关代字，请办公室在版头模板中设置后再编号。")
        year = year_of(locked)
        sequence = _lock_sequence(locked.agency, prefix, year)
        if reserved is not None:
            pk = reserved.pk if isinstance(reserved, DocNumber) else int(reserved)
            number = DocNumber.objects.select_for_update().filter(pk=pk).first()
            if number is None or number.sequence_id != sequence.pk:
                raise DocumentError(f"所选预留文号不属于“{prefix}〔{year}〕”，请重新选择。")
            if number.state != NumberState.RESERVED:
                raise DocumentError(f"文号 {number.text} 已{number.get_state_display()}，不能再使用。")
            number.state = NumberState.ASSIGNED
            number.document = locked
            number.save(update_fields=["state", "document"])
        else:
            number = _next_number(sequence, actor=actor, state=NumberState.ASSIGNED, document=locked)
        locked.doc_number = number.text
        locked.updated_at = timezone.now()
        locked.save(update_fields=["doc_number", "updated_at"])
        document.doc_number = number.text
        record(
            "documents.number_assigned",
            actor=actor,
            obj=locked,
            details={
                "number_id": number.pk,
                "year": year,
                "serial": number.serial,
                "reserved": reserved is not None,
            },
        )
        emit("documents.number.assigned", locked, payload={"number_id": number.pk, "text": number.text})
    return number


def reserve_number(agency: Agency, *, actor: Any, prefix: str, year: int, reason: str = "") -> DocNumber:
    """预留: hold the next serial of prefix/year for a document to come (a later 编号 uses it)."""
    if not can_keep_letterheads(actor, agency.pk):
        raise PermissionDenied("只有本机关办公室可以预留文号。")
    prefix = _check_prefix(prefix)
    if prefix not in prefixes_of(agency):
        raise DocumentError(
            f"机关代字“{prefix}”不是本机关的机关代字（可用：{'、'.join(prefixes_of(agency)) or '无'}）。"
        )
    if not 1900 <= int(year) <= 2099:
        raise NumberRuleBroken(f"年份应为四位数字的全称，如 2026。{NUMBER_RULE_MESSAGE}。")
    reason = (reason or "").strip()[:200]
    with transaction.atomic():
        sequence = _lock_sequence(agency, prefix, int(year))
        number = _next_number(sequence, actor=actor, state=NumberState.RESERVED, reason=reason)
        record(
            "documents.number_reserved",
            actor=actor,
            obj=number,
            details={"agency_id": agency.pk, "year": sequence.year, "serial": number.serial},
        )
        emit("documents.number.reserved", number, payload={"agency_id": agency.pk, "text": number.text})
    return number


def void_number(number: DocNumber, *, actor: Any, reason: str) -> DocNumber:
    """作废 (reason required): the serial stays in the register as voided and is never reused;
    voiding an assigned number clears the document's 发文字号 so it can be numbered again."""
    reason = (reason or "").strip()
    if not reason:
        raise DocumentError("作废文号须填写作废原因。")
    with transaction.atomic():
        current = DocNumber.objects.select_related("sequence").get(pk=number.pk)
        if not can_keep_letterheads(actor, current.sequence.agency_id):
            raise PermissionDenied("只有本机关办公室可以作废文号。")
        document = None
        if current.document_id is not None:
            document = OfficialDocument.objects.select_for_update().get(pk=current.document_id)
        current = (
            DocNumber.objects.select_for_update(of=("self",)).select_related("sequence").get(pk=number.pk)
        )
        if current.state == NumberState.VOIDED:
            raise DocumentError(f"文号 {current.text} 已作废。")
        was = current.state
        current.state = NumberState.VOIDED
        current.reason = reason[:200]
        current.voided_by = actor
        current.voided_at = timezone.now()
        current.save(update_fields=["state", "reason", "voided_by", "voided_at"])
        if was == NumberState.ASSIGNED and document is not None and document.doc_number == current.text:
            document.doc_number = ""
            document.updated_at = timezone.now()
            document.save(update_fields=["doc_number", "updated_at"])
        record(
            "documents.number_voided",
            actor=actor,
            obj=current,
            details={"was": was, "document_id": current.document_id, "serial": current.serial},
        )
        emit("documents.number.voided", current, payload={"text": current.text, "was": was})
    return current


__all__ = [
    "DOC_NUMBER_RULE",
    "ISSUED_ON_RULE",
    "assign_number",
    "format_doc_number",
    "format_issued_on",
    "numbers_of",
    "reserve_number",
    "reserved_for",
    "validate_doc_number",
    "validate_issued_on",
    "void_number",
]
