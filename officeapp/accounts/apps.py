from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "officeapp.accounts"
    label = "accounts"
    verbose_name = "登录与会话"
