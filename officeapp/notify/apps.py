from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "officeapp.notify"
    label = "notify"
    verbose_name = "通知"
