"""The demo's search part runs after every other builder and leaves a built index behind."""

from __future__ import annotations

from typing import Any

import pytest

from officeapp.outbox.models import OutboxCursor, OutboxEvent
from officeapp.registries import demo_builders
from search.demo import build_search_demo
from search.engines import get_engine
from search.principals import principals_of

pytestmark = pytest.mark.django_db


def test_the_search_builder_comes_after_every_other_builder() -> None:
    assert sorted(demo_builders.keys())[-1] == "90-search"
    assert demo_builders["90-search"] is build_search_demo


def test_the_demo_builder_indexes_what_the_database_holds_and_moves_the_cursor_past_it(cast: Any) -> None:
    from tests.documents.factories import make_document

    document = make_document(cast, title="关于演示搜索的通知")
    lines: list[str] = []
    summary = build_search_demo(lines.append)

    assert summary.startswith("搜索索引：") and summary.endswith(" 条")
    assert int(summary.removeprefix("搜索索引：").removesuffix(" 条")) == get_engine().count() >= 1
    assert f"document:{document.pk}" in get_engine().visible_keys(principals_of(cast.drafter))
    newest = OutboxEvent.objects.order_by("-id").values_list("id", flat=True).first()
    assert OutboxCursor.objects.get(consumer="search").last_id == newest
