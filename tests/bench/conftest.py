"""Shared benchmark helpers.

`scale_db`: a PostgreSQL database filled by `manage.py generate_scale` (650,000 users, 20,000
agencies; a user with 10³ tasks and one with 10⁶), built the first time and reused by later runs
(it is never dropped: generating it takes minutes). It lives next to the test database under the
name "<DATABASE_URL's name>_bench" (BENCH_DATABASE_NAME overrides). Benchmarks at scale are
PostgreSQL-only: on SQLite they are skipped with the reason. Sizes can be lowered for a quick try
with BENCH_USERS, BENCH_AGENCIES, BENCH_TASKS_SMALL, BENCH_TASKS_LARGE (the figures in
docs/benchmarks.md use the defaults).

`percentiles` and `print_table`: the same figures in the same shape for every benchmark.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

SCALE_USERS = int(os.environ.get("BENCH_USERS", "650000"))
SCALE_AGENCIES = int(os.environ.get("BENCH_AGENCIES", "20000"))
TASKS_SMALL = int(os.environ.get("BENCH_TASKS_SMALL", "1000"))
TASKS_LARGE = int(os.environ.get("BENCH_TASKS_LARGE", "1000000"))
SMALL_OWNER = "bench.tasks.small"
LARGE_OWNER = "bench.tasks.large"


@dataclass(frozen=True)
class ScaleDb:
    name: str
    users: int
    small_owner: str
    large_owner: str


def _bench_database_name() -> str:
    import environ

    base = environ.Env.db_url_config(os.environ["DATABASE_URL"])["NAME"]
    return os.environ.get("BENCH_DATABASE_NAME") or f"{base}_bench"


def _ensure_database(settings_dict: dict[str, Any], name: str) -> None:
    import psycopg
    from psycopg import sql

    params = {
        "host": settings_dict.get("HOST") or None,
        "port": settings_dict.get("PORT") or None,
        "user": settings_dict.get("USER") or None,
        "password": settings_dict.get("PASSWORD") or None,
        "dbname": "postgres",
    }
    with psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def scale_db(django_db_blocker: Any) -> Iterator[ScaleDb]:
    from django.conf import settings

    if not getattr(settings, "IS_POSTGRES", False) or "DATABASE_URL" not in os.environ:
        pytest.skip(reason="基准测试（规模数据）只在 PostgreSQL 上运行：请设置 DATABASE_URL=postgres://…")
    from django.core.management import call_command
    from django.db import connection

    name = _bench_database_name()
    previous = connection.settings_dict["NAME"]
    with django_db_blocker.unblock():
        _ensure_database(connection.settings_dict, name)
        connection.close()
        connection.settings_dict["NAME"] = name
        try:
            call_command("migrate", verbosity=0, interactive=False)
            from officeapp.org.models import User

            if User.objects.filter(username__startswith="u").count() < SCALE_USERS:
                print(f"\n生成规模数据到数据库 {name}（首次运行需要几分钟）…")
                call_command("generate_scale", users=SCALE_USERS, agencies=SCALE_AGENCIES)
            call_command("generate_scale", agencies=0, tasks=TASKS_SMALL, task_owner=SMALL_OWNER)
            call_command("generate_scale", agencies=0, tasks=TASKS_LARGE, task_owner=LARGE_OWNER)
            yield ScaleDb(
                name=name, users=User.objects.count(), small_owner=SMALL_OWNER, large_owner=LARGE_OWNER
            )
        finally:
            connection.close()
            connection.settings_dict["NAME"] = previous


class BenchTools:
    """Given to benchmarks by the `bench` fixture (a conftest is not importable as a module)."""

    @staticmethod
    def percentiles(samples_ms: Sequence[float]) -> tuple[float, float, float]:
        return percentiles(samples_ms)

    @staticmethod
    def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        print_table(title, header, rows)


@pytest.fixture
def bench() -> BenchTools:
    return BenchTools()


def percentiles(samples_ms: Sequence[float]) -> tuple[float, float, float]:
    """(p50, p95, max) of samples in milliseconds."""
    ordered = sorted(samples_ms)
    p95 = statistics.quantiles(ordered, n=20, method="inclusive")[18] if len(ordered) > 1 else ordered[0]
    return statistics.median(ordered), p95, ordered[-1]


def print_table(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    widths = [max(len(str(h)), *(len(_cell(r[i])) for r in rows)) for i, h in enumerate(header)]
    print(f"\n{title}")
    print("  ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=True)))
    for row in rows:
        print("  ".join(_cell(c).ljust(w) for c, w in zip(row, widths, strict=True)))


def _cell(value: Any) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)
