"""Chat pages of retention (安全管理员) and export; joined into chat/urls.py."""

from __future__ import annotations

from django.urls import URLPattern, path

from chat import views_admin

urlpatterns: list[URLPattern] = [
    path("retention/", views_admin.retention_page, name="retention"),
    path("c/<int:conversation_id>/export/", views_admin.export_page, name="export"),
]
