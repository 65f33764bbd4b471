"""Search in the browser (issue 9): a document just issued (分发) is found from the shell's search box
on any page by a person of the issuing agency — a suggestion as she types, the results page with the
word highlighted, the kind facet narrowing the list — and a 收发员 of another agency, to which it was
not distributed, finds nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

WORD = "应急演练"
TITLE = f"关于做好2026年珠江口防台风{WORD}工作的通知"
MEETING_TITLE = f"防台风{WORD}筹备会"


def _issue(cast: Any) -> int:
    """省府办公厅 issues the notice to 省教育厅 only (its 文秘 distributes it), and the same 文秘
    organises a meeting whose title has the same word: two kinds of result for the facet."""
    from datetime import timedelta

    from django.utils import timezone

    from documents.exchange import distribute
    from meetings import services as meetings
    from meetings.models import MeetingKind
    from tests.documents.exchange_factories import make_sealed

    document = make_sealed(
        cast,
        number="粤府办〔2026〕88号",
        title=TITLE,
        main_recipients=[cast.education],
        cc_recipients=[],
    )
    distribute(document, actor=cast.office_secretary)
    starts = (timezone.localtime() + timedelta(days=1)).replace(hour=15, minute=0, second=0, microsecond=0)
    meetings.create_meeting(
        actor=cast.office_secretary,
        title=MEETING_TITLE,
        kind=MeetingKind.VIDEO,
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        host=cast.leader,
        online=True,
    )
    return document.pk


def _drain() -> None:
    """What the worker does: deliver the outbox to the search index."""
    from officeapp.outbox.drain import drain

    result = drain("search")
    assert not result.failed and not result.skipped, result


def _type_in_the_shell_box(page: Any, text: str) -> Any:
    """Type into the search box of the shell (every page), waiting for the suggestions' answer."""
    box = page.locator("[data-shell-search] input[name=q]")
    with page.expect_response(lambda r: "/search/suggest/" in r.url and r.status == 200):
        box.press_sequentially(text, delay=30)
    return box


def test_a_document_just_issued_is_found_highlighted_and_narrowed_and_another_agency_does_not_find_it(
    signed_in_page: Callable[..., Any],
    server: Any,
    cast: Any,
    committed: Callable[..., Any],
    screenshot_dir: Path,
) -> None:
    document_id = committed(_issue, cast)
    committed(_drain)

    # The issuing agency's 文秘, on the workbench: a suggestion names the notice as she types.
    page = signed_in_page(cast.office_secretary)
    box = _type_in_the_shell_box(page, WORD)
    suggestions = page.locator("[data-shell-suggest]")
    expect(suggestions).to_be_visible()
    expect(suggestions.locator("a", has_text=TITLE)).to_have_count(1)

    # Enter with no suggestion chosen searches: the results page, both kinds, the word <mark>ed.
    with page.expect_navigation():
        box.press("Enter")
    assert page.url.startswith(f"{server.url}/search/?"), page.url
    hits = page.locator(".sr-hit")
    expect(hits).to_have_count(2)
    document_hit = hits.filter(has_text=TITLE)
    expect(document_hit).to_have_count(1)
    marked = document_hit.locator(".sr-title mark").all_inner_texts()
    assert "".join(marked) == WORD, marked
    expect(page.locator(".sr-bar strong").first).to_have_text("2")
    page.screenshot(path=str(screenshot_dir / "search-results.png"), full_page=True)

    # The kind facet: 公文 narrows to the notice alone (the meeting drops out).
    kind_facet = page.locator(".sr-facets details").first
    expect(kind_facet.locator("a", has_text="会议")).to_have_count(1)
    with page.expect_navigation():
        kind_facet.locator("a", has_text="公文").click()
    expect(hits).to_have_count(1)
    expect(hits.first.locator(".sr-title a")).to_have_text(TITLE)
    expect(page.locator(".sr-bar strong").first).to_have_text("1")
    expect(page.locator(".sr-main")).not_to_contain_text(MEETING_TITLE)
    # The result opens the document itself.
    with page.expect_navigation():
        hits.first.locator(".sr-title a").click()
    assert f"/{document_id}/" in page.url, page.url
    expect(page.locator("main")).to_contain_text(TITLE)

    # 省财政厅's 收发员: the notice was not distributed to her agency — no suggestion, no result.
    other = signed_in_page(cast.other_clerk)
    other_box = _type_in_the_shell_box(other, WORD)
    expect(other.locator("[data-shell-suggest]")).to_be_hidden()
    expect(other.locator("[data-shell-suggest] a")).to_have_count(0)
    with other.expect_navigation():
        other_box.press("Enter")
    expect(other.locator(".sr-hit")).to_have_count(0)
    expect(other.locator(".sr-empty")).to_be_visible()
    expect(other.locator(".sr-main mark")).to_have_count(0)
    expect(other.locator(".sr-main")).not_to_contain_text("珠江口")
    expect(other.locator(".sr-bar strong").first).to_have_text("0")
