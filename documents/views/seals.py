"""版头模板 and 电子印章 pages for an agency's office, and signature verification for everyone who
may see a document (plus an upload-to-verify page for a sealed file received from elsewhere)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from documents import access, letterheads, sealing
from documents.errors import DocumentError
from documents.models import Layout, Letterhead, OfficialDocument, Seal, SealApplication
from officeapp.access import get_or_404
from officeapp.audit.services import record_view
from officeapp.blobs.forms import CheckedFileField
from officeapp.org.models import Agency

# --- forms ----------------------------------------------------------------------------------------------


class LetterheadForm(forms.Form):
    name = forms.CharField(label="模板名称", max_length=60, error_messages={"required": "请填写模板名称。"})
    layout = forms.ChoiceField(label="版式", choices=Layout.choices, initial=Layout.STANDARD)
    mark_text = forms.CharField(
        label="发文机关标志",
        max_length=60,
        help_text="如：广东省人民政府办公厅文件（信函格式只写机关名称）",
        error_messages={"required": "请填写发文机关标志。"},
    )
    number_prefix = forms.CharField(
        label="机关代字",
        max_length=20,
        help_text="发文字号中的代字，如：粤府办（年份和序号由编号时生成）",
        error_messages={"required": "请填写机关代字。"},
    )
    is_joint = forms.BooleanField(label="联合发文版头", required=False)


class LetterheadCreateForm(LetterheadForm):
    is_default = forms.BooleanField(label="设为该版式的默认模板", required=False)


class LetterheadEditForm(LetterheadForm):
    is_active = forms.BooleanField(label="启用", required=False)


class SealForm(forms.Form):
    SOURCES = [("generate", "按机关名称自动生成印模"), ("upload", "上传印模图片（PNG，透明背景）")]

    name = forms.CharField(label="印章名称", max_length=60, required=False, help_text="不填则用机关全称")
    source = forms.ChoiceField(
        label="印模来源", choices=SOURCES, initial="generate", widget=forms.RadioSelect
    )
    image = CheckedFileField(label="印模图片", allowed_kinds=("image",), required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("source") == "upload" and not cleaned.get("image") and "image" not in self.errors:
            self.add_error("image", "选择“上传印模图片”时，请选择一个 PNG 文件。")
        return cleaned


class VerifyUploadForm(forms.Form):
    file = CheckedFileField(label="盖章文件（PDF）", allowed_kinds=("document",))


# --- lookups ----------------------------------------------------------------------------------------------


def _agency(agency_id: int) -> Agency:
    # Agencies are public (the directory lists them): a missing one is 404, a wrong role is 403.
    return get_or_404(Agency.objects.all(), pk=agency_id)


def _office_agency(user: Any, agency_id: int) -> Agency:
    agency = _agency(agency_id)
    if not access.can_keep_letterheads(user, agency.pk):
        raise PermissionDenied(letterheads.MSG_NOT_OFFICE)
    return agency


def _office_letterhead(user: Any, letterhead_id: int) -> Letterhead:
    letterhead = get_or_404(Letterhead.objects.select_related("agency"), pk=letterhead_id)
    if not access.can_keep_letterheads(user, letterhead.agency_id):
        raise PermissionDenied(letterheads.MSG_NOT_OFFICE)
    return letterhead


def _own_agency_id(user: Any) -> int:
    department = getattr(user, "department", None)
    if department is None:
        raise PermissionDenied("您没有所属机关。")
    return int(department.agency_id)


# --- 版头模板 ---------------------------------------------------------------------------------------------


def shows_office_link(user: Any) -> bool:
    """For the navigation entry 版头与印章: the office and the 印章管理员 of the user's own agency."""
    department = getattr(user, "department", None)
    if not getattr(user, "is_authenticated", False) or department is None:
        return False
    return access.can_keep_letterheads(user, department.agency_id) or access.can_seal(
        user, department.agency_id
    )


