from django.apps import AppConfig


class OrgConfig(AppConfig):
    name = "officeapp.org"
    label = "org"
    verbose_name = "组织机构"

    def ready(self) -> None:
        from officeapp.org.handover import DelegationHandover
        from officeapp.registries import handover_providers

        provider = DelegationHandover()
        handover_providers.register(provider.name, provider)
        # The REST API of the 通讯录 (/api/v1/directory/, issue 10).
        from officeapp.registries import api_routers

        api_routers.register("directory", "officeapp.org.api")
