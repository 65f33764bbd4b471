"""Every state change of sign-in, sessions, TOTP and the 安全管理员's grants and policies.

Each function runs in one transaction with the audit event it owes. Sign-in functions take no
`actor`: until the password is checked nobody is known; the audit row names the user on success.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from officeapp import access
from officeapp.accounts import identity, totp
from officeapp.accounts.models import SignInThrottle, ThrottleKind, account_key
from officeapp.audit.models import Outcome
from officeapp.audit.services import record
from officeapp.notify.services import end_socket_sessions
from officeapp.org import services as org_services
from officeapp.org.models import (
    ADMIN_ROLES,
    Agency,
    Department,
    DirectoryFieldPolicy,
    DirectoryVisibility,
    Role,
    RoleGrant,
    User,
)
from officeapp.outbox.services import emit

GENERIC_FAILURE = "用户名或密码错误。"
ROLE_LABELS: dict[str, str] = dict(Role.choices)


class AccountsRefused(Exception):
    """A request the rules refuse; `message` is shown to the user as it is, and nothing was changed."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- Sign-in ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignInOutcome:
    user: User | None
    message: str = ""
    locked_until: datetime | None = None


def shown_time(moment: datetime) -> str:
    """A lock's end in Asia/Shanghai, rounded up to the minute so "after 10:16" is never too early."""
    local = timezone.localtime(moment)
    if local.second or local.microsecond:
        local = local.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return local.strftime("%Y-%m-%d %H:%M")


def account_locked_message(until: datetime) -> str:
    return f"登录失败次数过多，账号已锁定，请于 {shown_time(until)} 后再试。"


def address_locked_message(until: datetime) -> str:
    return f"来自您所在网络地址的登录失败次数过多，已暂停登录，请于 {shown_time(until)} 后再试。"


def _active_lock(kind: str, key: str, now: datetime) -> datetime | None:
    return (
        SignInThrottle.objects.filter(kind=kind, key=key, locked_until__gt=now)
        .values_list("locked_until", flat=True)
        .first()
    )


def _locked_row(kind: str, key: str) -> SignInThrottle:
    row, _ = SignInThrottle.objects.select_for_update().get_or_create(kind=kind, key=key)
    return row


def _add_failure(row: SignInThrottle, limit: int, now: datetime) -> bool:
    """Count one failure on a row the caller has locked; True when this failure starts a lock."""
    window = timedelta(minutes=settings.SIGN_IN_LOCK_MINUTES)
    lock_over = row.locked_until is not None and row.locked_until <= now
    stale = row.last_failure_at is not None and now - row.last_failure_at > window
    if lock_over or stale:
        # A served lock or failures older than the window start a fresh count.
        row.failures = 0
        row.locked_until = None
    row.failures += 1
    row.last_failure_at = now
    starts_lock = row.failures >= limit and row.locked_until is None
    if starts_lock:
        row.locked_until = now + window
    row.save(update_fields=["failures", "last_failure_at", "locked_until"])
    return starts_lock


