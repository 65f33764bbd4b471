"""Reading a produced .docx the way a GB/T 9704 checker does, and the X-rule checks every format
shares (rule ids from ../shared/reference/gbt9704.md). Each format's test module runs the shared
checks on its own file, one test per rule, and adds the rules only it has."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lxml import etree

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
WP = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
PIC = "http://schemas.openxmlformats.org/drawingml/2006/picture"
WPS = "http://schemas.microsoft.com/office/word/2010/wordprocessingShape"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
NS = {"w": W, "r": R, "wp": WP}

FANGSONG = "仿宋_GB2312"
HEITI = "黑体"
KAITI = "楷体_GB2312"
XIAOBIAOSONG = "方正小标宋简体"
SONGTI = "宋体"


def w(name: str) -> str:
    return f"{{{W}}}{name}"


@dataclass
class Para:
    el: Any

    @property
    def text(self) -> str:
        return text_of(self.el)

    @property
    def runs(self) -> list[Any]:
        depth = _boxes_around(self.el)
        return [r for r in self.el.iter(w("r")) if r.find(w("t")) is not None and _boxes_around(r) == depth]

    def ppr(self, path: str, attribute: str) -> str | None:
        found = self.el.find(f"w:pPr/{path}", NS)
        return None if found is None else found.get(w(attribute))

    def has(self, path: str) -> bool:
        return self.el.find(f"w:pPr/{path}", NS) is not None

    @property
    def align(self) -> str:
        return self.ppr("w:jc", "val") or "left"

    def indent(self, name: str) -> int:
        return int(self.ppr("w:ind", name) or 0)

    def line(self) -> tuple[int, str]:
        return int(self.ppr("w:spacing", "line") or 0), self.ppr("w:spacing", "lineRule") or ""


def run_font(run: Any) -> str:
    fonts = run.find("w:rPr/w:rFonts", NS)
    return "" if fonts is None else fonts.get(w("eastAsia"), "")


def run_size(run: Any) -> int:
    size = run.find("w:rPr/w:sz", NS)
    return 0 if size is None else int(size.get(w("val")))


def run_color(run: Any) -> str:
    color = run.find("w:rPr/w:color", NS)
    return "" if color is None else color.get(w("val"))


def run_text(run: Any) -> str:
    return "".join(t.text or "" for t in run.iter(w("t")))


class Docx:
    """The parts of a produced .docx a rule check needs."""

    def __init__(self, data: bytes) -> None:
        self.zip = zipfile.ZipFile(io.BytesIO(data))
        self.document = etree.fromstring(self.zip.read("word/document.xml"))
        self.styles = etree.fromstring(self.zip.read("word/styles.xml"))
        self.settings = etree.fromstring(self.zip.read("word/settings.xml"))
        self.rels = etree.fromstring(self.zip.read("word/_rels/document.xml.rels"))
        self.body = self.document.find("w:body", NS)
        self.sectpr = self.body.find("w:sectPr", NS)

    def paragraphs(self) -> list[Para]:
        return [Para(p) for p in self.body.iter(w("p"))]

    def para(self, pattern: str) -> Para:
        """The first paragraph whose text matches `pattern` (regex search)."""
        for paragraph in self.paragraphs():
            if re.search(pattern, paragraph.text):
                return paragraph
        raise AssertionError(f"no paragraph matches {pattern!r}")

    def index_of(self, paragraph: Para) -> int:
        return [p.el for p in self.paragraphs()].index(paragraph.el)

    def top_level(self) -> list[Any]:
        """Body children in order (paragraphs and tables)."""
        return [el for el in self.body if el.tag in (w("p"), w("tbl"))]

    def sect(self, path: str, attribute: str) -> str | None:
        found = self.sectpr.find(path, NS)
        return None if found is None else found.get(w(attribute))

    def part_of(self, reference_tag: str, kind: str) -> Any | None:
        """The header/footer part a sectPr reference of `kind` (default/even/first) points to."""
        for ref in self.sectpr.findall(f"w:{reference_tag}", NS):
            if ref.get(w("type")) == kind:
                rid = ref.get(f"{{{R}}}id")
                for rel in self.rels:
                    if rel.get("Id") == rid:
                        return etree.fromstring(self.zip.read("word/" + rel.get("Target")))
        return None

    def footer(self, kind: str) -> Any | None:
        return self.part_of("footerReference", kind)

    def header(self, kind: str) -> Any | None:
        return self.part_of("headerReference", kind)

    def anchors(self) -> list[Any]:
        """Floating pictures (the seals)."""
        return [a for a in self.body.iter(f"{{{WP}}}anchor") if a.find(f".//{{{PIC}}}pic") is not None]

    def text_boxes(self) -> list[Any]:
        return [a for a in self.body.iter(f"{{{WP}}}anchor") if a.find(f".//{{{WPS}}}txbx") is not None]


def _boxes_around(el: Any) -> int:
    return len(el.xpath("ancestor-or-self::w:txbxContent", namespaces=NS))


def text_of(part: Any) -> str:
    """Text of runs in order; a run's w:tab is "\t" (a tab stop definition in w:pPr is not text).
    Text inside a text box anchored in `part` belongs to the box's own paragraphs, not to `part`."""
    depth = _boxes_around(part)
    return "".join(
        "\t" if node.tag == w("tab") else (node.text or "")
        for run in part.iter(w("r"))
        if _boxes_around(run) == depth
        for node in run
        if node.tag in (w("t"), w("tab"), w("instrText"))
    )


