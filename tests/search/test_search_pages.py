"""The results page and the shell's suggestions: highlights, facets that narrow, the query kept, every
bad input answered in Chinese with a 200, an engine that is down answered with a 503 while the rest
of the site works, and nothing for who may not see."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.urls import reverse

from search import services
from search.engines import get_engine
from search.interface import MAX_PAGE, MAX_QUERY_CHARS, IndexDoc, SearchUnavailable
from search.views import UNAVAILABLE_MESSAGE

pytestmark = pytest.mark.django_db


def doc(
    key: str, kind: str, title: str, body: str, principals: set[str], year: int = 2026, **extra: Any
) -> IndexDoc:
    return IndexDoc(
        key=key,
        kind=kind,
        title=title,
        body=body,
        principals=frozenset(principals),
        url=f"/items/{key.replace(':', '/')}/",
        date=datetime(year, 5, 1, 9, tzinfo=UTC),
        **extra,
    )


@pytest.fixture
def indexed(cast: Any) -> list[IndexDoc]:
    """Three items the drafter may see (a document, a meeting, an older document) and one only the
    outsider may see, all containing 防汛."""
    me = f"u:{cast.drafter.pk}"
    docs = [
        doc(
            "document:1",
            "document",
            "关于做好防汛工作的通知",
            "各地要落实防汛责任。",
            {me},
            agency_id=cast.gov_office.pk,
            agency_name="省政府办公厅",
            doc_number="粤府办〔2026〕12号",
            doc_type="notice",
            doc_type_label="通知",
        ),
        doc(
            "meeting:2", "meeting", "防汛抗旱工作视频调度会", "会议研究防汛。", {me}, subtitle="5月1日 09:00"
        ),
        doc(
            "document:3",
            "document",
            "去年的防汛总结",
            "总结防汛经验。",
            {me},
            year=2025,
            agency_id=cast.gov_office.pk,
            agency_name="省政府办公厅",
        ),
        doc("document:4", "document", "教育厅防汛秘密文件", "防汛。", {f"u:{cast.outsider.pk}"}),
    ]
    get_engine().index(docs)
    return docs


def page(client: Any, **params: Any) -> Any:
    return client.get(reverse("search:results"), params)


def test_results_show_highlighted_hits_facets_and_keep_the_query(
    sign_in: Any, cast: Any, indexed: Any
) -> None:
    client = sign_in(cast.drafter)
    response = page(client, q="防汛")
    assert response.status_code == 200
    html = response.content.decode()
    assert {h.key for h in response.context["results"].hits} == {"document:1", "meeting:2", "document:3"}
    assert "<mark>防汛</mark>" in html
    assert 'value="防汛"' in html
    assert "粤府办〔2026〕12号" in html and "省政府办公厅" in html and "5月1日 09:00" in html
    assert "教育厅防汛秘密文件" not in html
    facets = {g.heading: {link.label: link.count for link in g.links} for g in response.context["facets"]}
    assert facets["类型"] == {"公文": "2", "会议": "1"}
    assert facets["年份"] == {"2026": "2", "2025": "1"}
    assert "共 <strong>3</strong> 条结果" in html


def test_a_facet_link_narrows_and_its_chip_removes_the_filter(sign_in: Any, cast: Any, indexed: Any) -> None:
    client = sign_in(cast.drafter)
    first = page(client, q="防汛")
    kind = next(g for g in first.context["facets"] if g.heading == "类型")
    meeting_link = next(link for link in kind.links if link.label == "会议")

    narrowed = client.get(reverse("search:results") + meeting_link.url)
    assert [h.key for h in narrowed.context["results"].hits] == ["meeting:2"]
    html = narrowed.content.decode()
    assert 'name="kind" value="meeting"' in html  # a new query in the box keeps the filter
    chip = narrowed.context["filters"][0]
    assert (chip.heading, chip.label) == ("类型", "会议")

    widened = client.get(reverse("search:results") + chip.remove_url)
    assert widened.context["results"].total == 3


def test_sort_by_date_puts_the_newest_first(sign_in: Any, cast: Any, indexed: Any) -> None:
    client = sign_in(cast.drafter)
    response = page(client, q="防汛", sort="date")
    hits = response.context["results"].hits
    assert hits[-1].key == "document:3"
    assert [s.label for s in response.context["sorts"] if s.active] == ["时间"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": ""}, "请输入要搜索的内容。"),
        ({"q": "   "}, "请输入要搜索的内容。"),
        ({"q": "，。！？……"}, "搜索内容只有标点符号，请输入文字或数字。"),
        ({"q": "防" * (MAX_QUERY_CHARS + 1)}, f"搜索内容太长（最多 {MAX_QUERY_CHARS} 个字）。"),
        ({"q": "-防汛"}, "请至少输入一个要查找的词（不能只有排除词）。"),
        ({"q": "防汛", "kind": "xyz"}, "筛选条件无效。"),
        ({"q": "防汛", "year": "abc"}, "筛选条件无效。"),
        ({"q": "防汛", "agency": "１２"}, "筛选条件无效。"),
        ({"q": "防汛", "page": "9999"}, f"最多显示前 {MAX_PAGE} 页"),
        ({"q": "防汛", "page": "abc"}, f"最多显示前 {MAX_PAGE} 页"),
        ({"q": "防汛", "page": "0"}, f"最多显示前 {MAX_PAGE} 页"),
    ],
)
def test_bad_input_is_answered_in_chinese_above_the_box_with_the_text_kept(
    sign_in: Any, cast: Any, params: dict[str, str], message: str
) -> None:
    response = page(sign_in(cast.drafter), **params)
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert 'class="sr-error"' in html
    assert f'value="{params["q"][: MAX_QUERY_CHARS * 2]}"' in html


def test_the_bare_page_is_a_box_without_an_error(sign_in: Any, cast: Any) -> None:
    response = page(sign_in(cast.drafter))
    assert response.status_code == 200
    assert "sr-error" not in response.content.decode()


class DownEngine:
    name = "down"

    def search(self, query: Any) -> Any:
        raise SearchUnavailable("连接被拒绝")

    def suggest(self, *args: Any, **kwargs: Any) -> Any:
        raise SearchUnavailable("连接被拒绝")


def test_an_engine_that_is_down_gives_503_with_a_message_and_the_site_still_works(
    sign_in: Any, cast: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "get_engine", lambda: DownEngine())
    client = sign_in(cast.drafter)
    response = page(client, q="防汛")
    assert response.status_code == 503
    assert UNAVAILABLE_MESSAGE in response.content.decode()
    assert 'value="防汛"' in response.content.decode()
    suggest = client.get(reverse("search:suggest"), {"q": "防汛"})
    assert suggest.status_code == 200 and suggest.json() == {"suggestions": []}
    assert client.get(reverse("workbench:home")).status_code == 200


def test_suggestions_are_titles_the_user_may_open(sign_in: Any, cast: Any, indexed: Any) -> None:
    mine = sign_in(cast.drafter).get(reverse("search:suggest"), {"q": "防汛"}).json()["suggestions"]
    assert {s["title"] for s in mine} == {
        "关于做好防汛工作的通知",
        "防汛抗旱工作视频调度会",
        "去年的防汛总结",
    }
    first = next(s for s in mine if s["title"] == "关于做好防汛工作的通知")
    assert first == {
        "title": "关于做好防汛工作的通知",
        "url": "/items/document/1/",
        "kind": "document",
        "kind_label": "公文",
    }


def test_suggestions_for_another_user_hold_only_hers(
    client: Any, sign_in: Any, cast: Any, indexed: Any
) -> None:
    theirs = sign_in(cast.outsider).get(reverse("search:suggest"), {"q": "防汛"}).json()["suggestions"]
    assert [s["title"] for s in theirs] == ["教育厅防汛秘密文件"]


@pytest.mark.parametrize("q", ["", "防", "！！", "-", "\x00\x00", "防" * 51])
def test_short_or_unusable_suggestion_input_gives_an_empty_list(
    sign_in: Any, cast: Any, indexed: Any, q: str
) -> None:
    response = sign_in(cast.drafter).get(reverse("search:suggest"), {"q": q})
    assert response.status_code == 200 and response.json() == {"suggestions": []}


def test_suggestions_are_at_most_eight(sign_in: Any, cast: Any) -> None:
    get_engine().index(
        [
            doc(f"document:{i}", "document", f"防汛通知第{i}号", "", {f"u:{cast.drafter.pk}"})
            for i in range(20)
        ]
    )
    found = sign_in(cast.drafter).get(reverse("search:suggest"), {"q": "防汛"}).json()["suggestions"]
    assert len(found) == 8


def test_search_needs_a_signed_in_user(client: Any, db: Any) -> None:
    for name in ("search:results", "search:suggest"):
        response = client.get(reverse(name), {"q": "防汛"})
        assert response.status_code == 302 and "/accounts/" in response["Location"], name


def test_the_shell_has_the_search_box_on_every_page(sign_in: Any, cast: Any) -> None:
    html = sign_in(cast.drafter).get(reverse("workbench:home")).content.decode()
    assert "data-shell-search" in html
    assert f'action="{reverse("search:results")}"' in html
    assert f'data-suggest-url="{reverse("search:suggest")}"' in html
    assert "search/search.js" in html


def test_a_name_finds_people_in_the_address_book(sign_in: Any, cast: Any, indexed: Any) -> None:
    response = page(sign_in(cast.drafter), q="陈志强")
    assert response.status_code == 200
    assert [p.real_name for p in response.context["people"]] == ["陈志强"]
    assert "找人" in response.content.decode()


def test_a_long_query_or_a_filter_asks_no_address_book(sign_in: Any, cast: Any, indexed: Any) -> None:
    client = sign_in(cast.drafter)
    assert page(client, q="陈志强 防汛").context["people"] == []
    assert page(client, q="陈志强", kind="document").context["people"] == []


def test_the_audit_admin_may_search_and_finds_nothing(sign_in_verified: Any, cast: Any, indexed: Any) -> None:
    client = sign_in_verified(cast.audit_admin)
    response = page(client, q="防汛")
    assert response.status_code == 200
    assert response.context["results"].total == 0
    assert response.context["people"] == []  # the 审计管理员 does not use the 通讯录


def test_principals_merge_every_apps_own(cast: Any) -> None:
    from chat import access as chat_access
    from documents import access as documents_access
    from meetings import access as meetings_access
    from search.principals import principals_of
    from workflows import access as workflows_access

    merged = principals_of(cast.clerk)
    for module in (documents_access, workflows_access, meetings_access, chat_access):
        for principal, floor in module.search_principals_of(cast.clerk).items():
            assert principal in merged
            assert merged[principal] is None or (floor is not None and merged[principal] <= floor)
    assert f"u:{cast.clerk.pk}" in merged
    assert principals_of(None) == {}


def test_counts_above_the_cap_read_10000_plus() -> None:
    from search.pages import count_label

    assert count_label(9_999) == "9,999"
    assert count_label(10_000) == "10,000"
    assert count_label(10_000, capped=True) == "10,000+"
    assert count_label(123_456) == "10,000+"


def test_the_pager_links_keep_the_query_and_filters(sign_in: Any, cast: Any) -> None:
    get_engine().index(
        [
            doc(f"document:{i}", "document", f"防汛简报第{i}期", "防汛", {f"u:{cast.drafter.pk}"})
            for i in range(45)
        ]
    )
    response = page(sign_in(cast.drafter), q="防汛", kind="document", page="2")
    pager = response.context["pager"]
    assert (pager.number, pager.pages) == (2, 3)
    assert "kind=document" in pager.next_url and "page=3" in pager.next_url and "q=" in pager.next_url
    assert len(response.context["results"].hits) == 20
