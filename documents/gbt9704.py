"""The GB/T 9704-2012 renderer: a DocumentSpec (plain values, no ORM) → .docx bytes.

Rules are cited by their ids in ../shared/reference/gbt9704.md (G01 …). Formats: 下行文 and 上行文
(文件格式, 上行文 with 签发人 G15), 函 (信函格式 G60), 纪要 (纪要格式 G62).

Vertical layout. Every paragraph has an exact line height of LINE (28.95 pt): 22 of them fill the
225 mm 版心 (G05). The few elements the standard places at a measured distance (the 发文机关标志
35 mm below the 版心 top, G13) sit after a spacer paragraph of exact height off the line grid.
Horizontal layout. Body runs carry −0.25 pt character spacing so 28 3号 characters fill the 156 mm
line in LibreOffice and Word alike (G06).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from docx import Document
from docx.document import Document as DocxDocument
from docx.oxml import OxmlElement
from docx.shared import Emu
from docx.text.paragraph import Paragraph

from documents import ooxml
from documents.errors import DocumentError, NumberRuleBroken

# --- faces and sizes (G07, G11, G20, G24, G50) ----------------------------------------------------
FANGSONG = "仿宋_GB2312"
HEITI = "黑体"
KAITI = "楷体_GB2312"
XIAOBIAOSONG = "方正小标宋简体"
SONGTI = "宋体"

SIZE_3 = 32  # 三号 16 pt, in half-points
SIZE_4 = 28  # 四号 14 pt
SIZE_2 = 44  # 二号 22 pt
MARK_MAX_PT = 42  # 初号: the largest 标志 we print; longer names get smaller (G13 size not fixed)

# --- page (G01–G05), in twips -----------------------------------------------------------------
PAGE_WIDTH = 11906
PAGE_HEIGHT = 16838
MARGIN_TOP = 2098  # 37 mm 天头 (G02)
MARGIN_LEFT = 1587  # 28 mm 订口 (G03)
MARGIN_RIGHT = 1474  # 26 mm (G04)
MARGIN_BOTTOM = 1984  # 35 mm (G04)
TEXT_WIDTH = PAGE_WIDTH - MARGIN_LEFT - MARGIN_RIGHT  # 8845 ≈ 156 mm
LINE = 579  # 225 mm / 22 lines (G05)
# G51: the page-number dash 7 mm below the 版心. The reference computes 24.5 mm (1389); measured
# on the LibreOffice render the dash then sat 0.8 mm low, so the footer ends 25.3 mm up.
FOOTER_DISTANCE = 1434
CHAR = 320  # 一字: one 3号 character
CHAR_4 = 280  # one 4号 character (版记, 页码)
BODY_SPACING = -5  # −0.25 pt: 28 characters per line (G06)
MARK_TOP = ooxml.mm(35)  # 标志 top edge below the 版心 top (G13, G62)
RED_LINE_GAP_PT = 5  # border space under the 发文字号 line: measured ≈4 mm below its ink (G16)
SEAL_DIAMETER = ooxml.mm(42)
SEAL_GAP = ooxml.mm(4)  # joint seals never touch (G26)
LETTER_LINE_WIDTH = ooxml.mm(170)  # G60
# G60 border space, measured on the render: the top double line 4 mm under the 标志 ink.
LETTER_TOP_GAP_PT = 6

DOC_NUMBER_RE = re.compile(r"^\S+〔(19|20)\d{2}〕[1-9]\d*号$")  # G14
ISSUED_ON_RE = re.compile(r"^(19|20)\d{2}年([1-9]|1[0-2])月([1-9]|[12]\d|3[01])日$")  # G29
HEADING_FACES = {"h1": HEITI, "h2": KAITI, "h3": FANGSONG, "h4": FANGSONG}  # G24


@dataclass(frozen=True)
class SealImage:
    """One agency's seal impression (a red PNG on transparent ground), placed per G26."""

    agency_name: str
    png: bytes


