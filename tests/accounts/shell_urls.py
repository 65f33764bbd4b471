"""The project's URLs plus stand-ins for workbench:home and workbench:profile, used only while the
workbench app does not yet define them (see conftest._shell_pages)."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from officeapp.urls import urlpatterns as project_patterns


def _page(request: HttpRequest) -> HttpResponse:
    return HttpResponse("工作台")


workbench_patterns = ([path("", _page, name="home"), path("profile/", _page, name="profile")], "workbench")
urlpatterns = [path("", include(workbench_patterns))] + [
    p for p in project_patterns if getattr(p, "namespace", None) != "workbench"
]
