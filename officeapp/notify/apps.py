from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "officeapp.notify"
    label = "notify"
    verbose_name = "通知"

    def ready(self) -> None:
        from officeapp.notify.health import check_channel_layer
        from officeapp.registries import health_checks

        health_checks.register("channel_layer", check_channel_layer)
