"""Working-day calendar: the days that deviate from the plain weekend rule, and which years are known.

A date without a CalendarDay row is a working day from Monday to Friday and a rest day on Saturday
and Sunday. A row says otherwise: an official holiday (节假日, also recorded when it falls on a
weekend, so the page shows the whole holiday) or a 调休 working weekend day (调休上班).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", "节假日"
    WORKDAY = "workday", "调休上班"


class CalendarDay(models.Model):
    date = models.DateField(unique=True)
    kind = models.CharField(max_length=16, choices=DayKind.choices)
    name = models.CharField(max_length=32)  # 国庆节, 春节 …
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "节假日安排"
        verbose_name_plural = "节假日安排"
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.get_kind_display()} {self.name}"


class CalendarYear(models.Model):
    """A year whose official 节假日安排 has been entered; other years fall back to plain weekends."""

    class Source(models.TextChoices):
        PACKAGE = "package", "chinese-calendar 数据"
        MANUAL = "manual", "系统管理员维护"

    year = models.PositiveSmallIntegerField(unique=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.MANUAL)
    maintained_at = models.DateTimeField(auto_now=True)
    maintained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "已维护年份"
        verbose_name_plural = "已维护年份"
        ordering = ["year"]

    def __str__(self) -> str:
        return str(self.year)
