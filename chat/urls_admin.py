"""Chat pages of retention (安全管理员) and export; joined into chat/urls.py."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
