"""Raw OOXML for what python-docx has no API for, used by documents/gbt9704.py.

One module so the WordprocessingML details live in one place: the line grid (G05), explicit
east-Asian fonts (G07), character spacing (G06), exact line heights, red borders (G16, G40, G60),
PAGE fields in odd/even footers (G50–G52) and floating seal images (G26). Units: twips (1/20 pt)
for lengths, half-points for font sizes, eighths of a point for border widths, EMU for drawings.
"""

from __future__ import annotations

import itertools
from typing import Any

from docx.document import Document as DocxDocument
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.section import Section
from docx.text.paragraph import Paragraph
from docx.text.run import Run

TWIPS_PER_MM = 56.6929
EMU_PER_TWIP = 635
RED = "FF0000"
BLACK = "000000"

_drawing_ids = itertools.count(1000)


def mm(value: float) -> int:
    """Millimetres → twips."""
    return round(value * TWIPS_PER_MM)


def _child(parent: Any, tag: str, *, before: tuple[str, ...] = ()) -> Any:
    """The first `tag` child of `parent`, created when missing (before the first of `before`)."""
    found = parent.find(qn(tag))
    if found is not None:
        return found
    element = OxmlElement(tag)
    for name in before:
        anchor = parent.find(qn(name))
        if anchor is not None:
            anchor.addprevious(element)
            return element
    parent.append(element)
    return element


# --- fonts and runs (G07, G06) ------------------------------------------------------------------
def set_fonts(rpr: Any, face: str) -> None:
    """Name `face` for every script, east-Asian explicitly, and drop theme fonts (G07): a theme
    font would win over the name in Word and WPS."""
    fonts = _child(rpr, "w:rFonts")
    for attribute in list(fonts.attrib):
        if attribute.endswith("Theme") or attribute.endswith("theme"):
            del fonts.attrib[attribute]
    for script in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(script), face)
    fonts.set(qn("w:hint"), "eastAsia")


def style_run(
    run: Run,
    *,
    face: str,
    half_points: int,
    color: str = BLACK,
    spacing: int | None = None,
) -> None:
    """Font, size (half-points), colour and character spacing (twentieths of a point) of a run."""
    rpr = run._r.get_or_add_rPr()
    set_fonts(rpr, face)
    _child(rpr, "w:color").set(qn("w:val"), color)
    if spacing is not None:
        _child(rpr, "w:spacing").set(qn("w:val"), str(spacing))
    _child(rpr, "w:sz").set(qn("w:val"), str(half_points))
    _child(rpr, "w:szCs").set(qn("w:val"), str(half_points))
    _order_rpr(rpr)


# CT_RPr is a sequence: Word refuses a file whose run properties are out of order.
_RPR_ORDER = [
    "w:rStyle",
    "w:rFonts",
    "w:b",
    "w:bCs",
    "w:i",
    "w:iCs",
    "w:caps",
    "w:smallCaps",
    "w:strike",
    "w:dstrike",
    "w:outline",
    "w:shadow",
    "w:emboss",
    "w:imprint",
    "w:noProof",
    "w:snapToGrid",
    "w:vanish",
    "w:webHidden",
    "w:color",
    "w:spacing",
    "w:w",
    "w:kern",
    "w:position",
    "w:sz",
    "w:szCs",
    "w:highlight",
    "w:u",
    "w:effect",
    "w:bdr",
    "w:shd",
    "w:fitText",
    "w:vertAlign",
    "w:rtl",
    "w:cs",
    "w:em",
    "w:lang",
    "w:eastAsianLayout",
    "w:specVanish",
    "w:oMath",
]
_RPR_RANK = {qn(tag): i for i, tag in enumerate(_RPR_ORDER)}


def _order_rpr(rpr: Any) -> None:
    children = sorted(rpr, key=lambda el: _RPR_RANK.get(el.tag, len(_RPR_RANK)))
    for el in children:
        rpr.append(el)


