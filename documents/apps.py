from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "documents"
    verbose_name = "公文"

    def ready(self) -> None:
        import documents.archiving  # noqa: F401  (connects the archive's read-only guards)
        from documents.archiving import reading_agencies
        from documents.attachments import DocumentFilesReferrer
        from documents.exchange import receiving_agencies
        from documents.exchange_demo import build_exchange_demo
        from documents.panels import document_panels
        from documents.sealing import SealedFileReferrer, SealImageReferrer
        from documents.tiles import PENDING_TILE
        from documents.views.exchange import exchange_panel
        from documents.views.seals import seal_panel, shows_office_link
        from officeapp.access import admin_role_of
        from officeapp.blobs.referrers import register_referrer
        from officeapp.registries import api_routers, demo_builders, nav_entries, workbench_tiles
        from officeapp.workbench.navigation import NavEntry

        # 我的公文 in the top navigation for everyone who works on documents (not the 三员).
        nav_entries.register(
            "documents.mine",
            NavEntry("我的公文", "documents:mine", 10, lambda user: admin_role_of(user) is None),
        )
        nav_entries.register(
            "documents.pending",
            NavEntry("待签收", "documents:pending", 15, lambda user: bool(receiving_agencies(user))),
        )
        nav_entries.register(
            "documents.archive",
            NavEntry("档案", "documents:archive", 40, lambda user: bool(reading_agencies(user))),
        )
        # The document page: the sender's distribution status, a recipient's own copy, the package.
        document_panels.register("exchange", exchange_panel)
        document_panels.register("seals", seal_panel)
        # 版头模板 and 电子印章 for the office and the seal keeper.
        nav_entries.register(
            "documents.office", NavEntry("版头与印章", "documents:office_home", 60, shows_office_link)
        )
        # Files are served through the checked download view to whoever may see their document:
        # attachments, their previews and renderings; seal images; sealed PDFs.
        register_referrer(DocumentFilesReferrer())
        register_referrer(SealImageReferrer())
        register_referrer(SealedFileReferrer())
        # 待签收 on the 工作台 for 收发员.
        workbench_tiles.register(PENDING_TILE.key, PENDING_TILE)
        # load_demo: 退文, 撤回 and 补发, 催办 and 转发 on the 发文 demo's distributions (after "20-outgoing").
        demo_builders.register("25-exchange", build_exchange_demo)
        # The REST API of documents and their exchange: /api/v1/documents/ (documents/api.py).
        api_routers.register("documents", "documents.api")
