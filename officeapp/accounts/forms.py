"""Forms of the accounts pages. Every message is Chinese; what was typed comes back on error
(passwords excepted, which a page never echoes)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import PasswordChangeForm as DjangoPasswordChangeForm

from officeapp.org.models import Agency, Department, DirectoryFieldPolicy, DirectoryVisibility, Role, User


class SignInForm(forms.Form):
    username = forms.CharField(
        label="用户名",
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
        error_messages={"required": "请输入用户名。"},
    )
    password = forms.CharField(
        label="密码",
        strip=False,
        max_length=256,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": "请输入密码。"},
    )


class PasswordChangeForm(DjangoPasswordChangeForm):
    """Django's form (its validators' messages come translated) plus: the new password must differ."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        new = cleaned.get("new_password1")
        if new and self.user.check_password(new):
            self.add_error("new_password1", "新密码不能与当前密码相同。")
        return cleaned


class TokenForm(forms.Form):
    token = forms.CharField(
        label="动态验证码",
        min_length=6,
        max_length=8,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9]*",
                "autofocus": True,
            }
        ),
        error_messages={
            "required": "请输入动态验证码。",
            "min_length": "动态验证码为 6 位数字。",
            "max_length": "动态验证码为 6 位数字。",
        },
    )

    def clean_token(self) -> str:
        token = self.cleaned_data["token"].replace(" ", "")
        if not token.isdigit():
            raise forms.ValidationError("动态验证码只能是数字。")
        return token


class GrantForm(forms.Form):
    username = forms.CharField(label="用户名", max_length=150, error_messages={"required": "请输入用户名。"})
    role = forms.ChoiceField(
        label="角色",
        choices=Role.choices,
        error_messages={"required": "请选择角色。", "invalid_choice": "请选择有效的角色。"},
    )
    agency_code = forms.CharField(label="机关代码（可选）", max_length=32, required=False)
    department_code = forms.CharField(label="部门代码（可选）", max_length=40, required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        username = cleaned.get("username")
        if username:
            user = User.objects.filter(username=username, is_active=True).first()
            if user is None:
                self.add_error("username", "该用户不存在或已停用。")
            cleaned["user"] = user
        agency_code = cleaned.get("agency_code")
        department_code = cleaned.get("department_code")
        if agency_code and department_code:
            raise forms.ValidationError("授权范围只能是一个机关或一个部门，不能同时指定。")
        cleaned["agency"] = cleaned["department"] = None
        if agency_code:
            cleaned["agency"] = Agency.objects.filter(code=agency_code).first()
            if cleaned["agency"] is None:
                self.add_error("agency_code", "没有这个机关代码。")
        if department_code:
            cleaned["department"] = Department.objects.filter(code=department_code).first()
            if cleaned["department"] is None:
                self.add_error("department_code", "没有这个部门代码。")
        return cleaned


class TotpResetForm(forms.Form):
    """A lost phone: the 安全管理员 removes a user's authenticator so they enrol a new one."""

    username = forms.CharField(label="用户名", max_length=150, error_messages={"required": "请输入用户名。"})

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        self.user = User.objects.filter(username=username).first()
        if self.user is None:
            raise forms.ValidationError("该用户不存在。")
        return username


class DirectoryPolicyForm(forms.Form):
    """One choice per address-book field."""

    def __init__(self, *args: Any, current: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = DirectoryFieldPolicy._meta.get_field("field")
        for name, label in field.choices:  # type: ignore[union-attr,misc]
            self.fields[name] = forms.ChoiceField(
                label=label,
                choices=DirectoryVisibility.choices,
                initial=current.get(name, DirectoryVisibility.SAME_AGENCY),
                error_messages={"required": "请选择可见范围。", "invalid_choice": "请选择有效的可见范围。"},
            )
