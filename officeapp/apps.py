from django.apps import AppConfig


class OfficeappConfig(AppConfig):
    name = "officeapp"
    verbose_name = "平台"

    def ready(self) -> None:
        from officeapp import checks  # noqa: F401  (registers system checks)
