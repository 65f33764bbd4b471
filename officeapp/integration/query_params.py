"""Query-parameter parsers every api.py shares: each returns None when the parameter is absent and
raises a 400 naming the parameter, in Chinese, when it is malformed."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions
from rest_framework.request import Request


def _invalid(name: str, message: str) -> exceptions.ValidationError:
    return exceptions.ValidationError({name: [message]})


def query_date(request: Request, name: str) -> date | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        value = parse_date(raw)
    except ValueError:
        value = None
    if value is None:
        raise _invalid(name, "日期格式应为 YYYY-MM-DD。")
    return value


def query_datetime(request: Request, name: str) -> datetime | None:
    """An ISO 8601 time (a bare date means its start, in the site's time zone)."""
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        value = parse_datetime(raw)
        if value is None and (day := parse_date(raw)) is not None:
            value = datetime.combine(day, time.min)
    except ValueError:
        value = None
    if value is None:
        raise _invalid(name, "时间格式应为 ISO 8601，例如 2026-05-01T08:00:00+08:00。")
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def query_choice(request: Request, name: str, choices: Any) -> str | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    if raw not in choices.values:
        raise _invalid(name, "可选值：" + "、".join(choices.values) + "。")
    return raw


def query_id(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
        raise _invalid(name, "应为正整数编号。")
    return int(raw)


def choice_parameter(name: str, choices: Any, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.STR, enum=list(choices.values), description=description)