def body_paragraphs(d: Docx, spec: Any) -> list[Para]:
    """The 正文 paragraphs (text equal to a body block of the spec)."""
    texts = {b["text"] for b in spec.body}
    return [p for p in d.paragraphs() if p.text in texts]


# --- checks shared by every format ---------------------------------------------------------------
def check_g01_paper_is_a4_portrait(d: Docx, spec: Any) -> None:
    assert d.sect("w:pgSz", "w") == "11906"
    assert d.sect("w:pgSz", "h") == "16838"
    assert d.sect("w:pgSz", "orient") in (None, "portrait")


def check_g02_top_margin_is_37_mm(d: Docx, spec: Any) -> None:
    assert 2041 <= int(d.sect("w:pgMar", "top")) <= 2154


def check_g03_binding_margin_is_28_mm(d: Docx, spec: Any) -> None:
    assert 1531 <= int(d.sect("w:pgMar", "left")) <= 1644
    assert int(d.sect("w:pgMar", "gutter") or 0) == 0


def check_g04_text_area_is_156_by_225_mm(d: Docx, spec: Any) -> None:
    width = 11906 - int(d.sect("w:pgMar", "left")) - int(d.sect("w:pgMar", "right"))
    height = 16838 - int(d.sect("w:pgMar", "top")) - int(d.sect("w:pgMar", "bottom"))
    assert abs(width - 8844) <= 2
    assert abs(height - 12756) <= 2


def check_g05_line_grid_gives_22_lines(d: Docx, spec: Any) -> None:
    assert d.sect("w:docGrid", "type") in ("lines", "linesAndChars")
    pitch = int(d.sect("w:docGrid", "linePitch"))
    assert 555 <= pitch <= 579
    for paragraph in body_paragraphs(d, spec):
        line, rule = paragraph.line()
        assert rule == "exact" and 555 <= line <= 579, paragraph.text
        assert 22 * line <= 12756


def check_g06_body_runs_are_spaced_for_28_characters(d: Docx, spec: Any) -> None:
    for paragraph in body_paragraphs(d, spec):
        for run in paragraph.runs:
            spacing = run.find("w:rPr/w:spacing", NS)
            assert spacing is not None and spacing.get(w("val")) == "-5"
            # 28 characters of 16 pt − 0.25 pt fit the 156 mm (442.2 pt) line.
            assert 28 * (run_size(run) / 2 - 0.25) <= 442.2


def check_g07_default_font_is_3hao_fangsong_without_theme_fonts(d: Docx, spec: Any) -> None:
    rpr = d.styles.find("w:docDefaults/w:rPrDefault/w:rPr", NS)
    assert rpr.find("w:sz", NS).get(w("val")) == "32"
    fonts = rpr.find("w:rFonts", NS)
    assert fonts.get(w("eastAsia")) == FANGSONG
    assert not [a for a in fonts.attrib if "heme" in a]
    for style_fonts in d.styles.iter(w("rFonts")):
        assert not [a for a in style_fonts.attrib if "heme" in a]
    for run in (r for p in d.paragraphs() for r in p.runs):
        assert run_font(run), run_text(run)  # every run names its east-Asian face


