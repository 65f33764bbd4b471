"""Objects the permission matrix needs for URL arguments, built on the cast."""

from __future__ import annotations

import importlib
import pkgutil
from datetime import date, timedelta
from types import ModuleType
from typing import Any

from django.utils import timezone


def area_modules() -> list[ModuleType]:
    """tests/security/matrix_<area>.py modules: each has MATRIX and objects(cast) -> dict."""
    import tests.security as package

    return [
        importlib.import_module(f"tests.security.{info.name}")
        for info in pkgutil.iter_modules(package.__path__)
        if info.name.startswith("matrix_") and info.name != "matrix_setup"
    ]


def matrix_objects(cast: Any) -> dict[str, Any]:
    objects = _core_objects(cast)
    for area in area_modules():
        extra = area.objects(cast, objects)
        overlap = set(objects) & set(extra)
        assert not overlap, f"{area.__name__}: URL arguments defined twice: {sorted(overlap)}"
        objects.update(extra)
    return objects


def _core_objects(cast: Any) -> dict[str, Any]:
    from officeapp.blobs.models import Blob
    from officeapp.calendar.models import CalendarDay, DayKind
    from officeapp.notify.services import notify
    from officeapp.org.models import ConcurrentPost, Delegation, Portfolio, RoleGrant

    now = timezone.now()
    delegation = Delegation.objects.create(
        from_user=cast.dept_head,
        to_user=cast.drafter,
        starts_at=now,
        ends_at=now + timedelta(days=3),
        reason="出差",
    )
    post = ConcurrentPost.objects.create(user=cast.drafter, department=cast.office)
    (notification,) = notify([cast.drafter], kind="test", title="防汛工作通知", url="/")
    # Not the seeded row: a transactional test before this one may have flushed the seed data.
    day, _ = CalendarDay.objects.get_or_create(
        date=date(2026, 10, 1), defaults={"kind": DayKind.HOLIDAY, "name": "国庆节"}
    )
    blob = Blob.objects.create(
        sha256="0" * 64, size=1, content_type="text/plain", key="sha256/00/00/" + "0" * 64
    )
    # The document every documents/workflows URL with a document_id uses: a 通知 the drafter has
    # started (its 拟稿 task is open), seen by the drafter and the 省府办公厅's office roles.
    from documents.services import create_draft
    from workflows.services import start_outgoing

    document = create_draft(
        actor=cast.drafter,
        department=cast.general_dept,
        title="关于做好2026年防汛防台风工作的通知",
        body=[{"kind": "p", "text": "现就有关事项通知如下。"}],
        main_recipients=[cast.finance],
    )
    start_outgoing(document, actor=cast.drafter)
    return {
        "document_id": document.pk,
        "agency_id": cast.gov_office.pk,
        "department_id": cast.general_dept.pk,
        "user_id": cast.drafter.pk,
        "grant_id": RoleGrant.objects.get(user=cast.drafter).pk,
        "portfolio_id": Portfolio.objects.get(leader=cast.leader).pk,
        "post_id": post.pk,
        "delegation_id": delegation.pk,
        "notification_id": notification.pk,
        "pk": day.pk,
        "year": 2026,
        "ref": blob.pk,
        "filename": "说明.txt",
    }
