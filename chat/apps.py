from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = "即时通讯"

    def ready(self) -> None:
        # Each module registers its own part into officeapp's registries (chat → officeapp only).
        from chat import department_groups, live, pages, retention, services

        services.register()  # the blob referrer of chat files, the handover of group ownership
        live.register()  # socket handlers: subscribe and catch up, typing, read
        department_groups.register()  # 部门群 kept in sync with the org
        retention.register()  # the retention job and the demo builder
        pages.register()  # the 消息 navigation entry and the unread tile of the workbench
