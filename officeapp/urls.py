"""Composition root: the one place in officeapp allowed to know the apps above it."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from officeapp.health.views import healthz

urlpatterns = [
    path("", include("officeapp.workbench.urls")),
    path("accounts/", include("officeapp.accounts.urls")),
    path("org/", include("officeapp.org.urls")),
    path("audit/", include("officeapp.audit.urls")),
    path("notifications/", include("officeapp.notify.urls")),
    path("files/", include("officeapp.blobs.urls")),
    path("calendar/", include("officeapp.calendar.urls")),
    path("documents/", include("documents.urls")),
    path("workflows/", include("workflows.urls")),
    path("chat/", include("chat.urls")),
    path("meetings/", include("meetings.urls")),
    path("search/", include("search.urls")),
    path("healthz", healthz, name="healthz"),
    path("", include("officeapp.integration.urls")),
]

# Django's admin answers to is_staff, which sits beside our 三员 and grants; in production the
# org is maintained in our own audited pages, so the admin exists only for a developer in DEBUG.
if settings.DEBUG:
    urlpatterns.append(path("django-admin/", admin.site.urls))

handler404 = "officeapp.integration.api.not_found"