@login_required
@require_GET
def office_home(request: HttpRequest) -> HttpResponse:
    """版头与印章 for the signed-in member's own agency (what a navigation link points at): the
    office lands on its letterheads, the 印章管理员 on the seals."""
    agency_id = _own_agency_id(request.user)
    if access.can_keep_letterheads(request.user, agency_id):
        return redirect("documents:letterheads", agency_id=agency_id)
    if access.can_seal(request.user, agency_id):
        return redirect("documents:seals", agency_id=agency_id)
    raise PermissionDenied(letterheads.MSG_NOT_OFFICE)


@login_required
@require_GET
def letterhead_list(request: HttpRequest, agency_id: int) -> HttpResponse:
    agency = _office_agency(request.user, agency_id)
    rows = letterheads.letterheads_of(agency)
    return render(request, "documents/seals/letterheads.html", {"agency": agency, "rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def letterhead_create(request: HttpRequest, agency_id: int) -> HttpResponse:
    agency = _office_agency(request.user, agency_id)
    initial = {"mark_text": f"{agency.name}文件", "number_prefix": agency.number_prefix}
    form = LetterheadCreateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            letterhead = letterheads.create_letterhead(agency, actor=request.user, **form.cleaned_data)
        except DocumentError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"版头模板“{letterhead.name}”已创建。")
            return redirect("documents:letterheads", agency_id=agency.pk)
    return render(
        request,
        "documents/seals/letterhead_form.html",
        {"agency": agency, "form": form, "title": "新建版头模板"},
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def letterhead_edit(request: HttpRequest, letterhead_id: int) -> HttpResponse:
    letterhead = _office_letterhead(request.user, letterhead_id)
    initial = {f: getattr(letterhead, f) for f in letterheads.EDITABLE_FIELDS}
    form = LetterheadEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            letterheads.update_letterhead(letterhead, actor=request.user, **form.cleaned_data)
        except DocumentError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, f"版头模板“{form.cleaned_data['name']}”已保存。")
            return redirect("documents:letterheads", agency_id=letterhead.agency_id)
    return render(
        request,
        "documents/seals/letterhead_form.html",
        {"agency": letterhead.agency, "form": form, "title": f"修改版头模板：{letterhead.name}"},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def letterhead_set_default(request: HttpRequest, letterhead_id: int) -> HttpResponse:
    letterhead = _office_letterhead(request.user, letterhead_id)
    try:
        letterheads.set_default(letterhead, actor=request.user)
    except DocumentError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已将“{letterhead.name}”设为{letterhead.get_layout_display()}的默认版头。")
    return redirect("documents:letterheads", agency_id=letterhead.agency_id)


# --- 电子印章 ---------------------------------------------------------------------------------------------


def _seal_viewer_agency(user: Any, agency_id: int) -> Agency:
    """The office keeps seals; the 印章管理员 may look at them (to know which seal is in use)."""
    agency = _agency(agency_id)
    if not (access.can_keep_letterheads(user, agency.pk) or access.can_seal(user, agency.pk)):
        raise PermissionDenied("只有本机关办公室和印章管理员可以查看电子印章。")
    return agency


@login_required
@require_GET
def seal_list(request: HttpRequest, agency_id: int) -> HttpResponse:
    agency = _seal_viewer_agency(request.user, agency_id)
    seals = (
        Seal.objects.filter(agency=agency).select_related("image", "created_by").order_by("-is_active", "-pk")
    )
    return render(
        request,
        "documents/seals/seals.html",
        {
            "agency": agency,
            "seals": seals,
            "may_create": access.can_keep_letterheads(request.user, agency.pk),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def seal_create(request: HttpRequest, agency_id: int) -> HttpResponse:
    agency = _agency(agency_id)
    if not access.can_keep_letterheads(request.user, agency.pk):
        raise PermissionDenied(sealing.MSG_NOT_OFFICE)
    form = SealForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["image"] if form.cleaned_data["source"] == "upload" else None
        try:
            seal = sealing.create_seal(
                agency, actor=request.user, name=form.cleaned_data["name"], image_upload=upload
            )
        except DocumentError as exc:
            form.add_error("image" if upload is not None else None, exc.message)
        else:
            messages.success(request, f"电子印章“{seal.name}”已启用，此前的印章已停用并保留用于验证。")
            return redirect("documents:seals", agency_id=agency.pk)
    return render(
        request,
        "documents/seals/seal_form.html",
        {"agency": agency, "form": form, "has_active": sealing.active_seal(agency) is not None},
        status=400 if form.errors else 200,
    )


# --- verification -------------------------------------------------------------------------------------------


def _verification_rows(document: OfficialDocument) -> list[sealing.Verification]:
    return sealing.verify_document(document)


@login_required
@require_GET
def verify(request: HttpRequest, document_id: int) -> HttpResponse:
    document = access.get_document_for(request.user, document_id)
    results = _verification_rows(document)
    record_view(request, document, action="documents.signatures_verified", details={"count": len(results)})
    return render(request, "documents/seals/verify.html", {"document": document, "results": results})


@login_required
@require_GET
def verify_api(request: HttpRequest, document_id: int) -> JsonResponse:
    document = access.get_document_for(request.user, document_id)
    results = _verification_rows(document)
    record_view(request, document, action="documents.signatures_verified", details={"count": len(results)})
    return JsonResponse(
        {
            "document": document.pk,
            "doc_number": document.doc_number,
            "sealed": bool(results) and all(r.digest for r in results),
            "valid": bool(results) and all(r.valid for r in results),
            "signatures": [r.as_json() for r in results],
        },
        json_dumps_params={"ensure_ascii": False},
    )


@login_required
@require_http_methods(["GET", "POST"])
def verify_upload(request: HttpRequest) -> HttpResponse:
    form = VerifyUploadForm(request.POST or None, request.FILES or None)
    results: list[sealing.Verification] = []
    if request.method == "POST" and form.is_valid():
        try:
            results = sealing.verify_upload(form.cleaned_data["file"])
        except DocumentError as exc:
            form.add_error("file", exc.message)
    # Link a result to its document only for those who may open it; the rest learn who sealed.
    visible = set(
        access.visible_documents(request.user)
        .filter(pk__in=[r.document_id for r in results])
        .values_list("pk", flat=True)
    )
    return render(
        request,
        "documents/seals/verify_upload.html",
        {"form": form, "results": results, "visible": visible},
        status=400 if form.errors else 200,
    )


def seal_panel(request: HttpRequest, document: OfficialDocument) -> str:
    """The document page's 用印 panel (registered in documents/apps.py): each seal and a link to
    verify; nothing before the first 用印."""
    applications = list(
        SealApplication.objects.filter(document=document).select_related("agency").order_by("authorised_at")
    )
    if not applications:
        return ""
    return render_to_string(
        "documents/seals/_panel.html",
        {
            "document": document,
            "applications": applications,
            "verify_url": reverse("documents:verify", kwargs={"document_id": document.pk}),
        },
        request=request,
    )


urlpatterns: list[URLPattern] = [
    path("office/", office_home, name="office_home"),
    path("office/<int:agency_id>/letterheads/", letterhead_list, name="letterheads"),
    path("office/<int:agency_id>/letterheads/new/", letterhead_create, name="letterhead_create"),
    path("letterheads/<int:letterhead_id>/edit/", letterhead_edit, name="letterhead_edit"),
    path("letterheads/<int:letterhead_id>/default/", letterhead_set_default, name="letterhead_default"),
    path("office/<int:agency_id>/seals/", seal_list, name="seals"),
    path("office/<int:agency_id>/seals/new/", seal_create, name="seal_create"),
    path("<int:document_id>/verify/", verify, name="verify"),
    path("<int:document_id>/verify.json", verify_api, name="verify_api"),
    path("verify/", verify_upload, name="verify_upload"),
]
