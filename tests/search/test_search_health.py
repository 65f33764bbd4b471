"""Health check "search": the engine answers and the index lag is reported; too much lag or an engine
that cannot answer fails the check, and /healthz says so."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from officeapp.outbox.models import OutboxCursor, OutboxEvent
from officeapp.outbox.services import emit
from officeapp.registries import health_checks
from search import health
from search.health import MAX_LAG_SECONDS, SearchLagging, search_health
from search.interface import SearchUnavailable

pytestmark = pytest.mark.django_db


@pytest.fixture
def caught_up() -> None:
    probe = emit("test.probe", object_type="test.thing", object_id="0")
    OutboxCursor.objects.update_or_create(consumer="search", defaults={"last_id": probe.id})
    probe.delete()


def waiting_for(seconds: float) -> None:
    event = emit("test.waiting", object_type="test.thing", object_id="1")
    OutboxEvent.objects.filter(pk=event.pk).update(created_at=timezone.now() - timedelta(seconds=seconds))


@pytest.mark.usefixtures("caught_up")
def test_the_check_reports_the_engine_and_its_lag() -> None:
    assert search_health() == {"engine": "embedded", "lag_seconds": 0.0}
    waiting_for(20)
    facts = search_health()
    assert 19 <= facts["lag_seconds"] <= 25


@pytest.mark.usefixtures("caught_up")
def test_a_lag_past_the_limit_fails_the_check_in_chinese() -> None:
    waiting_for(MAX_LAG_SECONDS + 30)
    with pytest.raises(SearchLagging, match="搜索索引落后"):
        search_health()


class DownEngine:
    name = "down"

    def check(self) -> dict[str, object]:
        raise SearchUnavailable("搜索服务无法连接。")


def test_an_engine_that_cannot_answer_fails_the_check_and_healthz(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(health, "get_engine", lambda: DownEngine())
    with pytest.raises(SearchUnavailable):
        search_health()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["components"]["search"] == {
        "ok": False,
        "ms": response.json()["components"]["search"]["ms"],
        "error": "SearchUnavailable",
    }


def test_healthz_lists_search_when_it_is_healthy(client: Any) -> None:
    # No write before the probe: on SQLite's shared in-memory test database a write held by the
    # test's transaction locks the table for the probe's threads.
    assert health_checks.get("search") is search_health
    answer = client.get("/healthz").json()["components"]["search"]
    assert answer["ok"] is True, answer
