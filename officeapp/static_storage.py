"""Static files: whitenoise's compressed, hashed storage, tolerant of third-party CSS that names files
its package does not ship (viewflow's roboto-fontface CSS points at font files that are not in its
wheel). Such a reference is left as written instead of failing collectstatic; our own assets are
all present and get hashed names."""

from __future__ import annotations

from typing import Any

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticStorage(CompressedManifestStaticFilesStorage):
    def hashed_name(self, name: str, content: Any = None, filename: str | None = None) -> str:
        try:
            return super().hashed_name(name, content, filename)
        except ValueError:  # whitenoise.storage.MissingFileError is a ValueError
            return name
