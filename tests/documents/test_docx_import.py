"""An uploaded .docx becomes structured 正文 the drafter can keep editing in the browser."""

from __future__ import annotations

import io

import pytest
from docx import Document

from documents.docx_import import EMPTY_DOCX, NOT_A_DOCX, body_from_docx, kind_of
from documents.errors import DocumentError


def _docx(paragraphs: list[tuple[str, str | None]], table: list[list[str]] | None = None) -> bytes:
    document = Document()
    for text, style in paragraphs:
        document.add_paragraph(text, style=style)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_headings_are_recognised_by_their_numbering() -> None:
    data = _docx(
        [
            ("为做好防汛工作，现通知如下。", None),
            ("一、提高思想认识", None),
            ("（一）落实防汛责任制", None),
            ("1.加强值班值守", None),
            ("（1）及时报送信息", None),
            ("发生险情要第一时间报告。", None),
        ]
    )

    body = body_from_docx(data)

    assert [b["kind"] for b in body] == ["p", "h1", "h2", "h3", "h4", "p"]
    assert body[1]["text"] == "一、提高思想认识"


def test_word_heading_styles_set_the_level() -> None:
    body = body_from_docx(_docx([("总体要求", "Heading 1"), ("工作目标", "Heading 2"), ("正文。", None)]))

    assert [b["kind"] for b in body] == ["h1", "h2", "p"]


def test_half_width_parentheses_and_decimals_are_told_apart() -> None:
    assert kind_of("(二)强化监测预警") == "h2"
    assert kind_of("(3)做好转移安置") == "h4"
    assert kind_of("1.5万元专项经费已下达。") == "p"
    assert kind_of("2．加强巡查") == "h3"


def test_empty_paragraphs_are_dropped_and_spacing_inside_one_is_tidied() -> None:
    body = body_from_docx(_docx([("", None), ("  各地要\t加强值班。  ", None), ("", None)]))

    assert body == [{"kind": "p", "text": "各地要 加强值班。"}]


def test_table_rows_are_kept_as_paragraphs() -> None:
    body = body_from_docx(_docx([("附表如下。", None)], table=[["单位", "人数"], ["综合处", "12"]]))

    assert body[1:] == [{"kind": "p", "text": "单位\u3000人数"}, {"kind": "p", "text": "综合处\u300012"}]


def test_an_uploaded_file_object_is_read_too() -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("正文.docx", _docx([("一、总体要求", None)]))

    assert body_from_docx(upload) == [{"kind": "h1", "text": "一、总体要求"}]


@pytest.mark.parametrize("data", [b"not a word file at all", b"PK\x03\x04broken zip", b""])
def test_a_file_that_is_not_a_docx_is_refused_with_a_clear_message(data: bytes) -> None:
    with pytest.raises(DocumentError) as refused:
        body_from_docx(data)

    assert refused.value.message == NOT_A_DOCX


def test_a_zip_that_is_not_a_word_document_is_refused() -> None:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "hello")

    with pytest.raises(DocumentError, match="不是有效的 Word 文档"):
        body_from_docx(out.getvalue())


def test_a_docx_without_text_is_refused() -> None:
    with pytest.raises(DocumentError) as refused:
        body_from_docx(_docx([("", None)]))

    assert refused.value.message == EMPTY_DOCX
