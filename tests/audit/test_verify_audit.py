"""manage.py verify_audit names the first broken row: edited, missing, reordered or cut off."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from officeapp.audit.chain import chain_pending, row_digest
from officeapp.audit.models import AuditEvent
from officeapp.audit.services import record


@pytest.fixture
def chain(cast: Any) -> str:
    """The government office's chain with at least 8 rows, chained."""
    for n in range(8):
        record("test.verify", actor=cast.drafter, details={"n": n})
    chain_pending(settle_seconds=0)
    return f"agency:{cast.gov_office.pk}"


def _row(chain: str, seq: int) -> AuditEvent:
    return AuditEvent.objects.get(chain=chain, chain_seq=seq)


def _verify(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("verify_audit", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _broken(*args: str) -> str:
    err = io.StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command("verify_audit", *args, stdout=io.StringIO(), stderr=err)
    assert excinfo.value.returncode == 1
    return err.getvalue()


def _sql(sql: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_an_intact_log_verifies_with_counts(chain: str) -> None:
    out, err = _verify()
    total = AuditEvent.objects.count()
    chains = len(set(AuditEvent.objects.values_list("chain", flat=True)))
    assert f"审计链完整：{chains} 条链，{total} 条记录已校验，0 条待链接。" in out
    assert err == ""


def test_unchained_rows_are_counted_as_waiting(chain: str, cast: Any) -> None:
    record("test.waiting", actor=cast.drafter)
    out, _ = _verify("--chain", chain)
    assert "1 条链" in out and "1 条待链接" in out


def test_an_edited_row_is_reported(chain: str, tamper: Any) -> None:
    victim = _row(chain, 3)
    with tamper():
        _sql("UPDATE audit_auditevent SET details = %s WHERE id = %s", ['{"n": 99}', victim.pk])
    err = _broken()
    assert f"链 {chain} 第 3 条记录（ID {victim.pk}）内容被修改（哈希不符）" in err
    assert "第 4 条" not in err  # only the first broken row of the chain


def test_an_edited_row_with_a_recomputed_hash_breaks_the_next_link(chain: str, tamper: Any) -> None:
    # given an attacker who edits row 3 and recomputes its own hash (but not every hash after it)
    victim = _row(chain, 3)
    forged = AuditEvent.objects.filter(pk=victim.pk).values().get()
    forged["actor_label"] = "别人"
    digest = row_digest(forged, chain_seq=3, prev_hash=victim.prev_hash)
    with tamper():
        _sql(
            "UPDATE audit_auditevent SET actor_label = %s, row_hash = %s WHERE id = %s",
            ["别人", digest, victim.pk],
        )
    # then row 4 no longer links
    assert f"第 4 条记录（ID {_row(chain, 4).pk}）与前一条不衔接" in _broken()


def test_a_deleted_row_is_reported_as_missing(chain: str, tamper: Any) -> None:
    victim, successor = _row(chain, 5), _row(chain, 6)
    with tamper():
        _sql("DELETE FROM audit_auditevent WHERE id = %s", [victim.pk])
    assert f"第 5 条记录缺失（下一条现存记录为第 6 条，ID {successor.pk}）" in _broken()


def test_reordered_rows_are_reported(chain: str, tamper: Any) -> None:
    third, fourth = _row(chain, 3), _row(chain, 4)
    with tamper():  # swap positions 3 and 4 (through -1: chain_seq is unique per chain)
        _sql("UPDATE audit_auditevent SET chain_seq = -1 WHERE id = %s", [third.pk])
        _sql("UPDATE audit_auditevent SET chain_seq = 3 WHERE id = %s", [fourth.pk])
        _sql("UPDATE audit_auditevent SET chain_seq = 4 WHERE id = %s", [third.pk])
    # row 4 now sits at position 3, linked to row 3's hash instead of row 2's
    assert f"第 3 条记录（ID {fourth.pk}）与前一条不衔接" in _broken()


def test_rows_cut_off_the_end_are_reported(chain: str, tamper: Any) -> None:
    last = AuditEvent.objects.filter(chain=chain).order_by("-chain_seq").first()
    assert last is not None
    with tamper():
        _sql("DELETE FROM audit_auditevent WHERE id = %s", [last.pk])
    assert f"链尾缺失：链头记录到第 {last.chain_seq} 条，现存只到第 {last.chain_seq - 1} 条" in _broken()


def test_only_the_named_chain_is_checked(chain: str, cast: Any, tamper: Any) -> None:
    record("test.finance", actor=cast.other_clerk)
    chain_pending(settle_seconds=0)
    with tamper():
        _sql("UPDATE audit_auditevent SET action = %s WHERE id = %s", ["test.forged", _row(chain, 1).pk])
    other = f"agency:{cast.finance.pk}"
    out, _ = _verify("--chain", other)
    assert "审计链完整：1 条链" in out
    assert f"链 {chain} 第 1 条" in _broken("--chain", chain)


def test_an_unknown_chain_is_an_error(chain: str) -> None:
    with pytest.raises(CommandError, match="没有这条审计链：agency:0"):
        call_command("verify_audit", "--chain", "agency:0", stdout=io.StringIO(), stderr=io.StringIO())


def test_missing_triggers_are_warned_about(chain: str, tamper: Any) -> None:
    with tamper():
        _, err = _verify()
    assert "未安装审计表的只追加触发器" in err