def check_g08_text_is_black_except_the_mark(d: Docx, spec: Any) -> None:
    # One mark: the whole 标志 in one run; joint: each name and the suffix at their right.
    marks = set(spec.mark_texts) | ({spec.mark_suffix} if len(spec.mark_texts) > 1 else set())
    red: list[str] = []
    parts = [d.body] + [p for p in (d.header("first"),) if p is not None]
    for part in parts:
        for run in (r for r in part.iter(w("r")) if r.find(w("t")) is not None):
            if run_color(run).upper() == "FF0000":
                assert run_text(run) in marks and run_font(run) == XIAOBIAOSONG, run_text(run)
                red.append(run_text(run))
            else:
                assert run_color(run) in ("", "000000"), run_text(run)
    assert set(red) == marks


def check_g10_copy_number_is_six_digits_top_left(d: Docx, spec: Any) -> None:
    first = Para(d.body.find("w:p", NS)) if spec.layout != "letter" else d.paragraphs()[0]
    assert re.match(r"^\d{6}", first.text)
    assert first.align == "left" and first.indent("firstLine") == 0 and first.indent("left") == 0


def check_g11_classification_is_heiti_on_line_2(d: Docx, spec: Any) -> None:
    second = d.paragraphs()[1]
    assert re.match(r"^(绝密|机密|秘密)★\d+年", second.text)
    assert {run_font(r) for r in second.runs} == {HEITI}
    assert all(run_size(r) == 32 for r in second.runs)


def check_g12_urgency_is_heiti_after_classification(d: Docx, spec: Any) -> None:
    urgency = d.para(r"^(特急|加急)$")
    assert d.index_of(urgency) == 2
    assert {run_font(r) for r in urgency.runs} == {HEITI}


def check_g14_doc_number_form(d: Docx, spec: Any) -> None:
    number = d.para(re.escape(spec.doc_number))
    runs = [r for r in number.runs if run_text(r) == spec.doc_number]
    assert re.match(r"^\S+〔(19|20)\d{2}〕[1-9]\d*号$", run_text(runs[0]))
    assert run_font(runs[0]) == FANGSONG and run_size(runs[0]) == 32
    assert not re.search(r"[\[\]【】()（）]|第", spec.doc_number)


def check_g20_title_is_2hao_xiaobiaosong_centred(d: Docx, spec: Any) -> None:
    title = d.para("^" + re.escape(spec.title) + "$")
    assert title.align == "center"
    assert {run_font(r) for r in title.runs} == {XIAOBIAOSONG}
    assert {run_size(r) for r in title.runs} == {44}


def check_g21_main_recipients_one_line_below_title_ending_with_colon(d: Docx, spec: Any) -> None:
    paragraphs = d.paragraphs()
    # The whole line is the recipients and a full-width colon.
    main = d.para("^" + re.escape(spec.main_recipients.rstrip("：")) + "：$")
    index = d.index_of(main)
    assert paragraphs[index - 1].text == ""
    assert paragraphs[index - 2].text == spec.title
    assert main.align == "left" and main.indent("firstLine") == 0


def check_g23_body_paragraphs_indent_two_characters(d: Docx, spec: Any) -> None:
    paragraphs = body_paragraphs(d, spec)
    assert paragraphs
    for paragraph in paragraphs:
        assert paragraph.indent("firstLineChars") == 200 or paragraph.indent("firstLine") == 640
        assert paragraph.indent("left") == 0


def check_g24_heading_levels_use_their_faces(d: Docx, spec: Any) -> None:
    patterns = {
        HEITI: r"^[一二三四五六七八九十]+、",
        KAITI: r"^（[一二三四五六七八九十]+）",
        "1.": r"^\d+\.",
        "(1)": r"^（\d+）",
    }
    for kind, face, pattern in (
        ("h1", HEITI, patterns[HEITI]),
        ("h2", KAITI, patterns[KAITI]),
        ("h3", FANGSONG, patterns["1."]),
        ("h4", FANGSONG, patterns["(1)"]),
    ):
        block = next(b for b in spec.body if b["kind"] == kind)
        assert re.match(pattern, block["text"])
        paragraph = d.para("^" + re.escape(block["text"]) + "$")
        assert {run_font(r) for r in paragraph.runs} == {face}
        assert {run_size(r) for r in paragraph.runs} == {32}
        assert paragraph.indent("firstLineChars") == 200
        assert not paragraph.el.findall(".//w:b", NS)  # the face carries the weight


