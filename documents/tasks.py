"""Background work of documents (run by the django-q2 worker through officeapp.worker.enqueue)."""

from __future__ import annotations

from documents import rendering


def produce_rendering(rendering_id: int) -> None:
    """排版: build and store one Rendering. Idempotent: see rendering.produce (a redelivered or
    retried task finds the row no longer PENDING and returns)."""
    rendering.produce(rendering_id)
