"""The OpenAPI description itself: valid OpenAPI 3 without generator warnings, complete (every
/api/v1 endpoint is in it), honest about authorization (each operation names the oauth2 scopes its
view requires), and readable offline (/api/docs/ and /api/redoc/ load only our own static files)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

METHODS = ("get", "post", "put", "patch", "delete")


def _schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def _api_views(patterns: list[URLPattern | URLResolver] | None = None, prefix: str = "") -> dict[str, type]:
    """Every DRF view under /api/v1/, by its path in OpenAPI form ({name} for <conv:name>)."""
    found: dict[str, type] = {}
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if route.startswith("api/v1/") or "api/v1/".startswith(route):
                found.update(_api_views(entry.url_patterns, route))
            continue
        view = getattr(entry.callback, "cls", None)  # DRF's as_view() keeps the class
        if route.startswith("api/v1/") and view is not None:
            found["/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)] = view
    return found


def test_the_schema_is_valid_openapi_3_and_generates_without_warnings(tmp_path: Path) -> None:
    GENERATOR_STATS.reset()
    target = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    assert target.read_text(encoding="utf-8").startswith("openapi: 3.")


def test_the_schema_validates_against_the_openapi_3_json_schema() -> None:
    schema = _schema()

    validate_schema(schema)  # raises on any violation

    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == settings.SPECTACULAR_SETTINGS["TITLE"]


def test_every_api_v1_endpoint_is_in_the_schema() -> None:
    views = _api_views()
    paths = _schema()["paths"]

    assert "/api/v1/me" in views and "/api/v1/documents/" in views  # the walk finds the API
    missing = sorted(path for path in views if path not in paths)
    assert missing == []
    # and nothing in the schema that is not a URL of ours
    assert sorted(path for path in paths if path not in views) == []


def test_each_operation_requires_oauth2_with_the_scopes_its_view_checks() -> None:
    views = _api_views()
    schema = _schema()
    assert "oauth2" in schema["components"]["securitySchemes"]
    declared_scopes = set(
        schema["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]["scopes"]
    )
    wrong = []
    for path, operations in schema["paths"].items():
        required = sorted(getattr(views[path], "required_scopes", ()))
        assert set(required) <= declared_scopes, (path, required)
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            if operation.get("security") != [{"oauth2": required}]:
                wrong.append(
                    f"{method.upper()} {path}: {operation.get('security')}，应为 {[{'oauth2': required}]}"
                )
    assert wrong == []


def test_every_component_name_is_defined_once() -> None:
    # drf-spectacular warns and keeps one of two serializers of the same name: the other endpoint's
    # schema would then describe the wrong object.
    GENERATOR_STATS.reset()
    _schema()

    assert not GENERATOR_STATS._warn_cache, sorted(GENERATOR_STATS._warn_cache)


@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_the_documentation_pages_render_with_assets_served_by_us(client: Any, url: str) -> None:
    response = client.get(url)

    assert response.status_code == 200
    html = response.content.decode()
    assert "/api/schema/" in html
    # No CDN (the platform runs on a government intranet): no absolute URL anywhere in the page.
    assert re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}[^\s\"'<>]*", html) == []
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert any(a.endswith(".js") for a in assets)
    for asset in assets:
        assert asset.startswith(settings.STATIC_URL), asset
        assert finders.find(asset.removeprefix(settings.STATIC_URL)), f"{asset} 不在静态文件中"
