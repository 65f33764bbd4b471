"""/healthz: one JSON line per registered component, 503 when any fails.

Every check runs in its own thread with a deadline, so one hung component (a store that accepts the
connection and never answers) cannot hang the probe. No sign-in is needed, so the output holds only
component names, timings and the class of error — never hosts, keys or messages from the outside.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from officeapp.registries import health_checks

DEFAULT_TIMEOUT_SECONDS = 3.0


# What a check may add to its line: figures and short codes. Anything else it returns (a path, a
# host, a message) is dropped, since /healthz is open to anyone who can reach it.
MAX_DETAIL_CHARS = 32


def _safe_value(value: Any, *, depth: int = 0) -> Any:
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, str) and len(value) <= MAX_DETAIL_CHARS and not any(c in value for c in "/:@\\"):
        return value
    if isinstance(value, dict) and depth == 0:
        kept = {str(k): _safe_value(v, depth=1) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v is not None}
    return None


def details_of(returned: Any) -> dict[str, Any]:
    """The part of a check's return value /healthz may show (the search index's lag, the outbox's
    per-consumer lags)."""
    if not isinstance(returned, dict):
        return {}
    kept = {str(k): _safe_value(v) for k, v in returned.items()}
    return {k: v for k, v in kept.items() if v is not None}


def _run(check: Callable[[], Any]) -> tuple[float, dict[str, Any]]:
    started = time.monotonic()
    try:
        returned = check()
    finally:
        # The check ran in a pool thread: give back the database connection it may have opened.
        connections.close_all()
    return (time.monotonic() - started) * 1000, details_of(returned)


def run_checks() -> dict[str, dict[str, Any]]:
    timeout = float(getattr(settings, "HEALTH_CHECK_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS))
    checks = list(health_checks.items())
    results: dict[str, dict[str, Any]] = {}
    executor = ThreadPoolExecutor(max_workers=max(len(checks), 1), thread_name_prefix="healthz")
    started = time.monotonic()
    futures = {name: executor.submit(_run, check) for name, check in checks}
    try:
        for name, future in futures.items():
            # One deadline for the whole probe: checks run in parallel, each bounded by what is left.
            remaining = max(timeout - (time.monotonic() - started), 0.0)
            try:
                ms, details = future.result(timeout=remaining)
            except FutureTimeout:
                results[name] = {"ok": False, "ms": round(timeout * 1000, 1), "error": "timeout"}
            except Exception as exc:  # noqa: BLE001 - any failure is reported, none may escape
                results[name] = {
                    "ok": False,
                    "ms": round((time.monotonic() - started) * 1000, 1),
                    "error": type(exc).__name__,
                }
            else:
                results[name] = {"ok": True, "ms": round(ms, 1)}
                if details:
                    results[name]["details"] = details
    finally:
        # Do not wait for a hung check; its thread ends when its own client timeout fires.
        executor.shutdown(wait=False, cancel_futures=True)
    return results


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    components = run_checks()
    ok = all(c["ok"] for c in components.values())
    return JsonResponse(
        {"status": "ok" if ok else "fail", "components": components},
        status=200 if ok else 503,
        json_dumps_params={"ensure_ascii": False},
    )
