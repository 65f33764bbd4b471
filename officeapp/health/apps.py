from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "officeapp.health"
    label = "health"
    verbose_name = "健康检查"
