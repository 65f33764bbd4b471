"""Composition root: the one place in officeapp allowed to know the apps above it."""

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
    path("healthz", healthz, name="healthz"),
    path("django-admin/", admin.site.urls),
]
