from django.apps import AppConfig


class HealthConfig(AppConfig):
    name = "officeapp.health"
    label = "health"
    verbose_name = "健康检查"

    def ready(self) -> None:
        from officeapp.health.checks import check_database
        from officeapp.registries import health_checks

        health_checks.register("database", check_database)
