from django.apps import AppConfig


class CalendarConfig(AppConfig):
    name = "officeapp.calendar"
    label = "calendar"
    verbose_name = "工作日历"
