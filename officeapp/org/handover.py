"""Hand-over (工作交接): when a user is disabled or transferred, their open work moves on.

Every app that owns open work of a user (workflow tasks, supervision items, chat group ownership,
the seal-keeper role ...) registers one provider in `officeapp.registries.handover_providers` from its
AppConfig.ready(). `officeapp.org.services.disable_user` and `transfer_user` call every provider in
their own transaction, so either all the work moves or none of it does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from django.db.models import Q
from django.utils import timezone

from officeapp.org.models import Delegation, User


@runtime_checkable
class HandoverProvider(Protocol):
    """One kind of open work. `name` is the registry key; `label` is shown to the administrator."""

    name: str
    label: str

    def open_items(self, user: User) -> int:
        """How many open items `user` holds now (shown before disabling; no writes)."""
        ...

    def hand_over(self, from_user: User, to_user: User, *, actor: Any) -> int:
        """Move every open item of `from_user` to `to_user`; return how many moved. Runs inside the
        caller's transaction: raise to refuse the whole hand-over."""
        ...


@dataclass
class HandoverReport:
    successor: User | None
    moved: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.moved.values())


def open_work(user: User) -> list[tuple[HandoverProvider, int]]:
    """Every registered provider with the number of open items the user holds there."""
    from officeapp.registries import handover_providers

    return [(provider, provider.open_items(user)) for provider in handover_providers.values()]


class DelegationHandover:
    """委托 the leaving user received or gave.

    Received, still running or upcoming: the delegator's tasks would otherwise go to a disabled
    account, so the successor takes them over (or the delegation ends when the successor is the
    delegator). Given: the user's own work is being handed over, so their delegations end.
    """

    name = "delegations"
    label = "委托"

    def _open(self, user: User) -> Any:
        now = timezone.now()
        return Delegation.objects.filter(
            Q(from_user=user) | Q(to_user=user), revoked_at__isnull=True, ends_at__gt=now
        )

    def open_items(self, user: User) -> int:
        return self._open(user).count()

    def hand_over(self, from_user: User, to_user: User, *, actor: Any) -> int:
        now = timezone.now()
        moved = 0
        for delegation in self._open(from_user).select_for_update().order_by("pk"):
            if delegation.to_user_id == from_user.pk and delegation.from_user_id != to_user.pk:
                delegation.to_user = to_user
                delegation.save(update_fields=["to_user"])
            else:
                delegation.revoked_at = now
                delegation.save(update_fields=["revoked_at"])
            moved += 1
        return moved
