"""会议材料 as blobs: the referrer that lets downloads and the retention job know them.

Readers: whoever may see the meeting (meetings.access.visible_meetings) — organiser, host, invited
people, the agency's meeting_admin. Retention keeps every blob a Material row still holds.
"""

from __future__ import annotations

from typing import Any

from meetings import access
from meetings.models import Material


class MeetingMaterialsReferrer:
    name = "meetings.materials"

    def can_read(self, user: Any, blob: Any) -> bool:
        if not access.may_use_meetings(user):
            return False
        return Material.objects.filter(blob=blob, meeting__in=access.material_meetings(user)).exists()

    def referenced_blob_ids(self) -> Any:
        return Material.objects.values_list("blob_id", flat=True)


def register() -> None:
    """Registrations into the lower apps' registries (called from MeetingsConfig.ready())."""
    from officeapp.blobs.referrers import register_referrer
    from officeapp.registries import blob_referrers

    if MeetingMaterialsReferrer.name not in blob_referrers:
        register_referrer(MeetingMaterialsReferrer())