def check_g25_attachment_note(d: Docx, spec: Any) -> None:
    first = d.para("^附件：")
    paragraphs = d.paragraphs()
    index = d.index_of(first)
    assert paragraphs[index - 1].text == ""  # one blank line below 正文
    assert first.indent("firstLineChars") == 200
    lines = [first.text] + [paragraphs[index + i].text for i in range(1, len(spec.attachments))]
    pattern = r"^(附件：)?(\d+\.)?\S.*[^。；，.]$"
    for line in lines:
        assert re.match(pattern, line), line
    if len(spec.attachments) > 1:
        assert lines[0].startswith("附件：1.") and lines[1].startswith("2.")
        second = paragraphs[index + 1]
        # Aligned under the first name: 左空二字 + the width of "附件：".
        assert second.indent("left") == 640 + 3 * 320


def check_g29_issued_on_form(d: Docx, spec: Any) -> None:
    date = d.para(r"^\d{4}年\d+月\d+日$")
    assert re.match(r"^(19|20)\d{2}年([1-9]|1[0-2])月([1-9]|[12]\d|3[01])日$", date.text)
    assert date.text == f"{spec.issued_on.year}年{spec.issued_on.month}月{spec.issued_on.day}日"


def check_g31_remark_in_full_width_parentheses(d: Docx, spec: Any) -> None:
    remark = d.para(r"^（" + re.escape(spec.remark) + "）$")
    assert remark.indent("firstLineChars") == 200
    date = d.para(r"^\d{4}年\d+月\d+日$") if spec.issued_on and spec.layout != "minutes" else None
    if date is not None:
        assert d.index_of(remark) == d.index_of(date) + 1


def check_g32_attachment_pages(d: Docx, spec: Any) -> None:
    paragraphs = d.paragraphs()
    start = d.index_of(d.para("^附件："))
    note_lines = [p.text for p in paragraphs[start : start + len(spec.attachments)]]
    names = [re.sub(r"^(附件：)?\d+\.", "", t) if len(note_lines) > 1 else t[3:] for t in note_lines]
    assert names == [t.rstrip("。；，.") for t in spec.attachments]
    for number in range(1, len(spec.attachments) + 1):
        head = d.para(f"^附件{number}$" if len(spec.attachments) > 1 else "^附件$")
        index = d.index_of(head)
        assert head.has("w:pageBreakBefore")
        assert head.align == "left" and head.indent("firstLine") == 0
        assert {run_font(r) for r in head.runs} == {HEITI}
        title = paragraphs[index + 2]  # line 3
        assert paragraphs[index + 1].text == ""
        assert title.align == "center"
        assert title.text == names[number - 1]  # identical to the 附件说明


def _version_table(d: Docx) -> Any:
    for table in d.body.iter(w("tbl")):
        if re.search("抄送：|印发$", "".join(t.text or "" for t in table.iter(w("t")))):
            return table
    raise AssertionError("no 版记")


