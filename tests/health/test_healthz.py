"""/healthz: a JSON line per component, 200 when all answer, 503 when any fails or hangs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from officeapp.registries import health_checks

pytestmark = pytest.mark.django_db


@pytest.fixture
def own_checks() -> Iterator[None]:
    """Only the checks this app and the blob store register (the channel layer and worker checks
    have their own tests), restored afterwards."""
    saved = dict(health_checks._items)
    for name in list(saved):
        if name not in ("database", "blob_store"):
            health_checks.unregister(name)
    try:
        yield
    finally:
        health_checks._items.clear()
        health_checks._items.update(saved)


@pytest.fixture
def local_blobs(settings: Any, tmp_path: Any) -> None:
    settings.S3_ENDPOINT = ""
    settings.BLOB_DIR = tmp_path / "blobs"


def test_healthz_is_200_with_each_component_when_all_ok(
    own_checks: None, local_blobs: None, client: Any
) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["components"]) == {"database", "blob_store"}
    for component in body["components"].values():
        assert component["ok"] is True
        assert isinstance(component["ms"], float)
    assert "no-cache" in response["Cache-Control"]


def test_database_and_blob_store_are_registered() -> None:
    assert "database" in health_checks and "blob_store" in health_checks


@pytest.mark.s3
def test_healthz_is_200_against_a_running_seaweedfs(own_checks: None, s3_settings: Any, client: Any) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["components"]["blob_store"]["ok"] is True


@pytest.mark.s3
def test_healthz_is_503_after_seaweedfs_stops(own_checks: None, seaweedfs_outage: Any, client: Any) -> None:
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["components"]["database"]["ok"] is True
    blob_store = body["components"]["blob_store"]
    assert blob_store["ok"] is False
    assert blob_store["error"] == "BlobStoreUnavailable"
    # No sign-in is needed, so nothing about the installation leaks: no keys, no endpoint.
    text = response.content.decode()
    assert seaweedfs_outage.secret_key not in text
    assert seaweedfs_outage.access_key not in text
    assert str(seaweedfs_outage.ports["s3"]) not in text


def test_failing_check_reports_its_error_class_not_its_message(
    own_checks: None, local_blobs: None, client: Any
) -> None:
    def leaky() -> None:
        raise RuntimeError("password=hunter2 host=10.0.0.7")

    health_checks.register("leaky", leaky)
    response = client.get("/healthz")
    assert response.status_code == 503
    leaky_result = response.json()["components"]["leaky"]
    assert (leaky_result["ok"], leaky_result["error"]) == (False, "RuntimeError")
    assert "hunter2" not in response.content.decode()


def test_hung_check_is_cut_off_and_reported(
    own_checks: None, local_blobs: None, settings: Any, client: Any
) -> None:
    settings.HEALTH_CHECK_TIMEOUT_SECONDS = 0.3

    def hung() -> None:
        time.sleep(2)

    health_checks.register("hung", hung)
    response = client.get("/healthz")
    assert response.status_code == 503
    components = response.json()["components"]
    assert components["hung"]["ok"] is False
    assert components["hung"]["error"] == "timeout"
    assert components["database"]["ok"] is True


def test_healthz_needs_no_sign_in_and_only_answers_get(
    own_checks: None, local_blobs: None, client: Any
) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


def test_a_checks_figures_are_shown_but_never_its_paths_hosts_or_messages(
    own_checks: None, local_blobs: None, client: Any
) -> None:
    # given a check that returns a lag figure beside a path, a host and a long message
    def lagging() -> dict[str, Any]:
        return {
            "lag_seconds": 2.5,
            "engine": "embedded",
            "per_consumer": {"search": 2.5, "webhooks": 0.0, "where": "/var/lib/officeapp"},
            "path": "/srv/officeapp/var/search/index.sqlite3",
            "url": "http://es.internal:9200",
            "note": "x" * 100,
        }

    health_checks.register("lagging", lagging)

    # when
    body = client.get("/healthz").json()

    # then only figures and short codes reach the open endpoint
    assert body["components"]["lagging"]["details"] == {
        "lag_seconds": 2.5,
        "engine": "embedded",
        "per_consumer": {"search": 2.5, "webhooks": 0.0},
    }
    assert "details" not in body["components"]["database"]
