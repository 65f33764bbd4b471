from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "officeapp.audit"
    label = "audit"
    verbose_name = "审计"
