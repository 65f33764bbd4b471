"""The results page and the shell's suggestions. Thin: search.services searches, search.pages shapes."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from search import pages, services
from search.interface import KINDS, MAX_QUERY_CHARS, ParsedQuery, QueryError, SearchUnavailable
from search.query import parse

UNAVAILABLE_MESSAGE = "搜索服务暂时不可用，请稍后再试。"


@login_required
@require_GET
def results(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q")
    context: dict[str, object] = {
        "q": (query or "")[: MAX_QUERY_CHARS * 2],  # kept in the box, even when refused
        "page_title": "搜索",
        "kinds": KINDS,
        "filters": pages.active_filters(request.GET, None),
        # A new query in the page's box keeps the filters and the sort, and starts at page 1.
        "kept": pages.kept_params(request.GET),
    }
    if query is None and not request.GET:
        return render(request, "search/results.html", context)  # the bare page: a box to type into
    try:
        found = services.run_search(request.user, query or "", request.GET)
    except QueryError as exc:
        context["error"] = exc.message
        return render(request, "search/results.html", context)
    except SearchUnavailable:
        context["error"] = UNAVAILABLE_MESSAGE
        context["unavailable"] = True
        return render(request, "search/results.html", context, status=503)
    parsed: ParsedQuery = parse(query or "")
    context.update(
        {
            "page_title": f"搜索：{query}",
            "results": found,
            "total": pages.count_label(found.total, found.total_capped),
            "facets": pages.facet_groups(request.GET, found),
            "filters": pages.active_filters(request.GET, found),
            "sorts": pages.sort_links(request.GET),
            "pager": pages.pager(request.GET, found),
            "people": pages.people_for(request.user, parsed, request.GET),
        }
    )
    return render(request, "search/results.html", context)


@login_required
@require_GET
def suggest(request: HttpRequest) -> JsonResponse:
    """{"suggestions": [{"title", "url", "kind", "kind_label"}]}, at most 8; an empty list for short
    or unusable input and while the engine is down (the box is a convenience, never an error)."""
    try:
        found = services.suggestions(request.user, request.GET.get("q", ""))
    except SearchUnavailable:
        found = []
    return JsonResponse(
        {
            "suggestions": [
                {"title": s.title, "url": s.url, "kind": s.kind, "kind_label": KINDS.get(s.kind, "")}
                for s in found
            ]
        },
        json_dumps_params={"ensure_ascii": False},
    )
