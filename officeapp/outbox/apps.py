from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "officeapp.outbox"
    label = "outbox"
    verbose_name = "事务发件箱"
