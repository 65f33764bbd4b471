"""A form with an upload keeps everything typed when the file is refused or the store is down."""

from __future__ import annotations

from typing import Any

import pytest
from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template import engines
from django.urls import path

from officeapp import urls as project_urls
from officeapp.blobs.forms import BlobUploadFormMixin, CheckedFileField
from officeapp.blobs.models import Blob
from tests.blobs.conftest import EXE_BYTES, docx_bytes, upload

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]

TITLE = "关于做好2026年防汛工作的通知"
UNAVAILABLE = "文件存储服务暂不可用，请稍后重试；您填写的内容已保留。"


class AttachmentForm(BlobUploadFormMixin, forms.Form):
    title = forms.CharField(label="标题", max_length=200)
    file = CheckedFileField(label="附件", allowed_kinds=["document"])


PAGE = engines["django"].from_string(
    '<form method="post" enctype="multipart/form-data">{% csrf_token %}{{ form.non_field_errors }}'
    "{{ form.as_div }}<button>保存</button></form>"
)


def attach(request: HttpRequest) -> HttpResponse:
    """Test-only view shaped like every upload view in the project: validate, put, one service."""
    form = AttachmentForm(request.POST or None, request.FILES or None)
    if (
        request.method == "POST"
        and form.is_valid()
        and (blobs := form.put_uploads(actor=request.user)) is not None
    ):
        return redirect(f"/done/{blobs['file'].pk}")
    return HttpResponse(PAGE.render({"form": form}, request))


# The project's own URLs stay: the session middleware reverses the sign-in pages.
urlpatterns = [path("attach/", attach), *project_urls.urlpatterns]


def post(client: Any, content: bytes, name: str = "通知.docx") -> Any:
    return client.post("/attach/", {"title": TITLE, "file": upload(name, content)})


def test_valid_upload_is_stored_and_the_form_moves_on(local_store: Any, cast: Any, sign_in: Any) -> None:
    response = post(sign_in(cast.drafter), docx_bytes())
    assert response.status_code == 302
    blob = Blob.objects.get()
    assert response["Location"] == f"/done/{blob.pk}"


def test_refused_upload_re_renders_with_reason_and_typed_title(
    local_store: Any, cast: Any, sign_in: Any
) -> None:
    response = post(sign_in(cast.drafter), EXE_BYTES)
    page = response.content.decode()
    assert response.status_code == 200
    assert "不支持的文件类型，此处只接受：" in page
    assert f'value="{TITLE}"' in page
    assert Blob.objects.count() == 0


def test_missing_file_asks_for_one(local_store: Any, cast: Any, sign_in: Any) -> None:
    response = sign_in(cast.drafter).post("/attach/", {"title": TITLE})
    page = response.content.decode()
    assert "请选择要上传的文件。" in page
    assert f'value="{TITLE}"' in page


def test_local_store_down_re_renders_with_message_and_typed_title(
    broken_local_store: Any, cast: Any, sign_in: Any
) -> None:
    response = post(sign_in(cast.drafter), docx_bytes())
    page = response.content.decode()
    assert response.status_code == 200
    assert UNAVAILABLE in page
    assert f'value="{TITLE}"' in page
    assert Blob.objects.count() == 0


@pytest.mark.s3
def test_s3_store_down_re_renders_with_message_and_typed_title(
    seaweedfs_outage: Any, cast: Any, sign_in: Any
) -> None:
    response = post(sign_in(cast.drafter), docx_bytes())
    page = response.content.decode()
    assert response.status_code == 200
    assert UNAVAILABLE in page
    assert f'value="{TITLE}"' in page
    assert Blob.objects.count() == 0
