from django.apps import AppConfig


class IntegrationConfig(AppConfig):
    name = "officeapp.integration"
    label = "integration"
    verbose_name = "应用集成"

    def ready(self) -> None:
        # Registers the schema's description of our token authentication with drf-spectacular.
        from officeapp.integration import schema  # noqa: F401

        # Webhooks: the outbox consumer that records deliveries, the ticker job that sends them (every
        # second, never waiting on a receiver), apps' own subscription API, the demo's subscriptions.
        from officeapp.integration import webhook_demo, webhooks
        from officeapp.registries import api_routers as webhook_api_routers
        from officeapp.registries import demo_builders as webhook_demo_builders
        from officeapp.registries import outbox_consumers as webhook_consumers
        from officeapp.registries import worker_schedules as webhook_schedules
        from officeapp.worker.schedules import Schedule as WebhookSchedule

        webhook_consumers.register(webhooks.CONSUMER, webhooks.consume)
        webhook_schedules.register(
            "integration.webhooks",
            WebhookSchedule(
                "integration.webhooks", "officeapp.integration.tasks.deliver_webhooks", seconds=1
            ),
        )
        webhook_api_routers.register("webhooks", "officeapp.integration.webhook_api")
        webhook_demo_builders.register("62-webhooks", webhook_demo.build)
        # System checks (integration.E…), and App.skip_consent mirrored onto its sign-in client.
        from officeapp.integration import checks, oidc  # noqa: F401
        from officeapp.integration import demo, views

        demo.register()  # the demo apps' part of load_demo
        views.register()  # the 应用管理 navigation entry