@transaction.atomic
def attempt_sign_in(*, username: str, password: str, client_address: str | None) -> SignInOutcome:
    """Check a password under the lockout rules. Unknown user, wrong password and disabled account
    give the same message; a locked account or address is refused before the password is tried.

    The account's row stays locked for the whole attempt (SQLite: the IMMEDIATE write transaction),
    so attempts on one name queue and parallel guesses cannot all pass the check before the first
    failure is counted. The address row is only read up front, since an office behind one NAT address
    must not sign in one person at a time, and is locked only to count a failure.
    """
    now = timezone.now()
    key = account_key(username)
    account = _locked_row(ThrottleKind.ACCOUNT, key)
    account_until = account.locked_until if account.locked_until and account.locked_until > now else None
    address_until = _active_lock(ThrottleKind.ADDRESS, client_address, now) if client_address else None
    if account_until or address_until:
        record(
            "accounts.sign_in",
            outcome=Outcome.DENIED,
            object_type="accounts.signin",
            object_id=key,
            details={"username": key, "reason": "account_locked" if account_until else "address_locked"},
            client_address=client_address,
        )
        if account_until:
            return SignInOutcome(None, account_locked_message(account_until), account_until)
        assert address_until is not None
        return SignInOutcome(None, address_locked_message(address_until), address_until)

    user = authenticate(None, username=username, password=password)
    if user is None:
        # An outside source (LDAP) may say why: its account is linked to no user here, or it is down.
        # The message then says so; a wrong password keeps the one message for every failure.
        refusal = identity.take_refusal()
        account_locked_now = _add_failure(account, settings.SIGN_IN_MAX_FAILURES, now)
        address_row, address_locked_now = None, False
        if client_address:
            address_row = _locked_row(ThrottleKind.ADDRESS, client_address)
            address_locked_now = _add_failure(address_row, settings.SIGN_IN_MAX_FAILURES_PER_ADDRESS, now)
        record(
            "accounts.sign_in",
            outcome=Outcome.FAILED,
            object_type="accounts.signin",
            object_id=key,
            details={
                "username": key,
                "failures": account.failures,
                **({"source": refusal.source, "reason": refusal.reason} if refusal else {}),
            },
            client_address=client_address,
        )
        if account_locked_now:
            assert account.locked_until is not None
            record(
                "accounts.lockout",
                outcome=Outcome.DENIED,
                object_type="accounts.signin",
                object_id=key,
                details={
                    "scope": "account",
                    "username": key,
                    "failures": account.failures,
                    "until": account.locked_until.isoformat(),
                },
                client_address=client_address,
            )
            return SignInOutcome(None, account_locked_message(account.locked_until), account.locked_until)
        if address_locked_now and address_row is not None:
            assert address_row.locked_until is not None
            record(
                "accounts.lockout",
                outcome=Outcome.DENIED,
                object_type="accounts.address",
                object_id=client_address or "",
                details={
                    "scope": "address",
                    "failures": address_row.failures,
                    "until": address_row.locked_until.isoformat(),
                },
                client_address=client_address,
            )
            return SignInOutcome(
                None, address_locked_message(address_row.locked_until), address_row.locked_until
            )
        return SignInOutcome(None, refusal.message if refusal else GENERIC_FAILURE)

    # Success clears the account's count; the address count is left to decay, else one good
    # account would let its holder reset the address limit between guesses at others.
    if account.failures or account.locked_until:
        account.failures = 0
        account.locked_until = None
        account.save(update_fields=["failures", "locked_until"])
    record(
        "accounts.sign_in",
        actor=user,
        obj=user,
        client_address=client_address,
        details={"source": identity.source_of(user)},
    )
    return SignInOutcome(user)


@transaction.atomic
def forget_stale_sign_in_failures() -> int:
    """Delete counters whose lock is over and whose last failure left the window: every typed name
    gets a row, so without this a guesser trying random names would grow the table without end.
    Housekeeping of counters, not a change anyone made: no audit event."""
    now = timezone.now()
    cutoff = now - timedelta(minutes=settings.SIGN_IN_LOCK_MINUTES)
    deleted, _ = (
        SignInThrottle.objects.filter(Q(locked_until__isnull=True) | Q(locked_until__lte=now))
        .filter(Q(last_failure_at__isnull=True) | Q(last_failure_at__lt=cutoff))
        .delete()
    )
    return deleted


def otp_required(user: User) -> bool:
    """Administrators must verify a TOTP code; anyone else who enrolled one is asked for it too."""
    return (
        access.admin_role_of(user) is not None
        or TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    )


@transaction.atomic
def sign_out(*, actor: User) -> None:
    record("accounts.sign_out", actor=actor, obj=actor)


@transaction.atomic
def sign_out_everywhere(*, actor: User) -> int:
    """End every session of the actor: sessions stamped with an older epoch are refused by
    SessionPolicyMiddleware on their next request. Returns the new epoch."""
    User.objects.filter(pk=actor.pk).update(session_epoch=F("session_epoch") + 1)
    epoch = User.objects.filter(pk=actor.pk).values_list("session_epoch", flat=True).get()
    actor.session_epoch = epoch
    record("accounts.sign_out_everywhere", actor=actor, obj=actor)
    emit("accounts.sessions.ended", actor, payload={"epoch": epoch})
    # Open sockets belong to those sessions too: close them after commit.
    end_socket_sessions(actor.pk)
    return epoch


@transaction.atomic
def change_password(*, actor: User, new_password: str) -> None:
    """Set the actor's own password (validated again here) and lift the first-sign-in requirement."""
    validate_password(new_password, actor)
    if actor.check_password(new_password):
        raise AccountsRefused("新密码不能与当前密码相同。")
    user = User.objects.select_for_update().get(pk=actor.pk)
    user.set_password(new_password)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    actor.password = user.password
    actor.must_change_password = False
    record("accounts.password.change", actor=actor, obj=actor)


# --- TOTP ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TotpOutcome:
    device: TOTPDevice | None
    message: str = ""


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