def check_g40_version_block_rules(d: Docx, spec: Any) -> None:
    table = _version_table(d)
    # In a text box whose bottom is the 版心 bottom, text wrapping above it.
    (box,) = d.text_boxes()
    assert table.iterancestors(f"{{{WP}}}anchor").__next__() is box
    assert box.find(f"{{{WP}}}positionV", NS).get("relativeFrom") == "margin"
    assert box.find(f"{{{WP}}}positionV/{{{WP}}}align", NS).text == "bottom"
    assert box.find(f"{{{WP}}}wrapTopAndBottom", NS) is not None
    assert abs(int(box.find(f"{{{WP}}}extent", NS).get("cx")) // 635 - 8844) <= 2
    assert 8840 <= int(table.find("w:tblPr/w:tblW", NS).get(w("w"))) <= 8846
    borders = table.find("w:tblPr/w:tblBorders", NS)
    assert borders.find("w:top", NS).get(w("sz")) == "8"  # thick 0.35 mm
    assert borders.find("w:bottom", NS).get(w("sz")) == "8"
    for side in ("top", "bottom"):
        assert borders.find(f"w:{side}", NS).get(w("val")) == "single"


def check_g41_cc_line(d: Docx, spec: Any) -> None:
    cc = d.para("^抄送：")
    assert re.match(r"^抄送：.+。$", cc.text)
    assert {run_size(r) for r in cc.runs} == {28}
    assert {run_font(r) for r in cc.runs} == {FANGSONG}
    # 左右各空一字 (4号: 280), wrapped lines aligned after the colon.
    assert cc.indent("left") - cc.indent("hanging") == 280
    assert cc.indent("right") == 280
    assert cc.indent("hanging") == 3 * 280


def check_g42_printed_by_and_on(d: Docx, spec: Any) -> None:
    printed = d.para("印发$")
    assert re.search(r"(19|20)\d{2}年[1-9]\d?月[1-9]\d?日印发$", printed.text)
    assert printed.text.startswith(spec.printed_by + "\t")
    assert {run_size(r) for r in printed.runs} == {28}
    assert printed.indent("left") == 280 and printed.indent("right") == 280
    assert printed.el.find("w:pPr/w:tabs/w:tab", NS).get(w("val")) == "right"


def check_g43_items_separated_by_a_thin_line(d: Docx, spec: Any) -> None:
    borders = _version_table(d).find("w:tblPr/w:tblBorders", NS)
    assert borders.find("w:insideH", NS).get(w("val")) == "single"
    assert borders.find("w:insideH", NS).get(w("sz")) == "6"  # thin 0.25 mm


def _page_number_paragraph(part: Any) -> Any:
    for paragraph in part.iter(w("p")):
        if "PAGE" in text_of(paragraph):
            return paragraph
    raise AssertionError("no PAGE field")


def check_g50_page_number_is_4hao_songti_between_dashes(d: Docx, spec: Any) -> None:
    for kind in ("default", "even"):
        paragraph = _page_number_paragraph(d.footer(kind))
        text = text_of(paragraph)
        assert re.match(r"^— PAGE 1 —$", text.replace("  ", " ").strip()), text
        for run in paragraph.iter(w("r")):
            assert run_size(run) == 28
            assert run_font(run) == SONGTI
            assert run.find("w:rPr/w:rFonts", NS).get(w("ascii")) == SONGTI  # 半角 digits in 宋体


def check_g52_odd_right_even_left_one_character_in(d: Docx, spec: Any) -> None:
    assert d.settings.find("w:evenAndOddHeaders", NS) is not None
    odd = Para(_page_number_paragraph(d.footer("default")))
    even = Para(_page_number_paragraph(d.footer("even")))
    assert odd.align == "right" and odd.indent("right") == 280
    assert even.align == "left" and even.indent("left") == 280


Check = Callable[[Docx, Any], None]

PAGE_CHECKS: list[Check] = [
    check_g01_paper_is_a4_portrait,
    check_g02_top_margin_is_37_mm,
    check_g03_binding_margin_is_28_mm,
    check_g04_text_area_is_156_by_225_mm,
    check_g05_line_grid_gives_22_lines,
    check_g06_body_runs_are_spaced_for_28_characters,
    check_g07_default_font_is_3hao_fangsong_without_theme_fonts,
    check_g08_text_is_black_except_the_mark,
]
HEAD_CHECKS: list[Check] = [
    check_g10_copy_number_is_six_digits_top_left,
    check_g11_classification_is_heiti_on_line_2,
    check_g12_urgency_is_heiti_after_classification,
    check_g14_doc_number_form,
]
MAIN_CHECKS: list[Check] = [
    check_g20_title_is_2hao_xiaobiaosong_centred,
    check_g21_main_recipients_one_line_below_title_ending_with_colon,
    check_g23_body_paragraphs_indent_two_characters,
    check_g24_heading_levels_use_their_faces,
    check_g25_attachment_note,
    check_g29_issued_on_form,
    check_g31_remark_in_full_width_parentheses,
    check_g32_attachment_pages,
]
VERSION_BLOCK_CHECKS: list[Check] = [
    check_g40_version_block_rules,
    check_g41_cc_line,
    check_g42_printed_by_and_on,
    check_g43_items_separated_by_a_thin_line,
]
PAGE_NUMBER_CHECKS: list[Check] = [
    check_g50_page_number_is_4hao_songti_between_dashes,
    check_g52_odd_right_even_left_one_character_in,
]


def check_id(check: Check) -> str:
    return check.__name__.removeprefix("check_")


def seal_png(color: tuple[int, int, int, int] = (230, 0, 18, 255)) -> bytes:
    """A round red seal impression on a transparent ground (a stand-in for an agency's 印模)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (420, 420), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((10, 10, 410, 410), outline=color, width=18)
    draw.regular_polygon((210, 210, 70), 5, fill=color)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
