"""Background work of chat, run by the worker (django-q2); every task is idempotent.

make_thumbnail: the preview of an image message, at most THUMBNAIL_PX on its longer side, stored in
the blob store; the members' clients learn of it through a "chat.message.updated" frame.
"""

from __future__ import annotations

import logging
from functools import partial
from io import BytesIO

from django.db import transaction
from PIL import Image, ImageOps, UnidentifiedImageError

from chat import live
from chat.frames import MESSAGE_RELATED, has_content, shared_message_event
from chat.models import Message, MessageKind
from officeapp.blobs.services import open_blob, put

logger = logging.getLogger(__name__)

THUMBNAIL_PX = 320


def _thumbnail_bytes(data: bytes) -> BytesIO | None:
    """A PNG (when the image has transparency) or JPEG at most THUMBNAIL_PX square; None when the
    bytes are not an image Pillow reads safely (Pillow refuses decompression bombs)."""
    try:
        with Image.open(BytesIO(data)) as image:
            image.draft("RGB", (THUMBNAIL_PX, THUMBNAIL_PX))  # JPEG decodes at a smaller scale
            image = ImageOps.exif_transpose(image)
            transparent = image.mode in ("RGBA", "LA", "P") and (
                image.mode != "P" or "transparency" in image.info
            )
            image = image.convert("RGBA" if transparent else "RGB")
            image.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
            out = BytesIO()
            if transparent:
                image.save(out, "PNG", optimize=True)
            else:
                image.save(out, "JPEG", quality=85)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError):
        return None
    out.seek(0)
    return out


def make_thumbnail(message_id: int) -> str:
    """Make the thumbnail of an image message unless it has one (or was recalled meanwhile)."""
    message = Message.objects.filter(pk=message_id).select_related("blob").first()
    if (
        message is None
        or message.kind != MessageKind.IMAGE
        or message.blob is None
        or not has_content(message)
    ):
        return "skipped"
    if message.thumbnail_id is not None:
        return "exists"
    # Chat files are bounded by CHAT_FILE_MAX_BYTES, so the image is read whole.
    data = b"".join(open_blob(message.blob))
    thumbnail = _thumbnail_bytes(data)
    if thumbnail is None:
        logger.warning("chat image %s: no thumbnail (not a readable image)", message_id)
        return "unreadable"
    blob = put(thumbnail, actor=None)
    with transaction.atomic():
        message = Message.objects.select_for_update().get(pk=message_id)
        if message.thumbnail_id is not None:
            return "exists"
        if message.blob_id is None or not has_content(message):
            return "skipped"
        message.thumbnail = blob
        message.save(update_fields=["thumbnail"])
        message = Message.objects.select_related(*MESSAGE_RELATED).get(pk=message_id)
        frame = shared_message_event("chat.message.updated", message)
        transaction.on_commit(partial(live.publish, message.conversation_id, frame), robust=True)
    return "made"
