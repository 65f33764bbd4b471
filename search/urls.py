"""Search URLs (namespace "search", mounted at /search/)."""

from __future__ import annotations

from django.urls import URLPattern, path

from search import views

app_name = "search"

urlpatterns: list[URLPattern] = [
    path("", views.results, name="results"),
    path("suggest/", views.suggest, name="suggest"),
]
