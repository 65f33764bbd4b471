"""generate_scale writes consistent benchmark data in bulk and keeps what exists on a re-run."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db.models import F
from viewflow.workflow.models import Task

from officeapp.org.models import Agency, Department, Role, RoleGrant, User
from officeapp.org.pinyin import pinyin_keys


def _generate(*args: str) -> str:
    out = StringIO()
    call_command("generate_scale", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_generated_trees_are_consistent(db: Any) -> None:
    _generate("--users", "2000", "--agencies", "200")
    assert Agency.objects.count() == 200
    assert User.objects.count() == 2000
    agencies = {a.pk: a for a in Agency.objects.all()}
    roots = [a for a in agencies.values() if a.parent_id is None]
    assert len(roots) == 1
    for agency in agencies.values():
        parent_path = agencies[agency.parent_id].path if agency.parent_id else ""
        assert agency.path == f"{parent_path}{agency.pk:07d}."
    for department in Department.objects.all():
        assert department.agency_id in agencies
        assert department.path == f"{department.pk:07d}."
    assert not User.objects.filter(department__isnull=True).exists()
    # Every department has exactly one head, and the head is a member of it.
    heads = RoleGrant.objects.filter(role=Role.DEPT_HEAD)
    assert heads.count() == Department.objects.count()
    assert not heads.exclude(user__department_id=F("department_id")).exists()


def test_generated_users_share_one_password_and_carry_pinyin_keys(db: Any) -> None:
    _generate("--users", "300", "--agencies", "40")
    hashes = set(User.objects.values_list("password", flat=True))
    assert len(hashes) == 1
    user = User.objects.order_by("pk")[150]
    assert (user.name_pinyin, user.name_initials) == pinyin_keys(user.real_name)
    assert len(set(User.objects.values_list("mobile", flat=True))) == 300
    # New rows after the bulk load get fresh ids (the sequences were moved past the generated ones).
    extra = Agency.objects.create(name="新建机关", level="city", code="NEW-1")
    assert extra.pk > max(Agency.objects.exclude(pk=extra.pk).values_list("pk", flat=True))


def test_rerun_keeps_the_generated_org(db: Any) -> None:
    _generate("--users", "300", "--agencies", "40")
    out = _generate("--users", "300", "--agencies", "40")
    assert "跳过组织数据生成" in out
    assert User.objects.count() == 300


def test_tasks_are_generated_for_the_owner_once(db: Any) -> None:
    _generate("--users", "300", "--agencies", "40", "--tasks", "100", "--task-owner", "bench.owner")
    owner = User.objects.get(username="bench.owner")
    assert Task.objects.filter(owner=owner).count() == 100
    assert Task.objects.filter(owner=owner, status="DONE").count() == 80
    _generate("--agencies", "40", "--tasks", "100", "--task-owner", "bench.owner")
    assert Task.objects.filter(owner=owner).count() == 100


@pytest.mark.parametrize(
    "args, message",
    [
        (["--users", "-1"], "不能为负数"),
        (["--agencies", "5"], "至少为 30"),
    ],
)
def test_bad_sizes_are_refused(db: Any, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        _generate(*args)
    assert not Agency.objects.exists()


def test_tasks_without_any_department_are_refused(db: Any) -> None:
    with pytest.raises(CommandError, match="请先生成组织数据"):
        _generate("--agencies", "0", "--tasks", "5")


@pytest.mark.skipif(not settings.IS_POSTGRES, reason="索引重建只在 PostgreSQL 的 COPY 路径上发生")
def test_large_loads_rebuild_every_index_they_dropped(db: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from django.db import connection

    from officeapp.management.commands import generate_scale

    def index_names() -> set[str]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename IN ('org_user', 'viewflow_task')"
            )
            return {row[0] for row in cursor.fetchall()}

    before = index_names()
    monkeypatch.setattr(generate_scale, "REBUILD_INDEXES_FROM", 10)
    _generate("--users", "300", "--agencies", "40", "--tasks", "50", "--task-owner", "bench.owner")
    assert index_names() == before
    assert "viewflow_task_inbox_open_idx" in before and "user_real_name_like_idx" in before
    assert User.objects.filter(real_name__startswith=User.objects.first().real_name[:1]).exists()


def test_a_failed_user_load_leaves_no_org_behind_so_a_rerun_generates_everything(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: the user load breaks half-way (Ctrl-C, a full disk)
    from officeapp.management.commands import generate_scale

    calls = 0

    def failing_pinyin_keys(name: str) -> tuple[str, str]:
        nonlocal calls
        calls += 1
        if calls > 100:
            raise KeyboardInterrupt
        return pinyin_keys(name)

    monkeypatch.setattr(generate_scale, "pinyin_keys", failing_pinyin_keys)
    with pytest.raises(KeyboardInterrupt):
        _generate("--users", "300", "--agencies", "40")
    # then: nothing of it stays, and a re-run does not skip the users
    assert not Agency.objects.exists() and not User.objects.exists()
    monkeypatch.setattr(generate_scale, "pinyin_keys", pinyin_keys)
    out = _generate("--users", "300", "--agencies", "40")
    assert "跳过组织数据生成" not in out
    assert User.objects.count() == 300
