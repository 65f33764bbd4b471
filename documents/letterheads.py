"""版头模板: each agency's 发文机关标志 and 机关代字 per format (文件格式, 信函格式, 纪要格式; single
or joint issue), kept by the agency's office. A draft takes its agency's default template for its
format (documents.services.default_letterhead); numbering uses the template's 机关代字 (G14).
"""

from __future__ import annotations

import re
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q

from documents import access
from documents.errors import DocumentError
from documents.models import Layout, Letterhead
from officeapp.audit.services import record
from officeapp.org.models import Agency
from officeapp.outbox.services import emit

EDITABLE_FIELDS = ("name", "layout", "mark_text", "number_prefix", "is_joint", "is_active")

MSG_NOT_OFFICE = "只有本机关办公室（文秘、办公室主任）可以维护版头模板。"
# G14: 机关代字 + 〔年份〕 + 序号 + 号; the 代字 itself carries no brackets, digits at its end or spaces.
_BAD_PREFIX = re.compile(r"[\s〔〕\[\]【】()（）]|\d$")


class LetterheadRefused(DocumentError):
    """A 版头模板 change that breaks a rule; the message says which."""


def _check_office(actor: Any, agency_id: int) -> None:
    if actor is not None and not access.can_keep_letterheads(actor, agency_id):
        raise LetterheadRefused(MSG_NOT_OFFICE)


def _clean(agency: Agency, fields: dict[str, Any], *, exclude_pk: int | None = None) -> dict[str, Any]:
    """Trim and check the typed values; the messages name the field and the rule."""
    cleaned = dict(fields)
    for key in ("name", "mark_text", "number_prefix"):
        if key in cleaned:
            cleaned[key] = str(cleaned[key] or "").strip()
    if "name" in cleaned:
        if not cleaned["name"]:
            raise LetterheadRefused("请填写模板名称。")
        if len(cleaned["name"]) > 60:
            raise LetterheadRefused("模板名称不能超过60个字。")
        same_name = Letterhead.objects.filter(agency=agency, name=cleaned["name"]).exclude(pk=exclude_pk)
        if same_name.exists():
            raise LetterheadRefused(f"本机关已有名为“{cleaned['name']}”的版头模板，请换一个名称。")
    if "mark_text" in cleaned:
        if not cleaned["mark_text"]:
            raise LetterheadRefused("请填写发文机关标志，如：广东省人民政府办公厅文件。")
        if len(cleaned["mark_text"]) > 60:
            raise LetterheadRefused("发文机关标志不能超过60个字。")
    if "number_prefix" in cleaned:
        prefix = cleaned["number_prefix"]
        if not prefix:
            raise LetterheadRefused("请填写机关代字，如：粤府办。")
        if len(prefix) > 20:
            raise LetterheadRefused("机关代字不能超过20个字。")
        if _BAD_PREFIX.search(prefix):
            raise LetterheadRefused(
                f"机关代字“{prefix}”不符合 GB/T 9704 发文字号规则（G14）：代字中不能含括号、空格，"
                "也不能以数字结尾（年份用六角括号〔〕另写）。"
            )
        # 文号 sequences are per 代字 and year across the province: a 代字 belongs to one agency.
        taken = (
            Agency.objects.filter(number_prefix=prefix).exclude(pk=agency.pk).first()
            or Agency.objects.filter(
                pk__in=Letterhead.objects.filter(number_prefix=prefix)
                .exclude(agency=agency)
                .values("agency_id")
            ).first()
        )
        if taken is not None:
            raise LetterheadRefused(
                f"机关代字“{prefix}”已由{taken.name}使用，发文字号不能与其他机关共用代字。"
            )
    if "layout" in cleaned and cleaned["layout"] not in Layout.values:
        raise LetterheadRefused("请选择版式：文件格式、信函格式或纪要格式。")
    return cleaned


def _audit(action: str, letterhead: Letterhead, *, actor: Any, **extra: Any) -> None:
    details = {
        "agency": letterhead.agency_id,
        "layout": letterhead.layout,
        "joint": letterhead.is_joint,
        **extra,
    }
    record(action, actor=actor, obj=letterhead, details=details)
    emit(action, letterhead, payload={"letterhead": letterhead.pk, **details})


