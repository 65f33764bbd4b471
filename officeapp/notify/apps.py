from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "officeapp.notify"
    label = "notify"
    verbose_name = "通知"

    def ready(self) -> None:
        from officeapp.notify.health import check_channel_layer
        from officeapp.registries import api_routers, health_checks

        health_checks.register("channel_layer", check_channel_layer)
        # /api/v1/notifications/: registered apps send their users notices (officeapp/notify/api.py).
        api_routers.register("notifications", "officeapp.notify.api")
