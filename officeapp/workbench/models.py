"""The app launcher's links (应用). Issue 10 grows this into the registry of integrated apps."""

from __future__ import annotations

from django.db import models

from officeapp.org.models import Agency


class AppLink(models.Model):
    """One tile in the 应用 launcher. Empty `agencies` and `roles` mean everyone may see it."""

    name = models.CharField("名称", max_length=40)
    url = models.CharField("链接", max_length=500)
    # A character or emoji shown in the tile: no icon files to vendor or fetch.
    icon = models.CharField("图标文字", max_length=8, blank=True)
    sort_order = models.PositiveIntegerField("排序", default=0)
    is_active = models.BooleanField("启用", default=True)
    agencies = models.ManyToManyField(Agency, verbose_name="可见机关", blank=True, related_name="+")
    # Role identifiers (officeapp.org.models.Role); a user needs one of them. Empty: every role.
    roles = models.JSONField("可见角色", default=list, blank=True)

    class Meta:
        verbose_name = "应用"
        verbose_name_plural = "应用"
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return self.name
