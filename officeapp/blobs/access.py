"""Who may read a blob: whoever a registered referrer says may (officeapp.blobs.referrers).

A blob belongs to no one by itself; the objects that hold it (an attachment, a chat file) decide.
Missing and forbidden give the same 404, so a blob id or hash tells an outsider nothing.
"""

from __future__ import annotations

import re
from typing import Any

from django.http import Http404

from officeapp.access import NOT_FOUND_MESSAGE
from officeapp.blobs.models import Blob
from officeapp.blobs.referrers import all_referrers

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# ASCII digits only: str.isdigit() also accepts "²", which int() then refuses with a server error.
_ID = re.compile(r"^[0-9]{1,18}$")


def can_read(user: Any, blob: Blob) -> bool:
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    return any(referrer.can_read(user, blob) for referrer in all_referrers())


def get_blob_for(user: Any, ref: str) -> Blob:
    """Look a blob up by id or SHA-256 for `user`; 404 unless a referrer lets the user read it."""
    if _ID.match(ref):
        blob = Blob.objects.filter(pk=int(ref)).first()
    elif _SHA256.match(ref):
        blob = Blob.objects.filter(sha256=ref).first()
    else:
        blob = None
    if blob is None or not can_read(user, blob):
        raise Http404(NOT_FOUND_MESSAGE)
    return blob
