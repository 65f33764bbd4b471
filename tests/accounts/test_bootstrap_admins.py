"""manage.py bootstrap_admins and the superuser system check (officeapp.E010)."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from officeapp.accounts.checks import check_no_active_superuser
from officeapp.org.models import Role, RoleGrant, User

GOOD = "First-Admin-Pass-2026!"


@pytest.fixture
def admin_passwords(monkeypatch):
    for var, value in [
        ("OFFICEAPP_SYSTEM_ADMIN_PASSWORD", GOOD + "s"),
        ("OFFICEAPP_SECURITY_ADMIN_PASSWORD", GOOD + "x"),
        ("OFFICEAPP_AUDIT_ADMIN_PASSWORD", GOOD + "a"),
    ]:
        monkeypatch.setenv(var, value)


def _run(*args: str) -> None:
    call_command("bootstrap_admins", *args)


def test_bootstrap_creates_three_admins_who_must_change_their_password(db, admin_passwords, capsys):
    _run("--system", "sys1", "--security", "sec1", "--audit", "aud1", "--password-from-env")
    for username, role in [
        ("sys1", Role.SYSTEM_ADMIN),
        ("sec1", Role.SECURITY_ADMIN),
        ("aud1", Role.AUDIT_ADMIN),
    ]:
        user = User.objects.get(username=username)
        assert user.must_change_password and not user.is_superuser
        assert list(RoleGrant.objects.filter(user=user).values_list("role", flat=True)) == [role]
    assert User.objects.get(username="sec1").check_password(GOOD + "x")
    assert "已创建安全管理员：sec1" in capsys.readouterr().out


def test_bootstrap_prompts_for_passwords_when_not_from_env(db, monkeypatch):
    answers = iter([GOOD, GOOD, GOOD + "1", GOOD + "1", GOOD + "2", GOOD + "2"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    _run("--system", "sys1", "--security", "sec1", "--audit", "aud1")
    assert User.objects.get(username="aud1").check_password(GOOD + "2")


def test_bootstrap_refuses_mismatched_prompted_passwords(db, monkeypatch):
    answers = iter([GOOD, GOOD + "typo"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    with pytest.raises(CommandError, match="不一致"):
        _run("--system", "sys1", "--security", "sec1", "--audit", "aud1")
    assert not User.objects.exists()


def test_bootstrap_refuses_when_any_admin_exists(cast, admin_passwords):
    with pytest.raises(CommandError, match="已存在管理员"):
        _run("--system", "sys1", "--security", "sec1", "--audit", "aud1", "--password-from-env")
    assert not User.objects.filter(username="sys1").exists()


def test_force_missing_creates_only_the_missing_roles(db, admin_passwords):
    _run("--system", "sys1", "--security", "sec1", "--audit", "aud1", "--password-from-env")
    RoleGrant.objects.filter(role=Role.AUDIT_ADMIN).delete()
    with pytest.raises(CommandError, match="--force-missing"):
        _run("--audit", "aud2", "--password-from-env")
    _run("--audit", "aud2", "--password-from-env", "--force-missing")
    assert RoleGrant.objects.get(role=Role.AUDIT_ADMIN).user.username == "aud2"
    with pytest.raises(CommandError, match="均已存在"):
        _run("--force-missing", "--password-from-env")


def test_bootstrap_refuses_one_person_for_two_roles(db, admin_passwords):
    with pytest.raises(CommandError, match="三员分立"):
        _run("--system", "same", "--security", "same", "--audit", "aud1", "--password-from-env")
    assert not User.objects.exists()


def test_bootstrap_needs_all_three_names(db, admin_passwords):
    with pytest.raises(CommandError, match="--audit"):
        _run("--system", "sys1", "--security", "sec1", "--password-from-env")


def test_bootstrap_refuses_a_weak_password_and_creates_nobody(db, admin_passwords, monkeypatch):
    monkeypatch.setenv("OFFICEAPP_AUDIT_ADMIN_PASSWORD", "short")
    with pytest.raises(CommandError, match="密码不符合要求"):
        _run("--system", "sys1", "--security", "sec1", "--audit", "aud1", "--password-from-env")
    assert not User.objects.exists()


def test_bootstrap_refuses_missing_env_password(db, admin_passwords, monkeypatch):
    monkeypatch.delenv("OFFICEAPP_SECURITY_ADMIN_PASSWORD")
    with pytest.raises(CommandError, match="OFFICEAPP_SECURITY_ADMIN_PASSWORD"):
        _run("--system", "sys1", "--security", "sec1", "--audit", "aud1", "--password-from-env")


def test_bootstrap_refuses_an_existing_username(cast, admin_passwords):
    RoleGrant.objects.filter(role__in=[Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN]).delete()
    with pytest.raises(CommandError, match="drafter 已存在"):
        _run("--system", "drafter", "--security", "sec1", "--audit", "aud1", "--password-from-env")
    assert not User.objects.filter(username="sec1").exists()


@override_settings(DEBUG=False)
def test_active_superuser_fails_the_check_outside_debug(cast):
    User.objects.filter(pk=cast.system_admin.pk).update(is_superuser=True)
    errors = check_no_active_superuser(None)
    assert [e.id for e in errors] == ["officeapp.E010"]
    assert "system_admin" in errors[0].msg


@override_settings(DEBUG=True)
def test_superuser_is_tolerated_in_debug(cast):
    User.objects.filter(pk=cast.system_admin.pk).update(is_superuser=True)
    assert check_no_active_superuser(None) == []


@override_settings(DEBUG=False)
def test_disabled_superuser_passes_the_check(cast):
    User.objects.filter(pk=cast.system_admin.pk).update(is_superuser=True, is_active=False)
    assert check_no_active_superuser(None) == []


def test_superuser_check_is_registered(db):
    from django.core import checks

    assert check_no_active_superuser in checks.registry.registry.get_checks()
