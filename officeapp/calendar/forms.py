from __future__ import annotations

from typing import Any

from django import forms

from officeapp.calendar.models import DayKind

MIN_YEAR, MAX_YEAR = 1990, 2100
YEAR_ERROR = f"年份应为 {MIN_YEAR}–{MAX_YEAR} 之间的整数。"


class YearForm(forms.Form):
    year = forms.IntegerField(
        label="年份",
        min_value=MIN_YEAR,
        max_value=MAX_YEAR,
        error_messages={
            "required": "请输入年份。",
            "invalid": YEAR_ERROR,
            "min_value": YEAR_ERROR,
            "max_value": YEAR_ERROR,
        },
    )


class CalendarDayForm(forms.Form):
    date = forms.DateField(
        label="日期",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": "请填写日期。", "invalid": "日期格式应为 YYYY-MM-DD。"},
    )
    kind = forms.ChoiceField(
        label="类型",
        choices=DayKind.choices,
        error_messages={"required": "请选择类型。", "invalid_choice": "类型应为“节假日”或“调休上班”。"},
    )
    name = forms.CharField(
        label="名称",
        max_length=32,
        strip=True,
        widget=forms.TextInput(attrs={"placeholder": "如：国庆节"}),
        error_messages={"required": "请填写名称，如“国庆节”。", "max_length": "名称最多 32 个字。"},
    )

    def clean_date(self) -> Any:
        value = self.cleaned_data["date"]
        if not MIN_YEAR <= value.year <= MAX_YEAR:
            raise forms.ValidationError(YEAR_ERROR)
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        day, kind = data.get("date"), data.get("kind")
        if day and kind == DayKind.WORKDAY and day.weekday() < 5:
            # A weekday is a working day anyway; only a weekend can be made one by 调休.
            self.add_error("kind", "调休上班日应为周六或周日；工作日无需登记。")
        return data
