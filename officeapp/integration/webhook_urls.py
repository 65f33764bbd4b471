"""Filled in by issue 10's work (see /tmp/i10/contracts.md)."""

from __future__ import annotations

from django.urls import URLPattern

app_name = "webhooks"
urlpatterns: list[URLPattern] = []
