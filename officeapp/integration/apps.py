from django.apps import AppConfig


class IntegrationConfig(AppConfig):
    name = "officeapp.integration"
    label = "integration"
    verbose_name = "应用集成"

    def ready(self) -> None:
        # Imported for their side effects: the schema's description of our token authentication
        # (drf-spectacular), the system checks (integration.E…), and App.skip_consent mirrored onto
        # its sign-in client (signals in oidc).
        from officeapp.integration import checks, demo, oidc, schema, views, webhook_demo, webhooks  # noqa: F401
        from officeapp.registries import api_routers, demo_builders, outbox_consumers, worker_schedules
        from officeapp.worker.schedules import Schedule

        # Webhooks: the outbox consumer that records deliveries, the ticker job that sends them (every
        # second, never waiting on a receiver), apps' own subscription API, the demo's subscriptions.
        outbox_consumers.register(webhooks.CONSUMER, webhooks.consume)
        worker_schedules.register(
            "integration.webhooks",
            Schedule("integration.webhooks", "officeapp.integration.tasks.deliver_webhooks", seconds=1),
        )
        api_routers.register("webhooks", "officeapp.integration.webhook_api")
        demo_builders.register("62-webhooks", webhook_demo.build)
        demo.register()  # the demo apps' part of load_demo
        views.register()  # the 应用管理 navigation entry
