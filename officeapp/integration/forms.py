"""Forms of the 应用管理 pages: they parse and refuse in Chinese; officeapp.integration.services
decides the rest (URI schemes, name taken in the agency, who may grant what)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.db.models import QuerySet

from officeapp.integration.models import App
from officeapp.integration.services import MAX_RATE_LIMIT
from officeapp.org.models import Agency, AgencyLevel, Department, Role


class IdsChoiceField(forms.ModelMultipleChoiceField):
    """Ids that are none (text, negative, past the database's integers) are refused, not a 500."""

    def _check_values(self, value: Any) -> Any:
        for raw in value:
            text = str(raw).strip()
            if not text.isdigit() or int(text) > 2**62:
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"], code="invalid_choice", params={"value": raw}
                )
        return super()._check_values(value)


def _lines(value: str) -> list[str]:
    return [line.strip() for line in (value or "").replace(",", "\n").splitlines() if line.strip()]


def agency_options(chosen: list[int] | None = None) -> QuerySet[Agency]:
    """Agencies offered as checkboxes: the province's and the cities' (an agency covers everything
    under it, so these reach everyone), plus any already chosen lower down."""
    from django.db.models import Q

    return (
        Agency.objects.filter(is_active=True)
        .filter(Q(level__in=[AgencyLevel.PROVINCE, AgencyLevel.CITY]) | Q(pk__in=chosen or []))
        .order_by("path")
    )


class AppForm(forms.Form):
    owner_agency = forms.ModelChoiceField(label="所属机关", queryset=Agency.objects.none())
    name = forms.CharField(label="应用名称", max_length=60)
    icon = forms.CharField(
        label="图标文字", max_length=8, required=False, help_text="工作台中显示的一个字或表情"
    )
    url = forms.CharField(label="访问地址", max_length=500, help_text="工作台中点击应用时打开的地址")
    description = forms.CharField(
        label="简介", max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    redirect_uris = forms.CharField(
        label="登录回调地址",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="统一身份认证登录后返回应用的地址，每行一个",
    )
    post_logout_redirect_uris = forms.CharField(
        label="退出后返回地址",
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="每行一个，可不填",
    )
    scopes = forms.MultipleChoiceField(
        label="接口授权范围", required=False, widget=forms.CheckboxSelectMultiple, choices=()
    )
    visible_agencies = IdsChoiceField(label="可见机关", queryset=Agency.objects.none(), required=False)
    visible_departments = IdsChoiceField(label="可见部门", queryset=Department.objects.none(), required=False)
    visible_roles = forms.MultipleChoiceField(
        label="可见角色", required=False, widget=forms.CheckboxSelectMultiple, choices=Role.choices
    )
    data_agencies = IdsChoiceField(label="数据范围", queryset=Agency.objects.none(), required=False)
    skip_consent = forms.BooleanField(
        label="免授权确认",
        required=False,
        help_text="用户从工作台打开应用时不再询问授权（仅系统管理员可设置）",
    )
    rate_limit_per_minute = forms.IntegerField(
        label="每分钟调用上限",
        required=False,
        min_value=1,
        max_value=MAX_RATE_LIMIT,
        help_text=f"不填则用平台默认值 {settings.API_RATE_LIMIT_PER_MINUTE} 次/分钟",
    )

    def __init__(
        self,
        *args: Any,
        owner_agencies: QuerySet[Agency] | None = None,
        departments: QuerySet[Department] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        f = self.fields
        if owner_agencies is None:
            del f["owner_agency"]  # editing: the owner does not change
        else:
            f["owner_agency"].queryset = owner_agencies
            f["owner_agency"].error_messages.update(
                required="请选择所属机关。", invalid_choice="请选择您管理的机关。"
            )
        f["scopes"].choices = list(settings.API_SCOPES.items())
        active = Agency.objects.filter(is_active=True)
        f["visible_agencies"].queryset = active
        f["data_agencies"].queryset = active
        f["visible_departments"].queryset = (
            departments if departments is not None else Department.objects.none()
        )
        f["name"].error_messages.update(required="请填写应用名称。", max_length="应用名称最多 60 个字。")
        f["icon"].error_messages.update(max_length="图标文字最多 8 个字。")
        f["url"].error_messages.update(required="请填写访问地址。", max_length="访问地址最多 500 个字符。")
        f["description"].error_messages.update(max_length="简介最多 300 个字。")
        f["redirect_uris"].error_messages.update(required="请至少填写一个登录回调地址。")
        f["scopes"].error_messages.update(invalid_choice="未知的授权范围：%(value)s。")
        f["visible_roles"].error_messages.update(invalid_choice="未知的角色：%(value)s。")
        for name in ("visible_agencies", "data_agencies"):
            f[name].error_messages.update(
                invalid_choice="请选择有效的机关。", invalid_pk_value="请选择有效的机关。"
            )
        f["visible_departments"].error_messages.update(
            invalid_choice="请选择所属机关的部门。", invalid_pk_value="请选择所属机关的部门。"
        )
        f["rate_limit_per_minute"].error_messages.update(
            invalid="每分钟调用上限须为整数。",
            min_value=f"每分钟调用上限须在 1 到 {MAX_RATE_LIMIT} 之间。",
            max_value=f"每分钟调用上限须在 1 到 {MAX_RATE_LIMIT} 之间。",
        )

    @classmethod
    def initial_for(cls, app: App) -> dict[str, Any]:
        sso = app.sso_client
        return {
            "name": app.name,
            "icon": app.icon,
            "url": app.url,
            "description": app.description,
            "redirect_uris": "\n".join(sso.redirect_uris.split()) if sso else "",
            "post_logout_redirect_uris": "\n".join(sso.post_logout_redirect_uris.split()) if sso else "",
            "scopes": list(app.scopes),
            "visible_agencies": list(app.visible_agencies.values_list("pk", flat=True)),
            "visible_departments": list(app.visible_departments.values_list("pk", flat=True)),
            "visible_roles": list(app.visible_roles),
            "data_agencies": list(app.data_agencies.values_list("pk", flat=True)),
            "skip_consent": app.skip_consent,
            "rate_limit_per_minute": app.rate_limit_per_minute,
        }

    def values(self) -> dict[str, Any]:
        """The cleaned form as the keyword arguments of register_app / update_app."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "icon": data["icon"],
            "url": data["url"],
            "description": data["description"],
            "redirect_uris": _lines(data["redirect_uris"]),
            "post_logout_redirect_uris": _lines(data["post_logout_redirect_uris"]),
            "scopes": list(data["scopes"]),
            "visible_agencies": list(data["visible_agencies"]),
            "visible_departments": list(data["visible_departments"]),
            "visible_roles": list(data["visible_roles"]),
            "data_agencies": list(data["data_agencies"]),
            "skip_consent": data["skip_consent"],
            "rate_limit_per_minute": data["rate_limit_per_minute"],
        }

    def chosen_ids(self, name: str) -> set[int]:
        """Ids ticked in a checkbox list: what was typed on a re-render, else the initial value."""
        raw = self.data.getlist(name) if self.is_bound else self.initial.get(name, [])
        return {int(v) for v in raw if str(v).isdigit() and int(v) <= 2**62}


class RotateForm(forms.Form):
    which = forms.ChoiceField(choices=[("sso", "单点登录客户端"), ("service", "接口调用客户端")])