def set_document_defaults(document: DocxDocument, *, face: str, half_points: int) -> None:
    """docDefaults: 3号 仿宋, black, zh-CN, no paragraph spacing (G07, G08)."""
    styles = document.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    set_fonts(rpr, face)
    _child(rpr, "w:color").set(qn("w:val"), BLACK)
    _child(rpr, "w:sz").set(qn("w:val"), str(half_points))
    _child(rpr, "w:szCs").set(qn("w:val"), str(half_points))
    lang = _child(rpr, "w:lang")
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")
    _order_rpr(rpr)
    ppr = defaults.find(qn("w:pPrDefault")).find(qn("w:pPr"))
    # G05: every page holds 22 lines; widow/orphan control would end pages a line short.
    _child(ppr, "w:widowControl").set(qn("w:val"), "0")
    spacing = _child(ppr, "w:spacing")
    for attribute in list(spacing.attrib):
        del spacing.attrib[attribute]
    spacing.set(qn("w:before"), "0")
    spacing.set(qn("w:after"), "0")
    _order_ppr(ppr)
    # The Normal style of python-docx's template names theme fonts of its own: clear them too.
    for style_rpr in styles.iter(qn("w:rPr")):
        fonts = style_rpr.find(qn("w:rFonts"))
        if fonts is not None and any(a.endswith("Theme") or a.endswith("theme") for a in fonts.attrib):
            set_fonts(style_rpr, face)


# --- paragraphs ---------------------------------------------------------------------------------
_PPR_ORDER = [
    "w:pStyle",
    "w:keepNext",
    "w:keepLines",
    "w:pageBreakBefore",
    "w:framePr",
    "w:widowControl",
    "w:numPr",
    "w:suppressLineNumbers",
    "w:pBdr",
    "w:shd",
    "w:tabs",
    "w:suppressAutoHyphens",
    "w:kinsoku",
    "w:wordWrap",
    "w:overflowPunct",
    "w:topLinePunct",
    "w:autoSpaceDE",
    "w:autoSpaceDN",
    "w:bidi",
    "w:adjustRightInd",
    "w:snapToGrid",
    "w:spacing",
    "w:ind",
    "w:contextualSpacing",
    "w:mirrorIndents",
    "w:suppressOverlap",
    "w:jc",
    "w:textDirection",
    "w:textAlignment",
    "w:textboxTightWrap",
    "w:outlineLvl",
    "w:divId",
    "w:cnfStyle",
    "w:rPr",
    "w:sectPr",
    "w:pPrChange",
]
_PPR_RANK = {qn(tag): i for i, tag in enumerate(_PPR_ORDER)}


def _order_ppr(ppr: Any) -> None:
    children = sorted(ppr, key=lambda el: _PPR_RANK.get(el.tag, len(_PPR_RANK)))
    for el in children:
        ppr.append(el)


def _ppr(paragraph: Paragraph) -> Any:
    return paragraph._p.get_or_add_pPr()


def set_exact_line(paragraph: Paragraph, twips: int, *, snap_to_grid: bool = True) -> None:
    """A fixed line height (G05: 22 lines of ≈28.95 pt fill the 225 mm 版心). Paragraphs that must
    sit at a measured height (the spacer above the 标志, G13) leave the line grid."""
    ppr = _ppr(paragraph)
    spacing = _child(ppr, "w:spacing")
    spacing.set(qn("w:before"), "0")
    spacing.set(qn("w:after"), "0")
    spacing.set(qn("w:line"), str(twips))
    spacing.set(qn("w:lineRule"), "exact")
    if not snap_to_grid:
        _child(ppr, "w:snapToGrid").set(qn("w:val"), "0")
    _order_ppr(ppr)


def set_indent(
    paragraph: Paragraph,
    *,
    left: int | None = None,
    right: int | None = None,
    first_line: int | None = None,
    hanging: int | None = None,
    first_line_chars: int | None = None,
    right_chars: int | None = None,
) -> None:
    """Indents in twips; `*_chars` in hundredths of a character (G23 左空二字 = firstLineChars 200,
    G26 右空四字 = rightChars 400), written beside the twips so every reader gets the same width."""
    ppr = _ppr(paragraph)
    ind = _child(ppr, "w:ind")
    values = {
        "w:left": left,
        "w:right": right,
        "w:firstLine": first_line,
        "w:hanging": hanging,
        "w:firstLineChars": first_line_chars,
        "w:rightChars": right_chars,
    }
    for name, value in values.items():
        if value is not None:
            ind.set(qn(name), str(value))
    _order_ppr(ppr)


