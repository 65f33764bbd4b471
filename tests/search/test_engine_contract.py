"""The contract every engine keeps: the embedded engine always, Elasticsearch too whenever
ELASTICSEARCH_URL is set (a real server; writes are refreshed at once with refresh=True)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from search.interface import MAX_PAGE, Engine, Filters, QueryError, SearchQuery
from search.query import parse
from tests.search.conftest import BASE_DATE, make_doc

ENGINES = ["embedded"] + (["elasticsearch"] if os.environ.get("ELASTICSEARCH_URL") else [])
ME = {"u:1": None}


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "embedded":
        from search.engines.embedded import EmbeddedEngine

        yield EmbeddedEngine(tmp_path / "search" / "index.sqlite3")
        return
    from search.engines.elastic import ElasticEngine

    es = ElasticEngine(
        os.environ["ELASTICSEARCH_URL"],
        index_prefix=f"officeapp-test-{uuid.uuid4().hex[:10]}",
        analyzer="cjk",
        refresh=True,
    )
    try:
        yield es
    finally:
        es.clear()


def _keys(
    engine: Engine, raw: str, principals: dict[str, int | None] | None = None, **kw: object
) -> list[str]:
    q = SearchQuery(parsed=parse(raw), principals=ME if principals is None else principals, **kw)  # type: ignore[arg-type]
    return [h.key for h in engine.search(q).hits]


def test_every_term_must_occur(engine: Engine) -> None:
    engine.index(
        [
            make_doc(key="document:1", title="防汛通知", body="乡村振兴资金"),
            make_doc(key="document:2", title="防汛通知", body="城市建设"),
            make_doc(key="document:3", title="会议", body="资金安排"),
        ]
    )
    assert _keys(engine, "防汛 资金") == ["document:1"]


def test_phrase_must_occur_as_typed_punctuation_ignored(engine: Engine) -> None:
    engine.index(
        [
            make_doc(key="document:1", title="甲", body="做好防汛，工作安排"),
            make_doc(key="document:2", title="乙", body="工作做好防汛"),
        ]
    )
    assert _keys(engine, '"防汛 工作"') == ["document:1"]
    assert sorted(_keys(engine, "防汛 工作")) == ["document:1", "document:2"]


def test_excluded_word_removes_documents(engine: Engine) -> None:
    engine.index(
        [
            make_doc(key="document:1", title="防汛通知", body="台风将至"),
            make_doc(key="document:2", title="防汛通知", body="暴雨将至"),
        ]
    )
    assert _keys(engine, "防汛 -台风") == ["document:2"]


def test_doc_number_in_any_bracket_style_ranks_its_document_first(engine: Engine) -> None:
    engine.index(
        [
            make_doc(
                key="document:1",
                title="粤府办〔2026〕12号 粤府办〔2026〕12号 转发",
                body="粤府办〔2026〕12号 " * 5,
                date=BASE_DATE + timedelta(days=30),
            ),
            make_doc(key="document:2", title="关于防汛的通知", body="正文", doc_number="粤府办〔2026〕12号"),
            make_doc(key="document:3", title="关于防汛的通知", body="正文", doc_number="粤府办〔2026〕13号"),
        ]
    )
    for raw in ("粤府办〔2026〕12号", "粤府办[2026]12号", "粤府办（２０２６）１２号"):
        keys = _keys(engine, raw)
        assert keys[0] == "document:2"
        assert set(keys) == {"document:1", "document:2"}


def test_single_cjk_character_is_found_inside_words(engine: Engine) -> None:
    engine.index(
        [
            make_doc(key="document:1", title="甲", body="防汛防台风"),
            make_doc(key="document:2", title="乙", body="防汛"),
        ]
    )
    assert _keys(engine, "台") == ["document:1"]


@pytest.mark.parametrize(
    ("term", "text"),
    [
        ("台风", "做好防汛防台风工作"),
        ("大数据", "建设工业大数据平台"),
        ("乡村振兴", "推进全面乡村振兴战略"),
        ("据平台", "建设工业大数据平台"),
        ("12号", "第12号文件"),
    ],
)
def test_two_to_four_character_terms_are_found_inside_longer_words(
    engine: Engine, term: str, text: str
) -> None:
    engine.index(
        [
            make_doc(key="document:1", title="通知", body=text),
            make_doc(key="document:2", title="通知", body="无关"),
        ]
    )
    assert _keys(engine, term) == ["document:1"]


def test_no_principal_sees_nothing(engine: Engine) -> None:
    engine.index([make_doc(key="document:1", title="防汛通知")])
    results = engine.search(SearchQuery(parsed=parse("防汛"), principals={}))
    assert (results.hits, results.total) == ([], 0)
    assert all(values == [] for values in results.facets.values())
    assert engine.suggest("防汛", {}) == []
    assert engine.visible_keys({}) == set()


def test_other_principals_see_nothing_in_results_counts_facets_or_suggestions(engine: Engine) -> None:
    engine.index(
        [
            make_doc(
                key="document:1",
                title="防汛通知",
                principals={"doc-office:1"},
                agency_id=1,
                agency_name="甲厅",
            ),
            make_doc(key="document:2", title="防汛通知", principals={"u:1"}, agency_id=2, agency_name="乙厅"),
        ]
    )
    results = engine.search(SearchQuery(parsed=parse("防汛"), principals={"u:1": None, "doc-office:2": None}))
    assert [h.key for h in results.hits] == ["document:2"]
    assert results.total == 1
    assert [(v.value, v.count) for v in results.facets["agency"]] == [("2", 1)]
    assert [s.url for s in engine.suggest("防汛", {"u:1": None})] == ["/document/2/"]
    assert engine.visible_keys({"doc-office:1": None}) == {"document:1"}


def test_floor_shows_only_items_after_it(engine: Engine) -> None:
    engine.index(
        [
            make_doc(
                key=f"message:{seq}",
                kind="message",
                title="",
                body=f"防汛消息{seq}",
                principals={"conv:7"},
                acl_seq=seq,
            )
            for seq in (1, 2, 3)
        ]
    )
    assert sorted(_keys(engine, "防汛", {"conv:7": 1})) == ["message:2", "message:3"]
    assert _keys(engine, "防汛", {"conv:7": 3}) == []
    assert len(_keys(engine, "防汛", {"conv:7": None})) == 3
    assert engine.visible_keys({"conv:7": 2}, kind="message") == {"message:3"}
    # Another principal without a floor still shows what the floored one hides.
    engine.index(
        [
            make_doc(
                key="message:1",
                kind="message",
                title="",
                body="防汛消息1",
                principals={"conv:7", "u:1"},
                acl_seq=1,
            )
        ]
    )
    assert sorted(_keys(engine, "防汛", {"conv:7": 2, "u:1": None})) == ["message:1", "message:3"]


def _varied(engine: Engine) -> None:
    engine.index(
        [
            make_doc(
                key="document:1",
                title="防汛通知",
                agency_id=1,
                agency_name="甲厅",
                doc_type="notice",
                doc_type_label="通知",
                status="issued",
                status_label="已发布",
                date=BASE_DATE,
            ),
            make_doc(
                key="document:2",
                title="防汛请示",
                agency_id=2,
                agency_name="乙厅",
                doc_type="request",
                doc_type_label="请示",
                status="draft",
                status_label="草稿",
                date=BASE_DATE - timedelta(days=400),
            ),
            make_doc(
                key="meeting:3",
                kind="meeting",
                title="防汛会议",
                agency_id=1,
                agency_name="甲厅",
                date=BASE_DATE - timedelta(days=10),
            ),
            make_doc(
                key="message:4", kind="message", title="", body="防汛消息", date=BASE_DATE - timedelta(days=1)
            ),
            make_doc(
                key="document:5",
                title="防汛通知",
                agency_id=1,
                agency_name="甲厅",
                doc_type="notice",
                doc_type_label="通知",
                principals={"u:2"},
            ),
        ]
    )


def test_filters_narrow_by_kind_agency_doc_type_year_and_status(engine: Engine) -> None:
    _varied(engine)

    def keys(**filters: tuple[object, ...]) -> set[str]:
        return set(_keys(engine, "防汛", filters=Filters(**filters)))  # type: ignore[arg-type]

    assert keys(kinds=("meeting", "message")) == {"meeting:3", "message:4"}
    assert keys(agency_ids=(1,)) == {"document:1", "meeting:3"}
    assert keys(doc_types=("request",)) == {"document:2"}
    assert keys(years=(2025,)) == {"document:2"}
    assert keys(statuses=("issued",)) == {"document:1"}
    assert keys(kinds=("document",), years=(2026,)) == {"document:1"}


def test_facets_count_visible_matches_with_the_other_filters_but_not_their_own(engine: Engine) -> None:
    _varied(engine)
    results = engine.search(SearchQuery(parsed=parse("防汛"), principals=ME))
    assert results.total == 4
    # Largest count first; the order among equal counts is not part of the contract.
    for values in results.facets.values():
        assert [v.count for v in values] == sorted((v.count for v in values), reverse=True)
    facets = {
        name: sorted(((v.value, v.label, v.count) for v in values), key=lambda t: (-t[2], t[0]))
        for name, values in results.facets.items()
    }
    assert facets["kind"] == [("document", "公文", 2), ("meeting", "会议", 1), ("message", "消息", 1)]
    assert facets["agency"] == [("1", "甲厅", 2), ("2", "乙厅", 1)]
    assert facets["doc_type"] == [("notice", "通知", 1), ("request", "请示", 1)]
    assert facets["year"] == [("2026", "2026", 3), ("2025", "2025", 1)]
    assert not any(v.capped for values in results.facets.values() for v in values)

    narrowed = engine.search(
        SearchQuery(parsed=parse("防汛"), principals=ME, filters=Filters(kinds=("document",)))
    )
    assert narrowed.total == 2
    # The kind facet still offers the other kinds (drill-down); the others count documents only.
    assert sorted((v.value, v.count) for v in narrowed.facets["kind"]) == [
        ("document", 2),
        ("meeting", 1),
        ("message", 1),
    ]
    assert sorted((v.value, v.count) for v in narrowed.facets["year"]) == [("2025", 1), ("2026", 1)]


def test_sort_by_date_is_newest_first(engine: Engine) -> None:
    _varied(engine)
    assert _keys(engine, "防汛", sort="date") == ["document:1", "message:4", "meeting:3", "document:2"]


def test_relevance_prefers_the_newer_of_two_equal_matches(engine: Engine) -> None:
    engine.index(
        [
            make_doc(key="document:1", title="防汛通知", body="正文", date=BASE_DATE - timedelta(days=700)),
            make_doc(key="document:2", title="防汛通知", body="正文", date=BASE_DATE),
            make_doc(key="document:3", title="其他", body="另外的内容"),
        ]
    )
    assert _keys(engine, "防汛") == ["document:2", "document:1"]


def test_pages_split_the_results_and_too_deep_a_page_is_refused(engine: Engine) -> None:
    engine.index(
        [
            make_doc(key=f"document:{i}", title=f"防汛通知{i}", date=BASE_DATE - timedelta(days=i))
            for i in range(25)
        ]
    )
    first = engine.search(SearchQuery(parsed=parse("防汛"), principals=ME, sort="date", page=1, per_page=10))
    third = engine.search(SearchQuery(parsed=parse("防汛"), principals=ME, sort="date", page=3, per_page=10))
    assert [h.key for h in first.hits] == [f"document:{i}" for i in range(10)]
    assert [h.key for h in third.hits] == [f"document:{i}" for i in range(20, 25)]
    assert (first.total, third.total, third.page) == (25, 25, 3)
    for page in (0, MAX_PAGE + 1):
        with pytest.raises(QueryError) as exc:
            engine.search(SearchQuery(parsed=parse("防汛"), principals=ME, page=page))
        assert exc.value.message == "页码超出范围。"


def test_suggestions_are_visible_titles_containing_the_prefix_newest_first(engine: Engine) -> None:
    engine.index(
        [
            make_doc(key="document:1", title="防汛工作通知", date=BASE_DATE - timedelta(days=2)),
            make_doc(key="document:2", title="关于防汛的请示", date=BASE_DATE),
            make_doc(key="document:3", title="防汛绝密", principals={"u:9"}),
            make_doc(key="document:4", title="城市建设", body="防汛"),
        ]
    )
    suggestions = engine.suggest("防汛", ME)
    assert [s.title for s in suggestions] == ["关于防汛的请示", "防汛工作通知"]
    assert suggestions[0].kind == "document" and suggestions[0].url == "/document/2/"
    assert len(engine.suggest("防汛", ME, limit=1)) == 1


def test_hits_carry_escaped_marked_titles_and_snippets(engine: Engine) -> None:
    engine.index(
        [
            make_doc(
                key="document:1", title="<script>防汛</script>", body="<b>防汛</b> 工作", agency_name="甲厅"
            )
        ]
    )
    [hit] = engine.search(SearchQuery(parsed=parse("防汛"), principals=ME)).hits
    assert hit.title_html == "&lt;script&gt;<mark>防汛</mark>&lt;/script&gt;"
    assert hit.snippet_html == "&lt;b&gt;<mark>防汛</mark>&lt;/b&gt; 工作"
    assert (hit.url, hit.date, hit.agency_name) == ("/document/1/", BASE_DATE, "甲厅")


@pytest.mark.parametrize(
    "raw", ['"', "* 防汛", "NEAR(防汛", "防汛 AND", "tu: 防汛", "^防汛", "防汛 OR -x", '"防汛" NOT']
)
def test_search_syntax_typed_by_a_user_is_only_text(engine: Engine, raw: str) -> None:
    engine.index([make_doc(key="document:1", title="防汛通知")])
    try:
        parsed = parse(raw)
    except QueryError:
        return  # refused with a message is fine; a server error is not
    engine.search(SearchQuery(parsed=parsed, principals=ME))


def test_delete_removes_and_is_idempotent(engine: Engine) -> None:
    engine.index([make_doc(key="document:1"), make_doc(key="document:2")])
    assert engine.delete(["document:1", "document:99"]) == 1
    assert engine.delete(["document:1"]) == 0
    assert _keys(engine, "防汛") == ["document:2"]
    assert engine.count() == 1


def test_reindexing_a_key_replaces_it_and_twice_changes_nothing(engine: Engine) -> None:
    engine.index([make_doc(key="document:1", title="台风通知", principals={"u:1"})])
    changed = make_doc(key="document:1", title="暴雨通知", principals={"u:2"})
    engine.index([changed])
    engine.index([changed])
    assert engine.count() == 1
    assert _keys(engine, "台风", {"u:1": None, "u:2": None}) == []
    assert _keys(engine, "暴雨", {"u:1": None}) == []
    assert _keys(engine, "暴雨", {"u:2": None}) == ["document:1"]


def test_rebuild_replaces_everything_and_search_answers_from_the_new_generation(engine: Engine) -> None:
    engine.index([make_doc(key="document:1", title="旧的防汛通知")])
    assert _keys(engine, "防汛") == ["document:1"]
    n = engine.rebuild(
        iter(
            [
                make_doc(key="document:2", title="新的防汛通知"),
                make_doc(key="document:3", title="其他", body="无关"),
            ]
        ),
        total=2,
    )
    assert n == 2
    assert _keys(engine, "防汛") == ["document:2"]
    assert engine.count() == 2


def test_clear_drops_everything_and_check_reports_the_engine(engine: Engine) -> None:
    engine.index([make_doc(key="document:1")])
    facts = engine.check()
    assert facts["engine"] == engine.name and facts["documents"] == 1
    engine.clear()
    assert engine.count() == 0
    assert _keys(engine, "防汛") == []
