from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "officeapp.accounts"
    label = "accounts"
    verbose_name = "登录与会话"

    def ready(self) -> None:
        from officeapp.accounts import checks  # noqa: F401  (registers officeapp.E010)
