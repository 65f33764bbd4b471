from django.apps import AppConfig

# Hourly: a counter outlives its window by at most this long.
FORGET_FAILURES_SECONDS = 3600


class AccountsConfig(AppConfig):
    name = "officeapp.accounts"
    label = "accounts"
    verbose_name = "登录与会话"

    def ready(self) -> None:
        from officeapp.accounts import checks  # noqa: F401  (registers officeapp.E010)
        from officeapp.registries import worker_schedules
        from officeapp.worker.schedules import Schedule

        worker_schedules.register(
            "accounts.forget_stale_failures",
            Schedule(
                name="accounts.forget_stale_failures",
                func="officeapp.accounts.tasks.forget_stale_failures",
                seconds=FORGET_FAILURES_SECONDS,
            ),
        )