def set_alignment(paragraph: Paragraph, value: str) -> None:
    """w:jc: left, center, right, both, distribute."""
    ppr = _ppr(paragraph)
    _child(ppr, "w:jc").set(qn("w:val"), value)
    _order_ppr(ppr)


def add_tab_stop(paragraph: Paragraph, position: int, *, kind: str = "left") -> None:
    ppr = _ppr(paragraph)
    tabs = _child(ppr, "w:tabs")
    tab = OxmlElement("w:tab")
    tab.set(qn("w:val"), kind)
    tab.set(qn("w:pos"), str(position))
    tabs.append(tab)
    _order_ppr(ppr)


def set_paragraph_border(
    paragraph: Paragraph,
    side: str,
    *,
    val: str = "single",
    eighths: int = 8,
    color: str = RED,
    space: int = 0,
) -> None:
    """A paragraph border: the 版头分隔线 (G16) under the 发文字号, the 信函 lines (G60)."""
    ppr = _ppr(paragraph)
    borders = _child(ppr, "w:pBdr")
    border = _child(borders, f"w:{side}")
    border.set(qn("w:val"), val)
    border.set(qn("w:sz"), str(eighths))
    border.set(qn("w:space"), str(space))
    border.set(qn("w:color"), color)
    _order_ppr(ppr)


def set_page_break_before(paragraph: Paragraph) -> None:
    """G32: each 附件 starts on a new page."""
    ppr = _ppr(paragraph)
    _child(ppr, "w:pageBreakBefore")
    _order_ppr(ppr)


def keep_with_next(paragraph: Paragraph) -> None:
    """G30: 署名 and 成文日期 stay with the text above rather than alone on a page."""
    ppr = _ppr(paragraph)
    _child(ppr, "w:keepNext")
    _order_ppr(ppr)


# --- tables (版记 G40, joint 标志 G13, 签发人 G15) ----------------------------------------------
def set_table_borders(table: Any, **sides: tuple[str, int, str] | None) -> None:
    """Borders of a table: side → (val, eighths of a point, colour), None for no border.
    G40: top and bottom thick (0.35 mm ≈ w:sz 8), insideH thin (0.25 mm ≈ w:sz 6)."""
    tblpr = table._tbl.tblPr
    borders = _child(tblpr, "w:tblBorders", before=("w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook"))
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        border = _child(borders, f"w:{side}")
        spec = sides.get(side)
        if spec is None:
            border.set(qn("w:val"), "nil")
            continue
        val, eighths, color = spec
        border.set(qn("w:val"), val)
        border.set(qn("w:sz"), str(eighths))
        border.set(qn("w:space"), "0")
        border.set(qn("w:color"), color)
    # Sequence order inside tblBorders.
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        borders.append(borders.find(qn(f"w:{side}")))


def set_table_geometry(table: Any, *, width: int, columns: list[int], cell_margin: int = 0) -> None:
    """A fixed-width table centred in the 版心, with fixed columns and side cell margins."""
    tblpr = table._tbl.tblPr
    tblw = _child(tblpr, "w:tblW", before=("w:jc", "w:tblInd", "w:tblBorders", "w:tblLayout", "w:tblLook"))
    tblw.set(qn("w:w"), str(width))
    tblw.set(qn("w:type"), "dxa")
    _child(
        tblpr, "w:jc", before=("w:tblInd", "w:tblBorders", "w:tblLayout", "w:tblCellMar", "w:tblLook")
    ).set(qn("w:val"), "center")
    _child(tblpr, "w:tblLayout", before=("w:tblCellMar", "w:tblLook")).set(qn("w:type"), "fixed")
    margins = _child(tblpr, "w:tblCellMar", before=("w:tblLook",))
    for side in ("left", "right"):
        margin = _child(margins, f"w:{side}")
        margin.set(qn("w:w"), str(cell_margin))
        margin.set(qn("w:type"), "dxa")
    grid = table._tbl.tblGrid
    for col, twips in zip(grid.findall(qn("w:gridCol")), columns, strict=True):
        col.set(qn("w:w"), str(twips))
    for row in table.rows:
        for cell, twips in zip(row.cells, columns, strict=True):
            tcpr = cell._tc.get_or_add_tcPr()
            tcw = _child(tcpr, "w:tcW")
            tcw.set(qn("w:w"), str(twips))
            tcw.set(qn("w:type"), "dxa")


