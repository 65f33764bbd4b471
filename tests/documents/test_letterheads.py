"""版头模板: what the office notices when it keeps its agency's letterheads."""

from __future__ import annotations

from typing import Any

import pytest

from documents.letterheads import LetterheadRefused, create_letterhead, set_default, update_letterhead
from documents.models import Layout, Letterhead
from documents.services import default_letterhead
from officeapp.audit.models import AuditEvent
from officeapp.outbox.models import OutboxEvent


def _make(cast: Any, name: str = "办公厅文件", **fields: Any) -> Letterhead:
    fields.setdefault("mark_text", "广东省人民政府办公厅文件")
    fields.setdefault("number_prefix", "粤府办")
    return create_letterhead(cast.gov_office, actor=cast.office_secretary, name=name, **fields)


def test_the_first_letterhead_of_a_format_becomes_the_default(cast: Any) -> None:
    letterhead = _make(cast)

    assert letterhead.is_default
    assert default_letterhead(cast.gov_office, Layout.STANDARD) == letterhead
    assert AuditEvent.objects.filter(
        action="documents.letterhead_created", object_id=str(letterhead.pk)
    ).exists()
    assert OutboxEvent.objects.filter(topic="documents.letterhead_created").exists()


def test_a_second_letterhead_does_not_take_the_default_unless_asked(cast: Any) -> None:
    first = _make(cast)

    second = _make(cast, "办公厅文件（明电）", mark_text="广东省人民政府办公厅明电")

    first.refresh_from_db()
    assert first.is_default
    assert not second.is_default


def test_setting_a_default_clears_the_previous_one_in_the_same_format(cast: Any) -> None:
    first = _make(cast)
    letter = _make(cast, "办公厅函", layout=Layout.LETTER, mark_text="广东省人民政府办公厅")
    second = _make(cast, "办公厅文件（新）")

    set_default(second, actor=cast.office_director)

    first.refresh_from_db()
    letter.refresh_from_db()
    second.refresh_from_db()
    assert second.is_default
    assert not first.is_default
    assert letter.is_default  # another format keeps its own default
    assert default_letterhead(cast.gov_office, Layout.STANDARD) == second


def test_single_and_joint_variants_each_have_a_default(cast: Any) -> None:
    single = _make(cast)
    joint = _make(cast, "联合发文", is_joint=True, mark_text="广东省人民政府办公厅")

    assert single.is_default and joint.is_default
    assert default_letterhead(cast.gov_office, Layout.STANDARD, joint=True) == joint


def test_creating_with_is_default_takes_over(cast: Any) -> None:
    first = _make(cast)

    second = _make(cast, "办公厅文件（新）", is_default=True)

    first.refresh_from_db()
    assert second.is_default and not first.is_default


def test_someone_outside_the_office_may_not_keep_letterheads(cast: Any) -> None:
    for person in (cast.drafter, cast.dept_head, cast.other_clerk, cast.outsider):
        with pytest.raises(LetterheadRefused, match="办公室"):
            create_letterhead(
                cast.gov_office,
                actor=person,
                name="版头",
                mark_text="广东省人民政府办公厅文件",
                number_prefix="粤府办",
            )
    letterhead = _make(cast)
    with pytest.raises(LetterheadRefused, match="办公室"):
        set_default(letterhead, actor=cast.drafter)
    with pytest.raises(LetterheadRefused, match="办公室"):
        update_letterhead(letterhead, actor=cast.other_clerk, name="改名")


def test_a_duplicate_name_is_refused_with_the_name(cast: Any) -> None:
    _make(cast)

    with pytest.raises(LetterheadRefused, match="已有名为“办公厅文件”"):
        _make(cast)


@pytest.mark.parametrize("prefix", ["粤府办[", "粤府办〔2026〕", "粤 府办", "粤府办2"])
def test_a_number_prefix_that_breaks_g14_is_refused_naming_the_rule(cast: Any, prefix: str) -> None:
    with pytest.raises(LetterheadRefused, match="G14"):
        _make(cast, number_prefix=prefix)


def test_another_agencys_number_prefix_is_refused(cast: Any) -> None:
    with pytest.raises(LetterheadRefused, match="已由广东省财政厅使用"):
        _make(cast, number_prefix="粤财")


def test_empty_fields_are_refused_with_what_to_fill_in(cast: Any) -> None:
    with pytest.raises(LetterheadRefused, match="模板名称"):
        _make(cast, "  ")
    with pytest.raises(LetterheadRefused, match="发文机关标志"):
        _make(cast, mark_text="")
    with pytest.raises(LetterheadRefused, match="机关代字"):
        _make(cast, number_prefix="")


def test_an_update_changes_the_fields_and_is_audited(cast: Any) -> None:
    letterhead = _make(cast)

    update_letterhead(letterhead, actor=cast.office_director, mark_text="广东省人民政府办公厅文件（试行）")

    letterhead.refresh_from_db()
    assert letterhead.mark_text == "广东省人民政府办公厅文件（试行）"
    event = AuditEvent.objects.get(action="documents.letterhead_updated", object_id=str(letterhead.pk))
    assert event.details["fields"] == ["mark_text"]


def test_disabling_the_default_stops_it_being_offered(cast: Any) -> None:
    letterhead = _make(cast)

    update_letterhead(letterhead, actor=cast.office_director, is_active=False)

    letterhead.refresh_from_db()
    assert not letterhead.is_default
    assert default_letterhead(cast.gov_office, Layout.STANDARD) is None
    with pytest.raises(LetterheadRefused, match="停用"):
        set_default(letterhead, actor=cast.office_director)


def test_moving_the_default_to_another_format_leaves_one_default_there(cast: Any) -> None:
    _make(cast, "办公厅函", layout=Layout.LETTER, mark_text="广东省人民政府办公厅")
    standard = _make(cast)

    update_letterhead(standard, actor=cast.office_director, layout=Layout.LETTER)

    defaults = Letterhead.objects.filter(agency=cast.gov_office, layout=Layout.LETTER, is_default=True)
    assert list(defaults) == [standard]
