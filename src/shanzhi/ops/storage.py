"""Static files: hashed names once collectstatic has run, plain names until it has."""

import logging

from whitenoise.storage import CompressedManifestStaticFilesStorage

logger = logging.getLogger(__name__)


class ManifestStaticStorage(CompressedManifestStaticFilesStorage):
    """WhiteNoise's compressed, hashed static files, forgiving a missing manifest.

    A fresh data directory has no manifest until `shanzhi collectstatic` runs, and a file added
    since has no entry in it: Django would answer 500 on every page that links one. Here such a
    file keeps its plain name, which WhiteNoise serves from the apps (WHITENOISE_USE_FINDERS),
    and the log says what to run.
    """

    manifest_strict = False

    def stored_name(self, name: str) -> str:
        try:
            return super().stored_name(name)
        except ValueError:
            logger.warning("静态文件 %s 不在清单中:请运行 shanzhi collectstatic", name)
            return name