def _unset_other_defaults(letterhead: Letterhead) -> list[int]:
    """Clear the default of the same agency/format/joint variant (the model's constraint allows one)."""
    others = Letterhead.objects.select_for_update().filter(
        ~Q(pk=letterhead.pk),
        agency_id=letterhead.agency_id,
        layout=letterhead.layout,
        is_joint=letterhead.is_joint,
        is_default=True,
    )
    ids = list(others.values_list("pk", flat=True))
    Letterhead.objects.filter(pk__in=ids).update(is_default=False)
    return ids


def create_letterhead(
    agency: Agency,
    *,
    actor: Any,
    name: str,
    mark_text: str,
    number_prefix: str,
    layout: str = Layout.STANDARD,
    is_joint: bool = False,
    is_default: bool = False,
) -> Letterhead:
    """新建版头模板. The first template of its format (and variant) becomes the default."""
    _check_office(actor, agency.pk)
    fields = _clean(
        agency,
        {"name": name, "mark_text": mark_text, "number_prefix": number_prefix, "layout": layout},
    )
    try:
        with transaction.atomic():
            Agency.objects.select_for_update().filter(pk=agency.pk).first()
            first_of_kind = not Letterhead.objects.filter(
                agency=agency, layout=fields["layout"], is_joint=is_joint, is_default=True
            ).exists()
            letterhead = Letterhead(
                agency=agency, is_joint=is_joint, is_default=False, is_active=True, **fields
            )
            letterhead.save()
            replaced: list[int] = []
            if is_default or first_of_kind:
                replaced = _unset_other_defaults(letterhead)
                letterhead.is_default = True
                letterhead.save(update_fields=["is_default"])
            _audit("documents.letterhead_created", letterhead, actor=actor, default_replaced=replaced)
    except IntegrityError as exc:
        # Two offices saving the same name at once: the loser gets the same message as a typed duplicate.
        raise LetterheadRefused(f"本机关已有名为“{fields['name']}”的版头模板，请换一个名称。") from exc
    return letterhead


def update_letterhead(letterhead: Letterhead, *, actor: Any, **changes: Any) -> Letterhead:
    """修改版头模板: name, format, 标志, 代字, joint variant, 启用. Documents already numbered keep
    their 文号; a 停用 template stops being offered (and stops being the default)."""
    _check_office(actor, letterhead.agency_id)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise LetterheadRefused("不能修改这些字段：" + "、".join(sorted(unknown)))
    with transaction.atomic():
        current = Letterhead.objects.select_for_update().get(pk=letterhead.pk)
        cleaned = _clean(current.agency, changes, exclude_pk=current.pk)
        changed = [k for k, v in cleaned.items() if getattr(current, k) != v]
        for key in changed:
            setattr(current, key, cleaned[key])
        if current.is_default and not current.is_active:
            current.is_default = False
            changed.append("is_default")
        elif current.is_default and {"layout", "is_joint"} & set(changed):
            # Moved to another format or variant: it stays default there only if nothing else is.
            _unset_other_defaults(current)
        if changed:
            try:
                current.save(update_fields=changed)
            except IntegrityError as exc:
                raise LetterheadRefused(f"本机关已有名为“{current.name}”的版头模板，请换一个名称。") from exc
            _audit("documents.letterhead_updated", current, actor=actor, fields=sorted(set(changed)))
    letterhead.refresh_from_db()
    return current


def set_default(letterhead: Letterhead, *, actor: Any) -> Letterhead:
    """设为默认: this template becomes the default of its agency, format and variant; the previous
    default is cleared in the same transaction (one default each, by the model's constraint)."""
    _check_office(actor, letterhead.agency_id)
    with transaction.atomic():
        current = Letterhead.objects.select_for_update().get(pk=letterhead.pk)
        if not current.is_active:
            raise LetterheadRefused("停用的版头模板不能设为默认，请先启用。")
        if current.is_default:
            return current
        replaced = _unset_other_defaults(current)
        current.is_default = True
        current.save(update_fields=["is_default"])
        _audit("documents.letterhead_default_set", current, actor=actor, default_replaced=replaced)
    letterhead.refresh_from_db()
    return current


def letterheads_of(agency: Agency | int) -> Any:
    agency_id = agency.pk if isinstance(agency, Agency) else agency
    return Letterhead.objects.filter(agency_id=agency_id).order_by(
        "layout", "is_joint", "-is_default", "name"
    )
