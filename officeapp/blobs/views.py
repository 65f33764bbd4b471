"""Downloads: look up through blobs.access, open through one service, stream the bytes."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from officeapp.blobs import services
from officeapp.blobs.access import get_blob_for
from officeapp.blobs.backends import BlobMissing, BlobStoreUnavailable
from officeapp.blobs.checks import sanitise_name

MISSING_MESSAGE = "文件内容已丢失，请联系系统管理员。"


@require_GET
@login_required
def download(request: HttpRequest, ref: str, filename: str) -> HttpResponse:
    blob = get_blob_for(request.user, ref)
    # The name in the URL is only what the browser saves the file as; it is sanitised like an upload's.
    name = sanitise_name(filename) or "file"
    try:
        chunks = services.download(blob, actor=request.user)
    except BlobStoreUnavailable as exc:
        return render(request, "blobs/unavailable.html", {"message": exc.message}, status=503)
    except BlobMissing:
        # The user may read it (access passed), so say what happened rather than "not found or not yours".
        return render(request, "blobs/unavailable.html", {"message": MISSING_MESSAGE}, status=404)
    response = StreamingHttpResponse(chunks, content_type=blob.content_type)
    response["Content-Length"] = str(blob.size)
    # RFC 6266 / 5987: an ASCII fallback plus filename*=utf-8''… so Chinese names survive every browser.
    response["Content-Disposition"] = content_disposition_header(True, name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    # A file opened directly must never run as part of our origin (an HTML or SVG someone slipped in).
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
