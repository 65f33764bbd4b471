"""What the results page shows besides the hits: facet links that narrow and widen, the sort toggle,
the pager, and the 通讯录's people for a query that looks like a name."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.http import QueryDict

from officeapp.org.access import can_read_directory
from officeapp.org.directory import DirectoryEntry, search_people
from search.interface import COUNT_CAP, KINDS, MAX_PAGE, FacetValue, ParsedQuery, Results

# Facets in the order the page shows them: (facet name in Results.facets, filter parameter, heading).
FACETS: tuple[tuple[str, str, str], ...] = (
    ("kind", "kind", "类型"),
    ("agency", "agency", "机关"),
    ("doc_type", "doc_type", "文种"),
    ("year", "year", "年份"),
)
FILTER_PARAMS = ("kind", "agency", "doc_type", "year", "status")
FILTER_HEADINGS = {"kind": "类型", "agency": "机关", "doc_type": "文种", "year": "年份", "status": "状态"}
PEOPLE_LIMIT = 5
# A name: two to four Chinese characters (林小梅, 欧阳建国), or a pinyin-ish word (linxiaomei, lxm).
NAME = re.compile(r"^(?:[\u4e00-\u9fff]{2,4}|[A-Za-z]{2,20})$")


def count_label(count: int, capped: bool = False) -> str:
    if capped or count > COUNT_CAP:
        return f"{COUNT_CAP:,}+"
    return f"{count:,}"


def _url(params: QueryDict) -> str:
    return "?" + params.urlencode()


def _without_page(querydict: QueryDict) -> QueryDict:
    params = querydict.copy()
    params.pop("page", None)
    return params


@dataclass(frozen=True)
class FacetLink:
    label: str
    count: str
    url: str
    active: bool


@dataclass(frozen=True)
class FacetGroup:
    heading: str
    links: list[FacetLink]


@dataclass(frozen=True)
class ActiveFilter:
    heading: str
    label: str
    remove_url: str


def facet_groups(querydict: QueryDict, results: Results) -> list[FacetGroup]:
    """Each value links to the same search narrowed to it (one value per facet: a click on another
    value of the same facet switches to it); the active one links to its removal."""
    groups = []
    for name, param, heading in FACETS:
        values: list[FacetValue] = results.facets.get(name) or []
        chosen = querydict.getlist(param)
        links = []
        for value in values:
            params = _without_page(querydict)
            active = value.value in chosen
            if active:
                params.setlist(param, [v for v in chosen if v != value.value])
            else:
                params.setlist(param, [value.value])
            label = value.label or KINDS.get(value.value, value.value)
            links.append(FacetLink(label, count_label(value.count, value.capped), _url(params), active))
        if links:
            groups.append(FacetGroup(heading, links))
    return groups


def active_filters(querydict: QueryDict, results: Results | None) -> list[ActiveFilter]:
    labels: dict[tuple[str, str], str] = {}
    if results is not None:
        for name, values in results.facets.items():
            for value in values:
                labels[(name, value.value)] = value.label
    found = []
    for param in FILTER_PARAMS:
        chosen = querydict.getlist(param)
        for value in chosen:
            params = _without_page(querydict)
            params.setlist(param, [v for v in chosen if v != value])
            label = labels.get((param, value)) or (KINDS.get(value, value) if param == "kind" else value)
            found.append(ActiveFilter(FILTER_HEADINGS[param], label, _url(params)))
    return found


def kept_params(querydict: QueryDict) -> list[tuple[str, str]]:
    return [(name, value) for name in (*FILTER_PARAMS, "sort") for value in querydict.getlist(name)]


def sort_links(querydict: QueryDict) -> list[FacetLink]:
    current = querydict.get("sort") or "relevance"
    links = []
    for value, label in (("relevance", "相关度"), ("date", "时间")):
        params = _without_page(querydict)
        if value == "relevance":
            params.pop("sort", None)
        else:
            params["sort"] = value
        links.append(FacetLink(label, "", _url(params), current == value))
    return links


@dataclass(frozen=True)
class Pager:
    number: int
    pages: int
    previous_url: str
    next_url: str


def pager(querydict: QueryDict, results: Results) -> Pager | None:
    pages = min(max((results.total + results.per_page - 1) // results.per_page, 1), MAX_PAGE)
    if pages <= 1 and results.page <= 1:
        return None

    def at(n: int) -> str:
        params = querydict.copy()
        params["page"] = str(n)
        return _url(params)

    number = results.page
    return Pager(
        number=number,
        pages=pages,
        previous_url=at(number - 1) if number > 1 else "",
        next_url=at(number + 1) if number < pages else "",
    )


def people_for(user: Any, parsed: ParsedQuery | None, querydict: QueryDict) -> list[DirectoryEntry]:
    """The 通讯录's people for a one-word query that looks like a name, on the unfiltered first page."""
    if parsed is None or not can_read_directory(user):
        return []
    if parsed.phrases or parsed.excluded or parsed.doc_number or len(parsed.terms) != 1:
        return []
    if any(querydict.getlist(p) for p in FILTER_PARAMS) or querydict.get("page", "1") not in ("", "1"):
        return []
    term = parsed.terms[0]
    if not NAME.match(term):
        return []
    return search_people(user, term, limit=PEOPLE_LIMIT)
