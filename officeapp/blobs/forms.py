"""Form pieces every app uses for uploads.

CheckedFileField runs check_upload() in clean(), so a refused file is a field error in Chinese and
the rest of the form keeps what was typed. BlobUploadFormMixin.put_uploads() stores the checked
files after validation; when the store is down it adds the "文件存储服务暂不可用…" error to the
form and returns None, so the view simply re-renders the bound form:

    form = ImportForm(request.POST, request.FILES)
    if form.is_valid() and (blobs := form.put_uploads(actor=request.user)) is not None:
        import_departments(blob=blobs["file"], actor=request.user)
        return redirect(...)
    return render(request, "org/import.html", {"form": form})
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from officeapp.blobs import services
from officeapp.blobs.backends import BlobStoreUnavailable
from officeapp.blobs.checks import CheckedUpload, UploadRefused, check_upload
from officeapp.blobs.models import Blob


class CheckedFileField(forms.FileField):
    """A FileField whose cleaned value is a CheckedUpload (type, size, zip limits, safe name)."""

    def __init__(self, *, allowed_kinds: Iterable[str], max_bytes: int | None = None, **kwargs: Any) -> None:
        self.allowed_kinds = tuple(allowed_kinds)
        self.max_bytes = max_bytes
        kwargs.setdefault(
            "error_messages",
            {
                "required": "请选择要上传的文件。",
                "empty": "文件为空，请选择有内容的文件。",
                "invalid": "未收到文件，请重新选择。",
            },
        )
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> CheckedUpload | None:
        uploaded = super().clean(data, initial)
        if not uploaded:
            return None
        try:
            return check_upload(uploaded, allowed_kinds=self.allowed_kinds, max_bytes=self.max_bytes)
        except UploadRefused as refusal:
            raise ValidationError(refusal.message, code="upload_refused") from refusal


class BlobUploadFormMixin:
    """For forms with CheckedFileFields: store them, or keep the form bound with a clear error."""

    cleaned_data: dict[str, Any]

    def put_uploads(self, *, actor: Any) -> dict[str, Blob] | None:
        blobs: dict[str, Blob] = {}
        try:
            for field_name, value in self.cleaned_data.items():
                if isinstance(value, CheckedUpload):
                    blobs[field_name] = services.put(value, actor=actor)
        except BlobStoreUnavailable as exc:
            self.add_error(None, exc.message)  # type: ignore[attr-defined]
            return None
        return blobs
