"""应用管理 pages under /integration/ (namespace "integration"): officeapp.integration.views."""

from __future__ import annotations

from django.urls import path

from officeapp.integration import views

app_name = "integration"
urlpatterns = [
    path("", views.app_list, name="apps"),
    path("new/", views.app_new, name="new"),
    path("<int:app_id>/", views.app_detail, name="detail"),
    path("<int:app_id>/edit/", views.app_edit, name="edit"),
    path("<int:app_id>/rotate/", views.app_rotate, name="rotate"),
    path("<int:app_id>/suspend/", views.app_suspend, name="suspend"),
    path("<int:app_id>/resume/", views.app_resume, name="resume"),
    path("<int:app_id>/calls/", views.app_calls, name="calls"),
]
