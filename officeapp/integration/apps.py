from django.apps import AppConfig


class IntegrationConfig(AppConfig):
    name = "officeapp.integration"
    label = "integration"
    verbose_name = "应用集成"

    def ready(self) -> None:
        # Registers the schema's description of our token authentication with drf-spectacular.
        from officeapp.integration import schema  # noqa: F401
