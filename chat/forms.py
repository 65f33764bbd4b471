"""Forms of the chat pages: they parse and refuse in Chinese; the services decide everything else.

People are chosen by id from the 通讯录 search (any agency): the form only turns ids into active
users; who may be added to what is the service's question (chat.services re-checks)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings

from officeapp.org.models import User

NAME_MAX = 60
NOTICE_MAX = 2000
CLIENT_ID_MAX = 64


def _refusals(field: forms.Field, **messages: str) -> None:
    field.error_messages.update(messages)


class PeopleField(forms.Field):
    """User ids, one "members" value each (the picker's checkboxes); cleaned to the active users, in
    the order picked."""

    widget = forms.MultipleHiddenInput

    def clean(self, value: Any) -> list[User]:  # type: ignore[override]
        values = value if isinstance(value, list | tuple) else [value] if value else []
        ids: list[int] = []
        for part in (str(v) for v in values):
            part = part.strip()
            if not part:
                continue
            if not part.isascii() or not part.isdigit() or len(part) > 12:
                raise forms.ValidationError("所选人员不在可选范围内，请重新选择。")
            if int(part) not in ids:
                ids.append(int(part))
        if len(ids) > settings.CHAT_GROUP_MAX_MEMBERS:
            raise forms.ValidationError(f"一个群最多 {settings.CHAT_GROUP_MAX_MEMBERS} 人。")
        found = User.objects.filter(pk__in=ids, is_active=True).in_bulk()
        if len(found) != len(ids):
            raise forms.ValidationError("所选人员不在可选范围内，请重新选择。")
        if self.required and not ids:
            raise forms.ValidationError(self.error_messages["required"])
        return [found[i] for i in ids]


class NewGroupForm(forms.Form):
    name = forms.CharField(label="群名称", max_length=NAME_MAX)
    members = PeopleField(label="群成员", required=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _refusals(self.fields["name"], required="请填写群名称。", max_length=f"群名称最多 {NAME_MAX} 个字。")
        _refusals(self.fields["members"], required="请至少选择一位群成员。")


class RenameForm(forms.Form):
    name = forms.CharField(label="群名称", max_length=NAME_MAX)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _refusals(self.fields["name"], required="请填写群名称。", max_length=f"群名称最多 {NAME_MAX} 个字。")


class NoticeForm(forms.Form):
    notice = forms.CharField(
        label="群公告", max_length=NOTICE_MAX, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _refusals(self.fields["notice"], max_length=f"群公告最多 {NOTICE_MAX} 个字。")


class AddMembersForm(forms.Form):
    members = PeopleField(label="添加成员", required=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _refusals(self.fields["members"], required="请至少选择一位要添加的成员。")


class MemberForm(forms.Form):
    """One member of the conversation (remove, set or unset admin, transfer ownership)."""

    user = forms.IntegerField(min_value=1, max_value=2**31 - 1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        message = "所选成员不在本群中。"
        _refusals(
            self.fields["user"], required=message, invalid=message, min_value=message, max_value=message
        )


class OptionsForm(forms.Form):
    """免打扰 and 置顶: each a switch; an absent one is left as it is."""

    muted = forms.NullBooleanField(required=False)
    pinned = forms.NullBooleanField(required=False)


class IdListField(forms.Field):
    """Ids as the page's JSON sends them (a list) or a plain form does (repeated fields, or one
    comma-separated value): the list is kept as a list instead of becoming the text "[5]"."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[str]:
        if value in (None, "", []):
            return []
        items = value if isinstance(value, list | tuple) else [value]
        parts: list[str] = []
        for item in items:
            parts.extend(str(item).split(","))
        return [p.strip() for p in parts if p.strip()]


class SendForm(forms.Form):
    """A text message, from the page's JSON or a plain form post."""

    body = forms.CharField(strip=False, required=False)
    client_id = forms.CharField(max_length=CLIENT_ID_MAX, required=False)
    reply_to = forms.IntegerField(min_value=1, max_value=2**62, required=False)
    mentions = IdListField(required=False)
    mention_all = forms.BooleanField(required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _refusals(self.fields["client_id"], max_length="消息标识无效，请刷新页面后重试。")
        for name in ("reply_to",):
            _refusals(
                self.fields[name],
                invalid="引用的消息不存在。",
                min_value="引用的消息不存在。",
                max_value="引用的消息不存在。",
            )

    def clean_body(self) -> str:
        if not isinstance(self.data.get("body", ""), str):
            raise forms.ValidationError("消息格式无效。")
        body = self.cleaned_data.get("body") or ""
        if not body.strip():
            raise forms.ValidationError("不能发送空消息。")
        if len(body) > settings.CHAT_MESSAGE_MAX_CHARS:
            raise forms.ValidationError(f"消息最多 {settings.CHAT_MESSAGE_MAX_CHARS} 个字，请分条发送。")
        return body

    def clean_client_id(self) -> str | None:
        return self.cleaned_data.get("client_id") or None

    def clean_mentions(self) -> list[int]:
        ids: list[int] = []
        for value in self.cleaned_data.get("mentions") or []:
            text = str(value).strip()
            if not text:
                continue
            if not text.isascii() or not text.isdigit() or len(text) > 12:
                raise forms.ValidationError("@ 的成员不在本群中。")
            ids.append(int(text))
        return ids[:100]


class ReadForm(forms.Form):
    seq = forms.IntegerField(min_value=0, max_value=2**62)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        message = "已读位置无效。"
        _refusals(self.fields["seq"], required=message, invalid=message, min_value=message, max_value=message)


class UploadForm(forms.Form):
    """The file itself is checked by the service (officeapp.blobs check_upload) before it is stored."""

    file = forms.FileField()
    client_id = forms.CharField(max_length=CLIENT_ID_MAX, required=False)
    caption = forms.CharField(max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _refusals(self.fields["file"], required="请选择要发送的文件。", empty="文件是空的，未发送。")
        _refusals(self.fields["client_id"], max_length="消息标识无效，请刷新页面后重试。")
        _refusals(self.fields["caption"], max_length="文件说明最多 200 个字。")


class ForwardForm(forms.Form):
    to = forms.IntegerField(min_value=1, max_value=2**62)
    client_id = forms.CharField(max_length=CLIENT_ID_MAX, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        message = "请选择要转发到的会话。"
        _refusals(self.fields["to"], required=message, invalid=message, min_value=message, max_value=message)


class BeforeAfterForm(forms.Form):
    """?before=<seq> or ?after=<seq> of the history endpoint."""

    before = forms.IntegerField(min_value=0, max_value=2**62, required=False)
    after = forms.IntegerField(min_value=0, max_value=2**62, required=False)
