"""Sign-in failure state: one row per account name and one per client address.

Kept in the database (not the cache) so that every daphne process and every restart sees the same
counts; rows are updated under a row lock by officeapp.accounts.services.
"""

from __future__ import annotations

from django.db import models


class ThrottleKind(models.TextChoices):
    ACCOUNT = "account", "账号"
    ADDRESS = "address", "客户端地址"


def account_key(username: str) -> str:
    """The key of a typed user name's row. Case-folded so "Drafter" and "drafter" share one counter:
    the limit cannot be multiplied by casing."""
    return username.strip().casefold()[:150]


class SignInThrottle(models.Model):
    """Consecutive sign-in failures of one account name or one client address.

    Account rows are keyed by the typed user name, whether or not such a user exists, so that a
    locked unknown name behaves exactly like a locked real one and the page reveals nothing.
    """

    kind = models.CharField("类型", max_length=8, choices=ThrottleKind.choices)
    key = models.CharField("账号或地址", max_length=150)
    failures = models.PositiveIntegerField("连续失败次数", default=0)
    last_failure_at = models.DateTimeField("最近失败时间", null=True, blank=True)
    locked_until = models.DateTimeField("锁定至", null=True, blank=True)

    class Meta:
        verbose_name = "登录失败计数"
        verbose_name_plural = "登录失败计数"
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="signin_throttle_unique")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.key}: {self.failures}"