@transaction.atomic
def enrol_totp(*, actor: User, key: str, token: str) -> TotpOutcome:
    """Save a TOTP device once the user shows a code from it (the key lived only in their session)."""
    if TOTPDevice.objects.filter(user=actor, confirmed=True).exists():
        return TotpOutcome(None, "您已启用动态验证码；如需更换，请先停用。")
    step = totp.matching_step(key, token)
    if step is None:
        record("accounts.totp.enrol", actor=actor, obj=actor, outcome=Outcome.FAILED)
        return TotpOutcome(None, "验证码不正确，请核对手机上的时间后重新输入。")
    # last_t blocks a replay of the very code used to enrol.
    device = TOTPDevice.objects.create(user=actor, name="身份验证器", key=key, confirmed=True, last_t=step)
    record("accounts.totp.enrol", actor=actor, obj=actor, details={"device": device.pk})
    return TotpOutcome(device)


@transaction.atomic
def verify_totp(*, actor: User, token: str) -> TotpOutcome:
    """Check the second factor after the password. django-otp's device throttling slows guessing."""
    device = TOTPDevice.objects.select_for_update().filter(user=actor, confirmed=True).order_by("pk").first()
    if device is None:
        return TotpOutcome(None, "您尚未启用动态验证码。")
    allowed, _ = device.verify_is_allowed()
    if not allowed:
        record(
            "accounts.totp.verify",
            actor=actor,
            obj=actor,
            outcome=Outcome.DENIED,
            details={"device": device.pk, "reason": "throttled"},
        )
        return TotpOutcome(None, "验证码错误次数过多，请稍候再试。")
    if device.verify_token(token.strip()):
        record("accounts.totp.verify", actor=actor, obj=actor, details={"device": device.pk})
        return TotpOutcome(device)
    record(
        "accounts.totp.verify", actor=actor, obj=actor, outcome=Outcome.FAILED, details={"device": device.pk}
    )
    return TotpOutcome(None, "验证码不正确。")


@transaction.atomic
def disable_totp(*, actor: User, token: str) -> TotpOutcome:
    """Remove the actor's TOTP device; refused for the three administrators, for whom it is required."""
    if access.admin_role_of(actor) is not None:
        raise AccountsRefused("管理员必须使用动态验证码，不能停用。")
    outcome = verify_totp(actor=actor, token=token)
    if outcome.device is None:
        return outcome
    TOTPDevice.objects.filter(user=actor).delete()
    record("accounts.totp.disable", actor=actor, obj=actor)
    return outcome


@transaction.atomic
def reset_totp(*, actor: User, user: User) -> int:
    """A user lost the phone with their authenticator: the 安全管理员 removes their devices. Their
    sessions end (a session verified with the lost device must not live on); an administrator must
    enrol a new device at the next sign-in, as at the first. Nobody resets their own."""
    _require_security_admin(actor)
    if user.pk == actor.pk:
        raise AccountsRefused("不能重置自己的动态验证码；请由另一名安全管理员或系统管理员协助。")
    removed, _ = TOTPDevice.objects.filter(user=user).delete()
    if not removed:
        raise AccountsRefused(f"{user} 尚未启用动态验证码，无需重置。")
    User.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
    record("accounts.totp.reset", actor=actor, obj=user, details={"devices": removed})
    end_socket_sessions(user.pk)
    return removed


# --- 三员: role grants and the address-book policy (安全管理员 only) -----------------------------


def _require_security_admin(actor: Any) -> None:
    if not access.is_security_admin(actor):
        raise PermissionDenied("仅安全管理员可以执行此操作。")


def _scope_details(agency: Agency | None, department: Department | None) -> dict[str, int | None]:
    return {"agency": agency.pk if agency else None, "department": department.pk if department else None}