def set_cell_vertical_center(cell: Any) -> None:
    _child(cell._tc.get_or_add_tcPr(), "w:vAlign").set(qn("w:val"), "center")


# --- section: page, grid, footers (G01–G05, G50–G52) ---------------------------------------------
def set_line_grid(section: Section, *, pitch: int) -> None:
    """G05: a line grid of `pitch` twips (w:docGrid type="lines")."""
    sectpr = section._sectPr
    grid = _child(sectpr, "w:docGrid")
    for attribute in list(grid.attrib):
        del grid.attrib[attribute]
    grid.set(qn("w:type"), "lines")
    grid.set(qn("w:linePitch"), str(pitch))


def enable_odd_even_footers(document: DocxDocument) -> None:
    """G52: odd and even pages carry different footers (w:evenAndOddHeaders)."""
    document.settings.odd_and_even_pages_header_footer = True


def add_page_number(paragraph: Paragraph, *, face: str, half_points: int) -> None:
    """G50: `— 7 —`, the PAGE field between two 一字线 (U+2014), 4号 半角宋体."""

    def text_run(text: str) -> None:
        style_run(paragraph.add_run(text), face=face, half_points=half_points)

    text_run("— ")
    for kind, instruction in (
        ("begin", None),
        (None, " PAGE "),
        ("separate", None),
        (None, "1"),
        ("end", None),
    ):
        run = paragraph.add_run()
        style_run(run, face=face, half_points=half_points)
        if kind is not None:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            run._r.append(char)
        elif instruction == " PAGE ":
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = instruction
            run._r.append(instr)
        else:
            run.text = instruction or ""
    text_run(" —")


# --- floating images (G26 seals) -----------------------------------------------------------------
def float_picture(run: Run, *, x: int, y: int, name: str, from_character: bool = False) -> Any:
    """Turn the run's inline picture into a floating one, in front of the text, not moving it:
    `x` from the 版心 left edge (or, `from_character`, from where the run sits in its line), `y`
    from the top of the anchoring paragraph, both in twips.

    G26: the seal lies on 署名 and 成文日期 (wrapNone, not behind the text, so the red stays on top
    as on paper)."""
    inline = run._r.find(".//" + qn("wp:inline"))
    extent = inline.find(qn("wp:extent"))
    graphic = inline.find(qn("a:graphic"))
    anchor_id = next(_drawing_ids)
    anchor = OxmlElement("wp:anchor")
    for attribute, value in (
        ("distT", "0"),
        ("distB", "0"),
        ("distL", "0"),
        ("distR", "0"),
        ("simplePos", "0"),
        ("relativeHeight", str(anchor_id)),
        ("behindDoc", "0"),
        ("locked", "0"),
        ("layoutInCell", "1"),
        ("allowOverlap", "0"),
    ):
        anchor.set(attribute, value)
    simple = OxmlElement("wp:simplePos")
    simple.set("x", "0")
    simple.set("y", "0")
    anchor.append(simple)
    horizontal = "character" if from_character else "margin"
    for tag, relative, offset in (("wp:positionH", horizontal, x), ("wp:positionV", "paragraph", y)):
        position = OxmlElement(tag)
        position.set("relativeFrom", relative)
        pos = OxmlElement("wp:posOffset")
        pos.text = str(offset * EMU_PER_TWIP)
        position.append(pos)
        anchor.append(position)
    new_extent = OxmlElement("wp:extent")
    new_extent.set("cx", extent.get("cx"))
    new_extent.set("cy", extent.get("cy"))
    anchor.append(new_extent)
    effect = OxmlElement("wp:effectExtent")
    for side in ("l", "t", "r", "b"):
        effect.set(side, "0")
    anchor.append(effect)
    anchor.append(OxmlElement("wp:wrapNone"))
    doc_pr = OxmlElement("wp:docPr")
    doc_pr.set("id", str(anchor_id))
    doc_pr.set("name", name)
    anchor.append(doc_pr)
    anchor.append(OxmlElement("wp:cNvGraphicFramePr"))
    anchor.append(graphic)
    inline.getparent().replace(inline, anchor)
    return anchor