@dataclass
class DocumentSpec:
    """Everything the layout needs, as plain values. Empty strings/lists mean "not printed"."""

    title: str
    layout: str = "standard"  # "standard" | "letter" | "minutes"
    upward: bool = False  # 上行文: 签发人 beside the 文号 (G15)
    copy_number: str = ""  # 份号, 6 digits (G10)
    classification: str = ""  # 秘密 / 机密 / 绝密 (G11)
    secrecy_period: str = ""  # e.g. "1年"
    urgency: str = ""  # 特急 / 加急 (G12)
    # One entry: the whole 标志 ("广东省人民政府办公厅文件"). Several (联合行文): the agencies' names,
    # 主办机关 first, and `mark_suffix` printed at their right (G13).
    mark_texts: list[str] = field(default_factory=list)
    mark_suffix: str = "文件"
    doc_number: str = ""
    signers: list[str] = field(default_factory=list)
    main_recipients: str = ""
    body: list[dict[str, str]] = field(default_factory=list)
    attachments: list[str] = field(default_factory=list)
    issuers: list[str] = field(default_factory=list)  # 署名, one per issuing agency
    issued_on: date | None = None
    remark: str = ""
    cc: str = ""  # "省财政厅，省教育厅" (the renderer adds "抄送：" and "。")
    printed_by: str = ""
    printed_on: date | None = None
    attendees: list[str] = field(default_factory=list)  # 纪要 出席 (G62)
    on_leave: list[str] = field(default_factory=list)  # 请假
    observers: list[str] = field(default_factory=list)  # 列席
    seals: list[SealImage] = field(default_factory=list)


def chinese_date(day: date) -> str:
    """G29/G42: Arabic digits, full year, no zero padding: 2026年6月8日."""
    return f"{day.year}年{day.month}月{day.day}日"


