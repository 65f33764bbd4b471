from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = "办文流程"

    def ready(self) -> None:
        from documents.panels import document_panels
        from officeapp.blobs.referrers import register_referrer
        from officeapp.registries import inbox_sources
        from workflows.inbox import source
        from workflows.panels import flow_panel
        from workflows.signatures import SignatureReferrer

        # The unified inbox's own source: viewflow tasks (待办 / 已办), read by the workbench's tiles.
        inbox_sources.register(source.key, source)
        # The document page shows where the document is in the 发文 flow and its opinions.
        document_panels.register("flow", flow_panel)
        # Handwritten signatures under opinions are readable by whoever may see the document.
        register_referrer(SignatureReferrer())