# --- the 版记 box (G40) ---------------------------------------------------------------------------
WPS = "http://schemas.microsoft.com/office/word/2010/wordprocessingShape"
_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
_WP = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"


def bottom_text_box(
    paragraph: Paragraph,
    content: list[Any],
    *,
    width: int,
    height: int,
    name: str,
    page_offsets: tuple[int, int] | None = None,
) -> Any:
    """Move `content` (body elements: the 版记 table) into a text box anchored in `paragraph`, its
    bottom on the 版心 bottom edge, centred, text wrapping above and below it.

    G40: the last 版记 line coincides with the 版心 bottom of the last page. A floating table
    (tblpPr) is laid out inline or dropped by LibreOffice; a DrawingML text box aligned to the
    margin bottom is honoured by LibreOffice and Word alike.

    `page_offsets` (x, y in twips from the paper's top-left) places the box on the page instead:
    the 信函 bottom line 20 mm above the paper bottom (G60), below where a footer can reach."""
    from docx.oxml import parse_xml

    cx, cy = width * EMU_PER_TWIP, height * EMU_PER_TWIP
    box_id = next(_drawing_ids)
    if page_offsets is None:
        position = (
            '<wp:positionH relativeFrom="margin"><wp:align>center</wp:align></wp:positionH>'
            '<wp:positionV relativeFrom="margin"><wp:align>bottom</wp:align></wp:positionV>'
        )
    else:
        x, y = (offset * EMU_PER_TWIP for offset in page_offsets)
        position = (
            f'<wp:positionH relativeFrom="page"><wp:posOffset>{x}</wp:posOffset></wp:positionH>'
            f'<wp:positionV relativeFrom="page"><wp:posOffset>{y}</wp:posOffset></wp:positionV>'
        )
    xml = f"""<w:r xmlns:w="{qn("w:r").split("}")[0][1:]}" xmlns:wp="{_WP}" xmlns:a="{_A}" xmlns:wps="{WPS}">
<w:drawing><wp:anchor distT="0" distB="0" distL="0" distR="0" simplePos="0" relativeHeight="{box_id}"
 behindDoc="0" locked="0" layoutInCell="1" allowOverlap="0"><wp:simplePos x="0" y="0"/>
{position}
<wp:extent cx="{cx}" cy="{cy}"/><wp:effectExtent l="0" t="0" r="0" b="0"/><wp:wrapTopAndBottom/>
<wp:docPr id="{box_id}" name="{name}"/><wp:cNvGraphicFramePr/>
<a:graphic><a:graphicData uri="{WPS}"><wps:wsp><wps:cNvSpPr txBox="1"/>
<wps:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="{cx}" cy="{cy}"/></a:xfrm>
<a:prstGeom prst="rect"><a:avLst/></a:prstGeom><a:noFill/><a:ln><a:noFill/></a:ln></wps:spPr>
<wps:txbx><w:txbxContent/></wps:txbx>
<wps:bodyPr rot="0" vert="horz" wrap="square" lIns="0" tIns="0" rIns="0" bIns="0" anchor="b"><a:noAutofit/></wps:bodyPr>
</wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing></w:r>"""
    run = parse_xml(xml)
    box = run.find(".//" + qn("w:txbxContent"))
    for element in content:
        box.append(element)
    # A text box's content must end with a paragraph; a hairline one adds nothing below the rule.
    closing = OxmlElement("w:p")
    ppr = OxmlElement("w:pPr")
    spacing = OxmlElement("w:spacing")
    spacing.set(qn("w:line"), "20")
    spacing.set(qn("w:lineRule"), "exact")
    ppr.append(spacing)
    closing.append(ppr)
    box.append(closing)
    paragraph._p.append(run)
    return run