@transaction.atomic
def grant_role(
    *, actor: User, user: User, role: str, agency: Agency | None = None, department: Department | None = None
) -> RoleGrant:
    """Grant a role under 三员分立: nobody holds two administrator roles, and the 安全管理员
    never changes their own grants."""
    _require_security_admin(actor)
    if user.pk == actor.pk:
        raise AccountsRefused("安全管理员不能修改自己的角色授权。")
    if role not in ROLE_LABELS:
        raise AccountsRefused("未知的角色。")
    if agency is not None and department is not None:
        raise AccountsRefused("授权范围只能是一个机关或一个部门，不能同时指定。")
    # Lock the grantee so two concurrent grants of administrator roles cannot both pass the check below.
    locked = User.objects.select_for_update().filter(pk=user.pk, is_active=True).first()
    if locked is None:
        raise AccountsRefused("该用户不存在或已停用。")
    if role in ADMIN_ROLES:
        held = (
            RoleGrant.objects.filter(user=user, role__in=ADMIN_ROLES).values_list("role", flat=True).first()
        )
        if held:
            raise AccountsRefused(
                f"三员分立：{user} 已担任{ROLE_LABELS[held]}，不能再担任{ROLE_LABELS[role]}。"
            )
    if RoleGrant.objects.filter(user=user, role=role, agency=agency, department=department).exists():
        raise AccountsRefused("该用户已有此角色授权。")
    try:
        with transaction.atomic():
            grant = RoleGrant.objects.create(
                user=user, role=role, agency=agency, department=department, granted_by=actor
            )
    except IntegrityError as exc:  # the database's own 三员 and uniqueness indexes, should a race get here
        raise AccountsRefused("授权与现有授权冲突，未作更改。") from exc
    record(
        "org.role.grant",
        actor=actor,
        obj=user,
        details={"role": role, "grant": grant.pk, **_scope_details(agency, department)},
    )
    emit("org.user.changed", user, payload={"event": "role_granted", "role": role})
    return grant


@transaction.atomic
def revoke_role(*, actor: User, grant: RoleGrant) -> None:
    _require_security_admin(actor)
    if grant.user_id == actor.pk:
        raise AccountsRefused("安全管理员不能修改自己的角色授权。")
    deleted, _ = RoleGrant.objects.filter(pk=grant.pk).delete()
    if not deleted:
        raise AccountsRefused("该授权已不存在。")
    record(
        "org.role.revoke",
        actor=actor,
        obj=grant.user,
        details={
            "role": grant.role,
            "grant": grant.pk,
            "agency": grant.agency_id,
            "department": grant.department_id,
        },
    )
    emit("org.user.changed", grant.user, payload={"event": "role_revoked", "role": grant.role})


DIRECTORY_FIELDS: dict[str, str] = dict(DirectoryFieldPolicy._meta.get_field("field").choices)  # type: ignore[arg-type]


@transaction.atomic
def set_directory_policy(*, actor: User, visibility: dict[str, str]) -> list[str]:
    """Set who sees each address-book field; returns the fields whose policy changed."""
    _require_security_admin(actor)
    allowed = set(DirectoryVisibility.values)
    for field, value in visibility.items():
        if field not in DIRECTORY_FIELDS or value not in allowed:
            raise AccountsRefused("通讯录字段或可见范围无效。")
    current = dict(DirectoryFieldPolicy.objects.select_for_update().values_list("field", "visibility"))
    changed: list[str] = []
    for field, value in visibility.items():
        if current.get(field) == value:
            continue
        DirectoryFieldPolicy.objects.update_or_create(field=field, defaults={"visibility": value})
        changed.append(field)
    if changed:
        record(
            "org.directory_policy.set",
            actor=actor,
            object_type="org.directoryfieldpolicy",
            details={"changed": {f: visibility[f] for f in changed}},
        )
        emit(
            "org.directory_policy.changed",
            object_type="org.directoryfieldpolicy",
            payload={"fields": changed},
        )
    return changed


# --- Bootstrap -------------------------------------------------------------------------------

BOOTSTRAP_NAMES: dict[str, str] = {
    Role.SYSTEM_ADMIN: "系统管理员",
    Role.SECURITY_ADMIN: "安全管理员",
    Role.AUDIT_ADMIN: "审计管理员",
}


@transaction.atomic
def bootstrap_admin(*, actor: Any = None, username: str, role: str, password: str) -> User:
    """Create one of the first three administrators (manage.py bootstrap_admins). The account must
    choose its own password and enrol TOTP at first sign-in."""
    if role not in ADMIN_ROLES:
        raise AccountsRefused("只能创建三员管理员账号。")
    if RoleGrant.objects.filter(role=role).exists():
        raise AccountsRefused(f"已存在{ROLE_LABELS[role]}，未作更改。")
    if User.objects.filter(username=username).exists():
        raise AccountsRefused(f"用户名 {username} 已存在。")
    real_name = BOOTSTRAP_NAMES[role]
    validate_password(password, User(username=username, real_name=real_name))
    user = org_services.create_user(
        actor=actor,
        username=username,
        real_name=real_name,
        department=None,
        password=password,
        must_change_password=True,
    )
    grant = RoleGrant.objects.create(user=user, role=role)
    record(
        "org.role.grant",
        actor=actor,
        obj=user,
        actor_label="bootstrap_admins",
        details={"role": role, "grant": grant.pk, "agency": None, "department": None, "bootstrap": True},
    )
    emit("org.user.changed", user, payload={"event": "role_granted", "role": role})
    return user