def text_width(text: str, *, char: int = CHAR) -> int:
    """Printed width in twips: full-width characters one `char`, ASCII half of it."""
    return sum(char // 2 if ord(c) < 0x2E80 else char for c in text)


def check_spec(spec: DocumentSpec) -> None:
    """Refuse a 文号 or date in the wrong form, naming the rule it breaks."""
    if spec.doc_number and not DOC_NUMBER_RE.match(spec.doc_number):
        raise NumberRuleBroken(
            f"发文字号“{spec.doc_number}”不符合 GB/T 9704 规则 G14：应为机关代字＋〔年份〕＋序号＋号，"
            "如“粤府办〔2026〕12号”（六角括号，不编虚位，不加“第”）。"
        )
    if spec.upward and not spec.signers:
        raise DocumentError("上行文应标注签发人（GB/T 9704 规则 G15），请先完成签发。")
    if spec.copy_number and not re.fullmatch(r"\d{6}", spec.copy_number):
        raise NumberRuleBroken(f"份号“{spec.copy_number}”不符合规则 G10：应为6位阿拉伯数字。")
    if spec.issued_on and spec.issued_on.year < 1900:
        raise NumberRuleBroken("成文日期不符合规则 G29：年份应为四位公元纪年。")


# --- building blocks ----------------------------------------------------------------------------
class _Writer:
    """Adds paragraphs to the document body with the house defaults (exact line, 3号 仿宋)."""

    def __init__(self, document: DocxDocument) -> None:
        self.document = document

    def para(
        self,
        text: str = "",
        *,
        face: str = FANGSONG,
        size: int = SIZE_3,
        color: str = ooxml.BLACK,
        align: str = "left",
        line: int = LINE,
        spacing: int | None = BODY_SPACING,
        snap: bool = True,
    ) -> Paragraph:
        paragraph = self.document.add_paragraph()
        ooxml.set_exact_line(paragraph, line, snap_to_grid=snap)
        ooxml.set_alignment(paragraph, align)
        if text:
            self.run(paragraph, text, face=face, size=size, color=color, spacing=spacing)
        return paragraph

    @staticmethod
    def run(
        paragraph: Paragraph,
        text: str,
        *,
        face: str = FANGSONG,
        size: int = SIZE_3,
        color: str = ooxml.BLACK,
        spacing: int | None = BODY_SPACING,
    ) -> Any:
        run = paragraph.add_run(text)
        ooxml.style_run(run, face=face, half_points=size, color=color, spacing=spacing)
        return run

    def blank(self, count: int = 1, *, keep_with_next: bool = False) -> None:
        """Explicit empty 28.95 pt lines (G14, G20, G21), not w:before: they count on the grid.
        `keep_with_next`: the lines before a 署名 go to its page rather than end the previous one."""
        for _ in range(count):
            paragraph = self.para()
            if keep_with_next:
                ooxml.keep_with_next(paragraph)


def _setup(document: DocxDocument, *, first_page_differs: bool) -> None:
    section = document.sections[0]
    section.page_width = Emu(PAGE_WIDTH * ooxml.EMU_PER_TWIP)  # G01
    section.page_height = Emu(PAGE_HEIGHT * ooxml.EMU_PER_TWIP)
    section.top_margin = Emu(MARGIN_TOP * ooxml.EMU_PER_TWIP)  # G02
    section.left_margin = Emu(MARGIN_LEFT * ooxml.EMU_PER_TWIP)  # G03
    section.right_margin = Emu(MARGIN_RIGHT * ooxml.EMU_PER_TWIP)  # G04
    section.bottom_margin = Emu(MARGIN_BOTTOM * ooxml.EMU_PER_TWIP)
    section.footer_distance = Emu(FOOTER_DISTANCE * ooxml.EMU_PER_TWIP)  # G51
    section.header_distance = Emu(ooxml.mm(30) * ooxml.EMU_PER_TWIP)  # G60 标志 30 mm from the top
    section.gutter = Emu(0)
    ooxml.set_line_grid(section, pitch=LINE)  # G05
    ooxml.set_document_defaults(document, face=FANGSONG, half_points=SIZE_3)  # G07
    ooxml.enable_odd_even_footers(document)  # G52
    section.different_first_page_header_footer = first_page_differs
    odd = section.footer.paragraphs[0]
    ooxml.set_alignment(odd, "right")
    ooxml.set_indent(odd, right=CHAR_4)  # G52 odd: right, 一字 from the edge
    ooxml.add_page_number(odd, face=SONGTI, half_points=SIZE_4)
    even = section.even_page_footer.paragraphs[0]
    ooxml.set_alignment(even, "left")
    ooxml.set_indent(even, left=CHAR_4)  # G52 even: left, 一字 from the edge
    ooxml.add_page_number(even, face=SONGTI, half_points=SIZE_4)


def _mark_size_pt(text: str) -> int:
    """G13: as large as fits the 156 mm line, at most 初号."""
    width_pt = TEXT_WIDTH / 20
    return int(min(MARK_MAX_PT, width_pt / max(len(text), 1)))


def _header_lines(spec: DocumentSpec) -> list[tuple[str, str]]:
    """份号 → 密级 → 紧急程度, one per line, top-left (G10–G12); 密级 on line 2 even without 份号."""
    lines: list[tuple[str, str]] = []
    if spec.copy_number or spec.classification:
        lines.append((spec.copy_number, FANGSONG))
    if spec.classification:
        period = f"★{spec.secrecy_period}" if spec.secrecy_period else ""
        lines.append((f"{spec.classification}{period}", HEITI))
    if spec.urgency:
        lines.append((spec.urgency, HEITI))
    return lines


def _mark(w: _Writer, spec: DocumentSpec) -> None:
    """发文机关标志, red 小标宋, centred (G13). 联合行文: names stacked, "文件" at the right, centred
    vertically on them."""
    names = spec.mark_texts or [""]
    if len(names) == 1:
        size = _mark_size_pt(names[0])
        w.para(
            names[0],
            face=XIAOBIAOSONG,
            size=size * 2,
            color=ooxml.RED,
            align="center",
            line=size * 20,
            spacing=None,
            snap=False,
        )
        return
    suffix = spec.mark_suffix
    suffix_width = 0
    longest = max(len(n) for n in names)
    # Names and suffix side by side on the 156 mm line, with 20 pt between them and 10 pt to spare.
    size = int(min(36, (TEXT_WIDTH / 20 - 30) / (longest + len(suffix))))
    if suffix:
        suffix_width = len(suffix) * size * 20 + 400
    table = w.document.add_table(rows=1, cols=2)
    columns = [TEXT_WIDTH - suffix_width, suffix_width] if suffix else [TEXT_WIDTH - 1, 1]
    ooxml.set_table_geometry(table, width=TEXT_WIDTH, columns=columns)
    ooxml.set_table_borders(table)
    left, right = table.rows[0].cells
    for index, name in enumerate(names):
        paragraph = left.paragraphs[0] if index == 0 else left.add_paragraph()
        ooxml.set_exact_line(paragraph, size * 20 + 120, snap_to_grid=False)
        ooxml.set_alignment(paragraph, "distribute")
        _Writer.run(paragraph, name, face=XIAOBIAOSONG, size=size * 2, color=ooxml.RED, spacing=None)
    ooxml.set_cell_vertical_center(right)
    paragraph = right.paragraphs[0]
    ooxml.set_exact_line(paragraph, size * 20 + 120, snap_to_grid=False)
    ooxml.set_alignment(paragraph, "right")
    if suffix:
        _Writer.run(paragraph, suffix, face=XIAOBIAOSONG, size=size * 2, color=ooxml.RED, spacing=None)


def _number_line(w: _Writer, spec: DocumentSpec) -> Paragraph:
    """发文字号, centred 3号仿宋 (G14); 上行文: 文号 left and 签发人 right, each 一字 in (G15)."""
    if not spec.upward:
        return w.para(spec.doc_number, align="center", spacing=None)
    # G15: 2 signers per line; the 文号 shares the last signer line.
    pairs = [spec.signers[i : i + 2] for i in range(0, len(spec.signers), 2)] or [[]]
    label = "签发人："
    widest = max(text_width(label + "　".join(pair)) for pair in pairs)
    tab = TEXT_WIDTH - CHAR - widest
    paragraph: Paragraph | None = None
    for index, pair in enumerate(pairs):
        last = index == len(pairs) - 1
        paragraph = w.para(spacing=None)
        ooxml.set_indent(paragraph, left=CHAR, right=CHAR)
        ooxml.add_tab_stop(paragraph, tab - CHAR)
        if last:
            w.run(paragraph, spec.doc_number, spacing=None)
        w.run(paragraph, "\t", spacing=None)
        # Later lines align under the first names: the label's width in full-width spaces.
        w.run(paragraph, label if index == 0 else "　" * len(label), spacing=None)
        w.run(paragraph, "　".join(pair), face=KAITI, spacing=None)
    assert paragraph is not None
    return paragraph


def _letter_header(document: DocxDocument, spec: DocumentSpec) -> None:
    """G60: 标志 30 mm from the paper top (the first-page header starts there), red double line
    (上粗下细) 4 mm below, another (上细下粗) 20 mm above the paper bottom, both 170 mm; no page
    number on page 1."""
    section = document.sections[0]
    outdent = -(LETTER_LINE_WIDTH - TEXT_WIDTH) // 2
    header = section.first_page_header.paragraphs[0]
    text = spec.mark_texts[0] if spec.mark_texts else ""
    size = _mark_size_pt(text)
    ooxml.set_exact_line(header, size * 20, snap_to_grid=False)
    ooxml.set_alignment(header, "center")
    ooxml.set_indent(header, left=outdent, right=outdent)
    ooxml.set_paragraph_border(header, "bottom", val="thickThinSmallGap", eighths=24, space=LETTER_TOP_GAP_PT)
    _Writer.run(header, text, face=XIAOBIAOSONG, size=size * 2, color=ooxml.RED, spacing=None)
    # The bottom line sits 20 mm above the paper bottom, below the footer's reach: a page-anchored
    # box in the first-page footer, holding one hairline paragraph with the double border.
    footer = section.first_page_footer.paragraphs[0]
    ooxml.set_exact_line(footer, 20, snap_to_grid=False)
    rule = OxmlElement("w:p")
    holder = Paragraph(rule, footer._parent)
    ooxml.set_exact_line(holder, 20, snap_to_grid=False)
    ooxml.set_paragraph_border(holder, "bottom", val="thinThickSmallGap", eighths=24, space=0)
    height = 120
    ooxml.bottom_text_box(
        footer,
        [rule],
        width=LETTER_LINE_WIDTH,
        height=height,
        name="信函下线",
        page_offsets=((PAGE_WIDTH - LETTER_LINE_WIDTH) // 2, PAGE_HEIGHT - ooxml.mm(20) - height),
    )


def _head(w: _Writer, spec: DocumentSpec) -> None:
    """版头 of 文件格式 and 纪要格式: header lines, 标志 at 35 mm, 文号, red line (G10–G16, G62)."""
    lines = _header_lines(spec)
    slots = max(3, len(lines))
    for index in range(slots):
        text, face = lines[index] if index < len(lines) else ("", FANGSONG)
        w.para(text, face=face, spacing=None)
    # Spacer off the grid so the 标志's top edge is 35 mm below the 版心 top (G13).
    spacer = max(MARK_TOP - slots * LINE, 20)
    w.para(line=spacer, snap=False)
    _mark(w, spec)
    w.blank(2)  # G14: two blank lines under the 标志
    number = _number_line(w, spec)
    if spec.upward:
        # The 签发人 line's indents would shorten the red line (G16: 156 mm): it gets a thin
        # paragraph of its own, right under the line.
        rule = w.para(line=120, snap=False)
        ooxml.set_paragraph_border(rule, "top", eighths=12, color=ooxml.RED, space=0)
    else:
        ooxml.set_paragraph_border(
            number, "bottom", eighths=12, color=ooxml.RED, space=RED_LINE_GAP_PT
        )  # G16
    w.blank(2)  # G20: the title two lines under the red line


def _letter_head(w: _Writer, spec: DocumentSpec) -> None:
    """G60: 份号/密级/紧急程度 flush left, 文号 flush right, on the lines under the first red line."""
    lines = _header_lines(spec) or [("", FANGSONG)]
    for index, (text, face) in enumerate(lines):
        paragraph = w.para(spacing=None)
        ooxml.add_tab_stop(paragraph, TEXT_WIDTH, kind="right")
        if text:
            w.run(paragraph, text, face=face, spacing=None)
        if index == 0 and spec.doc_number:
            w.run(paragraph, "\t" + spec.doc_number, spacing=None)
    w.blank(2)  # title two lines below the last element


def _title(w: _Writer, spec: DocumentSpec) -> None:
    """G20: 2号 小标宋, centred."""
    # Off the grid: LibreOffice gives a 2号 line two grid lines when it snaps (the font's line box
    # is taller than the pitch); the exact 28.95 pt line keeps the title on the 22-line rhythm.
    w.para(spec.title, face=XIAOBIAOSONG, size=SIZE_2, align="center", spacing=None, snap=False)


def _body(w: _Writer, spec: DocumentSpec) -> None:
    """主送 (G21), 正文 (G23, G24): every paragraph 左空二字, justified."""
    if spec.main_recipients:
        w.blank(1)  # G21: one blank line under the title
        recipients = spec.main_recipients.rstrip("：:") + "："
        w.para(recipients)
    elif spec.title:
        w.blank(1)
    for block in spec.body:
        kind = block.get("kind", "p")
        text = str(block.get("text", ""))
        paragraph = w.para(text, face=HEADING_FACES.get(kind, FANGSONG), align="both")
        ooxml.set_indent(paragraph, first_line=2 * CHAR, first_line_chars=200)


def _attachment_note(w: _Writer, spec: DocumentSpec) -> None:
    """G25: 附件：名称, or 附件：1.甲 / 2.乙 aligned on the first name; no trailing punctuation."""
    if not spec.attachments:
        return
    w.blank(1)
    titles = [t.rstrip("。；，.") for t in spec.attachments]
    label = "附件："
    if len(titles) == 1:
        paragraph = w.para(label + titles[0], align="left")
        ooxml.set_indent(paragraph, first_line=2 * CHAR, first_line_chars=200)
        return
    for number, title in enumerate(titles, 1):
        text = f"{label}{number}.{title}" if number == 1 else f"{number}.{title}"
        paragraph = w.para(text, align="left")
        if number == 1:
            ooxml.set_indent(paragraph, first_line=2 * CHAR, first_line_chars=200)
        else:
            ooxml.set_indent(paragraph, left=2 * CHAR + text_width(label))


def _signature(w: _Writer, spec: DocumentSpec) -> None:
    """署名 and 成文日期: sealed per G26, unsealed per G27; 附注 after the date (G31)."""
    date_text = chinese_date(spec.issued_on) if spec.issued_on else ""
    issuers = spec.issuers
    if spec.seals and issuers:
        _sealed_signature(w, spec, date_text)
    elif issuers or date_text:
        w.blank(1, keep_with_next=True)  # G27: one blank line under 正文/附件说明
        width_date = text_width(date_text)
        last = issuers[-1] if issuers else ""
        width_last = text_width(last)
        if width_date > width_last - 2 * CHAR:
            # Date longer: it takes 右空二字, the 署名 moves so the date still starts 2 chars in.
            date_right = 2 * CHAR
            name_right = 2 * CHAR + width_date + 2 * CHAR - width_last
        else:
            name_right = 2 * CHAR
            date_right = width_last - width_date
        for name in issuers:
            paragraph = w.para(name, align="right", spacing=None)
            ooxml.set_indent(paragraph, right=name_right)
            ooxml.keep_with_next(paragraph)
        if date_text:
            paragraph = w.para(date_text, align="right", spacing=None)
            ooxml.set_indent(paragraph, right=date_right)
    if spec.remark:
        remark = spec.remark.strip("（）()")
        paragraph = w.para(f"（{remark}）")  # G31
        ooxml.set_indent(paragraph, first_line=2 * CHAR, first_line_chars=200)


def _sealed_signature(w: _Writer, spec: DocumentSpec, date_text: str) -> None:
    """G26: date 右空四字; each 署名 centred over the date (joint: one slot per 署名, the last over
    the date); each seal centred on its 署名, a little above the middle of 署名 and date lines."""
    date_right = 4 * CHAR
    date_center = TEXT_WIDTH - date_right - text_width(date_text) // 2
    issuers = spec.issuers
    # Slots wide enough for the seal and for the 署名 under it (names must not run together).
    pitch = max(SEAL_DIAMETER + SEAL_GAP, max(text_width(n) for n in issuers) + CHAR)
    per_row = max(1, min(len(issuers), (date_center + SEAL_DIAMETER // 2) // pitch))
    rows = [issuers[i : i + per_row] for i in range(0, len(issuers), per_row)]
    # By agency name; a seal whose name matches no 署名 goes to the 署名 at its position.
    seals = {seal.agency_name: seal for seal in spec.seals}
    for position, seal in enumerate(spec.seals):
        if seal.agency_name not in issuers and position < len(issuers):
            seals.setdefault(issuers[position], seal)
    # Practice: 2 blank lines so the seal's top stays within one line of the text (G26).
    w.blank(2, keep_with_next=True)
    for row_index, row in enumerate(rows):
        if row_index:
            w.blank(4, keep_with_next=True)  # rows of seals one seal height apart: no touching (G26)
        # Slots from the right: the last one centred over the date.
        centers = [date_center - (len(row) - 1 - i) * pitch for i in range(len(row))]
        paragraph = w.para(spacing=None)
        ooxml.keep_with_next(paragraph)
        for center in centers:
            ooxml.add_tab_stop(paragraph, center, kind="center")
        for name in row:
            w.run(paragraph, "\t" + name, spacing=None)
        last_row = row_index == len(rows) - 1
        for index, (name, center) in enumerate(zip(row, centers, strict=True)):
            seal = seals.get(name)
            if seal is None or (last_row and index == len(row) - 1 and date_text):
                continue  # the seal over the date is anchored in the date itself, below
            run = paragraph.add_run()
            run.add_picture(io.BytesIO(seal.png), width=Emu(SEAL_DIAMETER * ooxml.EMU_PER_TWIP))
            # Centre a little above the middle of the 署名 and date lines.
            y = LINE - LINE // 4 - SEAL_DIAMETER // 2
            ooxml.float_picture(run, x=center - SEAL_DIAMETER // 2, y=y, name=f"印章 {name}")
    if date_text:
        paragraph = w.para(align="right", spacing=None)
        ooxml.set_indent(paragraph, right=date_right, right_chars=400)
        # The last seal covers the date: anchored at the date's middle character, so it stays
        # centred on the date whatever widths the fonts give its digits.
        half, middle = text_width(date_text) / 2, len(date_text)
        for i in range(len(date_text) + 1):
            if text_width(date_text[:i]) >= half:
                middle = i
                break
        w.run(paragraph, date_text[:middle], spacing=None)
        seal = seals.get(issuers[-1])
        if seal is not None:
            run = paragraph.add_run()
            run.add_picture(io.BytesIO(seal.png), width=Emu(SEAL_DIAMETER * ooxml.EMU_PER_TWIP))
            y = -LINE // 4 - SEAL_DIAMETER // 2
            ooxml.float_picture(
                run, x=-SEAL_DIAMETER // 2, y=y, name=f"印章 {issuers[-1]}", from_character=True
            )
        w.run(paragraph, date_text[middle:], spacing=None)


def _minutes_attendance(w: _Writer, spec: DocumentSpec) -> None:
    """G62: 出席/请假/列席 (3号黑体) + "：" + names (3号仿宋), 左空二字, wrap aligned after the colon."""
    rows = [("出席", spec.attendees), ("请假", spec.on_leave), ("列席", spec.observers)]
    first = True
    for label, names in rows:
        if not names:
            continue
        if first:
            w.blank(1)
            first = False
        paragraph = w.para(align="left")
        hang = text_width(label + "：")
        ooxml.set_indent(paragraph, left=2 * CHAR + hang, hanging=hang)
        w.run(paragraph, label, face=HEITI)
        w.run(paragraph, "：")
        w.run(paragraph, "，".join(names))


def _attachment_pages(w: _Writer, spec: DocumentSpec) -> None:
    """G32: each 附件 on a new page: line 1 "附件N" in 黑体, its title centred on line 3."""
    many = len(spec.attachments) > 1
    for number, title in enumerate(spec.attachments, 1):
        head = w.para(f"附件{number}" if many else "附件", face=HEITI, spacing=None)
        ooxml.set_page_break_before(head)
        w.blank(1)
        w.para(
            title.rstrip("。；，."), face=XIAOBIAOSONG, size=SIZE_2, align="center", spacing=None, snap=False
        )


def _version_block(w: _Writer, spec: DocumentSpec) -> None:
    """版记 (G40–G42): a 156 mm table; top and bottom rules thick, the one between thin."""
    rows: list[str] = []
    if spec.cc:
        rows.append("cc")
    if spec.layout != "letter" and (spec.printed_by or spec.printed_on):
        rows.append("printed")
    if not rows:
        return
    table = w.document.add_table(rows=len(rows), cols=1)
    ooxml.set_table_geometry(table, width=TEXT_WIDTH, columns=[TEXT_WIDTH], cell_margin=0)
    thick = ("single", 8, ooxml.BLACK)
    thin = ("single", 6, ooxml.BLACK)
    if spec.layout == "letter":
        ooxml.set_table_borders(table)  # G60: 版记 without lines
    else:
        ooxml.set_table_borders(table, top=thick, bottom=thick, insideH=thin)
    for row, kind in zip(table.rows, rows, strict=True):
        paragraph = row.cells[0].paragraphs[0]
        ooxml.set_exact_line(paragraph, LINE)
        if kind == "cc":
            label = "抄送："
            cc = spec.cc.rstrip("。，,.") + "。"  # G41 ends with 。
            hang = text_width(label, char=CHAR_4)
            ooxml.set_indent(paragraph, left=CHAR_4 + hang, right=CHAR_4, hanging=hang)
            _Writer.run(paragraph, label + cc, size=SIZE_4, spacing=None)
        else:
            ooxml.set_indent(paragraph, left=CHAR_4, right=CHAR_4)
            ooxml.add_tab_stop(paragraph, TEXT_WIDTH - 2 * CHAR_4, kind="right")
            printed_on = f"{chinese_date(spec.printed_on)}印发" if spec.printed_on else ""
            _Writer.run(paragraph, f"{spec.printed_by}\t{printed_on}", size=SIZE_4, spacing=None)
    lines = 0
    for kind in rows:
        if kind == "cc":
            hang = text_width("抄送：", char=CHAR_4)
            room = TEXT_WIDTH - 2 * CHAR_4 - hang
            lines += max(1, -(-text_width(spec.cc + "。", char=CHAR_4) // room))
        else:
            lines += 1
    # G40: the block goes to the bottom of the 版心 of the page where the text ends.
    anchor = w.para(line=20, snap=False)
    ooxml.bottom_text_box(anchor, [table._tbl], width=TEXT_WIDTH, height=lines * LINE + 40, name="版记")


def render_docx(spec: DocumentSpec) -> bytes:
    """The .docx of `spec`, laid out to GB/T 9704-2012."""
    check_spec(spec)
    document = Document()
    letter = spec.layout == "letter"
    _setup(document, first_page_differs=letter)
    w = _Writer(document)
    # python-docx's template starts with no paragraph; every one we add follows the rules above.
    if letter:
        _letter_header(document, spec)
        _letter_head(w, spec)
    else:
        _head(w, spec)
    if spec.title:
        _title(w, spec)
    _body(w, spec)
    _attachment_note(w, spec)
    if spec.layout == "minutes":
        _minutes_attendance(w, spec)
    else:
        _signature(w, spec)
    if spec.layout == "minutes" and spec.remark:
        paragraph = w.para(f"（{spec.remark.strip('（）()')}）")
        ooxml.set_indent(paragraph, first_line=2 * CHAR, first_line_chars=200)
    _attachment_pages(w, spec)
    _version_block(w, spec)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
