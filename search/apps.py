from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "search"
    verbose_name = "搜索"

    def ready(self) -> None:
        from importlib import import_module

        from officeapp.registries import demo_builders, health_checks, outbox_consumers, search_indexers
        from search.demo import build_search_demo
        from search.health import search_health
        from search.indexing import CONSUMER, consume
        from search.sources import SOURCE_MODULES

        # Each source handles the keys that start with its prefix ("document:", "material:" …).
        for module in SOURCE_MODULES:
            for source in import_module(module).SOURCES:
                search_indexers.register(getattr(source, "prefix", source.kind), source)
        outbox_consumers.register(CONSUMER, consume)
        health_checks.register("search", search_health)
        # Last of the demo builders: the index is built from what all the others made.
        demo_builders.register("90-search", build_search_demo)
