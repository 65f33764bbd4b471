"""Forms of the 发文 pages. They parse and validate input; services decide and act."""

from __future__ import annotations

import base64
import binascii
import io
import re
from typing import Any

from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile

from documents.bodytext import blocks_from_text
from documents.models import Classification, Disclosure, DocNumber, DocType, Retention, Urgency
from officeapp.org.models import Agency, Department, User
from workflows.flows import STEP_LABELS, earlier_steps
from workflows.models import Decision

# A drawn signature is a small PNG: anything larger is not a signature.
MAX_SIGNATURE_BYTES = 200_000


class AgencyChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Agency) -> str:
        return obj.short_name or obj.name


class OutgoingDraftForm(forms.Form):
    """拟稿: the description of the document and its first 正文."""

    doc_type = forms.ChoiceField(label="文种", choices=DocType.choices, initial=DocType.NOTICE)
    title = forms.CharField(label="标题", max_length=200, help_text="发文机关 + 事由 + 文种")
    main_recipients = AgencyChoiceField(label="主送机关", queryset=Agency.objects.none(), required=False)
    main_recipients_text = forms.CharField(
        label="主送机关（统称）",
        max_length=300,
        required=False,
        help_text="如：各地级以上市人民政府，省政府各部门",
    )
    cc_recipients = AgencyChoiceField(label="抄送机关", queryset=Agency.objects.none(), required=False)
    co_issuers = AgencyChoiceField(label="联合发文机关", queryset=Agency.objects.none(), required=False)
    urgency = forms.ChoiceField(label="紧急程度", choices=Urgency.choices, initial=Urgency.NORMAL)
    disclosure = forms.ChoiceField(
        label="公开属性", choices=Disclosure.choices, initial=Disclosure.NOT_PUBLIC
    )
    classification = forms.ChoiceField(
        label="密级", choices=Classification.choices, initial=Classification.NONE
    )
    secrecy_period = forms.CharField(label="保密期限", max_length=20, required=False)
    deadline = forms.DateField(
        label="办理时限", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    remark = forms.CharField(label="附注", max_length=200, required=False)
    minutes_attendees = forms.CharField(
        label="出席（纪要）", max_length=1000, required=False, help_text="仅纪要填写，姓名之间用顿号分隔。"
    )
    minutes_on_leave = forms.CharField(label="请假（纪要）", max_length=500, required=False)
    minutes_observers = forms.CharField(label="列席（纪要）", max_length=1000, required=False)
    body = forms.CharField(
        label="正文",
        widget=forms.Textarea(attrs={"rows": 14}),
        required=False,
        help_text="每段一行；以“一、”“（一）”“1.”“（1）”开头的行自动作为各级标题。",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        agencies = Agency.objects.filter(is_active=True, level__in=["province", "city"]).order_by("path")
        for name in ("main_recipients", "cc_recipients", "co_issuers"):
            self.fields[name].queryset = agencies  # type: ignore[attr-defined]
            self.fields[name].widget.attrs["size"] = 6

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        no_recipients = (
            not data.get("main_recipients") and not (data.get("main_recipients_text") or "").strip()
        )
        # 纪要, 公告 and 通告 address nobody in particular; everything else needs a 主送.
        if no_recipients and data.get("doc_type") not in (
            DocType.MINUTES,
            DocType.ANNOUNCEMENT,
            DocType.PUBLIC_NOTICE,
        ):
            self.add_error("main_recipients", "请选择主送机关，或填写主送机关统称。")
        data["body_blocks"] = blocks_from_text(data.get("body") or "")
        for name in ("minutes_attendees", "minutes_on_leave", "minutes_observers"):
            data[name] = [n for n in re.split(r"[、，,;；\s]+", data.get(name) or "") if n]
        return data


class BodyForm(forms.Form):
    """正文 edited at a step: the text (or an uploaded .docx) and the version it was based on."""

    body = forms.CharField(label="正文", widget=forms.Textarea(attrs={"rows": 16}), required=False)
    docx = forms.FileField(
        label="或上传 .docx 作为正文",
        required=False,
        help_text="上传后按段落和“一、（一）1.（1）”层次转为正文。",
    )
    based_on = forms.IntegerField(widget=forms.HiddenInput, required=False)
    comment = forms.CharField(label="修改说明", max_length=200, required=False)


class AttachmentForm(forms.Form):
    file = forms.FileField(label="附件文件")
    title = forms.CharField(label="附件名称", max_length=200, required=False, help_text="不填则使用文件名。")


def _decode_signature(data_url: str) -> SimpleUploadedFile | None:
    """The handwritten signature arrives as a data: URL from the canvas."""
    if not data_url:
        return None
    prefix = "data:image/png;base64,"
    if not data_url.startswith(prefix):
        raise forms.ValidationError("签名格式不正确，请重新书写。")
    try:
        raw = base64.b64decode(data_url[len(prefix) :], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise forms.ValidationError("签名格式不正确，请重新书写。") from exc
    if len(raw) > MAX_SIGNATURE_BYTES:
        raise forms.ValidationError("签名图片过大，请重新书写。")
    return SimpleUploadedFile("签名.png", io.BytesIO(raw).getvalue(), content_type="image/png")


class StepForm(forms.Form):
    """意见 at any step, plus the fields the step needs (会签单位, 签发领导, 保管期限 …)."""

    decision = forms.ChoiceField(label="办理结论", choices=[], widget=forms.RadioSelect)
    opinion = forms.CharField(
        label="意见", widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000
    )
    return_to = forms.ChoiceField(label="退回至", choices=[], required=False)
    signature = forms.CharField(widget=forms.HiddenInput, required=False)
    countersign_departments = forms.ModelMultipleChoiceField(
        label="会签处室", queryset=Department.objects.none(), required=False
    )
    countersign_agencies = AgencyChoiceField(label="会签单位", queryset=Agency.objects.none(), required=False)
    signers = forms.ModelMultipleChoiceField(
        label="签发领导（按顺序）", queryset=User.objects.none(), required=False
    )
    retention = forms.ChoiceField(
        label="保管期限", choices=[("", "请选择"), *Retention.choices], required=False
    )
    reserved_number = forms.ModelChoiceField(
        label="使用预留文号",
        queryset=DocNumber.objects.none(),
        required=False,
        empty_label="不使用，取下一个号",
    )

    def __init__(self, *args: Any, step: str, document: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.step = step
        decisions = [(Decision.AGREE, "同意" if step != "draft" else "提交")]
        if step == "countersign":
            decisions.append((Decision.DISAGREE, "不同意"))
        elif earlier_steps(step):
            decisions.append((Decision.RETURN, "退回"))
        self.fields["decision"].choices = decisions
        self.fields["decision"].initial = Decision.AGREE
        self.fields["return_to"].choices = [("", "请选择")] + [
            (s, STEP_LABELS[s]) for s in earlier_steps(step) if s != "countersign"
        ]
        if len(self.fields["return_to"].choices) == 1 or step == "countersign":
            # 拟稿 has nothing earlier to return to; a 会签 branch disagrees instead (D13).
            del self.fields["return_to"]
        if step in ("draft", "dept_review"):
            self.fields["countersign_departments"].queryset = Department.objects.filter(  # type: ignore[attr-defined]
                agency_id=document.agency_id, is_active=True
            ).exclude(pk=document.department_id)
            self.fields["countersign_agencies"].queryset = Agency.objects.filter(  # type: ignore[attr-defined]
                is_active=True, level="province"
            ).exclude(pk=document.agency_id)
            # The parties chosen so far (at 拟稿) stay chosen unless the reviewer changes them.
            chosen = getattr(getattr(document, "outgoing_process", None), "countersign_parties", None) or []
            self.fields["countersign_departments"].initial = [
                p["id"] for p in chosen if p.get("kind") == "department"
            ]
            self.fields["countersign_agencies"].initial = [
                p["id"] for p in chosen if p.get("kind") == "agency"
            ]
        else:
            del self.fields["countersign_departments"], self.fields["countersign_agencies"]
        if step == "office_review":
            from workflows.assignment import role_holders

            leaders = role_holders("leader", document.agency_id)
            co_ids = list(document.co_issuers.values_list("agency_id", flat=True))
            queryset = User.objects.filter(pk__in=leaders.values("pk"))
            for agency_id in co_ids:
                queryset = queryset | User.objects.filter(
                    pk__in=role_holders("leader", agency_id).values("pk")
                )
            self.fields["signers"].queryset = queryset.distinct()  # type: ignore[attr-defined]
            self.fields["signers"].help_text = "不选则按分管关系自动确定；联合发文须包含各联署机关的领导。"
        else:
            del self.fields["signers"]
        if step != "archive":
            del self.fields["retention"]
        if step == "assign_number":
            from documents.numbering import reserved_for

            self.fields["reserved_number"].queryset = reserved_for(document)  # type: ignore[attr-defined]
        else:
            del self.fields["reserved_number"]

    def clean_signature(self) -> SimpleUploadedFile | None:
        return _decode_signature(self.cleaned_data.get("signature") or "")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == Decision.RETURN and not data.get("return_to"):
            self.add_error("return_to", "请选择要退回的环节。")
        if (
            data.get("decision") in (Decision.RETURN, Decision.DISAGREE)
            and not (data.get("opinion") or "").strip()
        ):
            self.add_error("opinion", "退回或不同意时必须填写理由。")
        if self.step == "archive" and data.get("decision") == Decision.AGREE and not data.get("retention"):
            self.add_error("retention", "请选择保管期限。")
        return data


class TransferForm(forms.Form):
    to_user = forms.ModelChoiceField(label="转交给", queryset=User.objects.none())
    reason = forms.CharField(label="说明", max_length=200, required=False)

    def __init__(self, *args: Any, agency_id: int, exclude: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        people = User.objects.filter(is_active=True, department__agency_id=agency_id).order_by(
            "department__path", "pk"
        )
        if exclude:
            people = people.exclude(pk=exclude)
        self.fields["to_user"].queryset = people  # type: ignore[attr-defined]
        self.fields["to_user"].label_from_instance = lambda u: f"{u.real_name}（{u.department.name}）"  # type: ignore[attr-defined]


class ManageForm(forms.Form):
    """The office's commands on a process: 重定位 / 挂起 / 恢复 / 终止."""

    ACTIONS = [("force_move", "重定位"), ("suspend", "挂起"), ("resume", "恢复"), ("terminate", "终止")]
    action = forms.ChoiceField(label="操作", choices=ACTIONS)
    to_step = forms.ChoiceField(
        label="重定位至",
        choices=[("", "请选择")] + [(s, label) for s, label in STEP_LABELS.items() if s != "countersign"],
        required=False,
    )
    reason = forms.CharField(label="原因", max_length=200, required=False)


class ChangeSignersForm(forms.Form):
    """加签 / 减签 by the office: another 会签 party during 会签, or another leader to sign."""

    ACTIONS = [
        ("add_countersign", "加签：增加会签单位"),
        ("remove_countersign", "减签：减去未会签的单位"),
        ("add_signer", "加签：增加签发领导"),
        ("remove_signer", "减签：减去未签发的领导"),
    ]
    change = forms.ChoiceField(label="调整", choices=ACTIONS)
    department = forms.ModelChoiceField(label="会签处室", queryset=Department.objects.none(), required=False)
    agency = forms.ModelChoiceField(label="会签单位", queryset=Agency.objects.none(), required=False)
    countersign_task = forms.IntegerField(label="要减去的会签（任务编号）", required=False)
    leader = forms.ModelChoiceField(label="领导", queryset=User.objects.none(), required=False)
    reason = forms.CharField(label="原因", max_length=200, required=False)

    def __init__(self, *args: Any, document: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from workflows.assignment import role_holders

        self.fields["department"].queryset = Department.objects.filter(  # type: ignore[attr-defined]
            agency_id=document.agency_id, is_active=True
        ).exclude(pk=document.department_id)
        self.fields["agency"].queryset = Agency.objects.filter(is_active=True, level="province").exclude(  # type: ignore[attr-defined]
            pk=document.agency_id
        )
        self.fields["leader"].queryset = role_holders("leader", document.agency_id)  # type: ignore[attr-defined]
        self.fields["leader"].label_from_instance = lambda u: u.real_name  # type: ignore[attr-defined]


class CommonOpinionForm(forms.Form):
    text = forms.CharField(label="常用意见", max_length=200)
