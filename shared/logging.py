"""Process-wide logging set-up, called once by entry points (never at import)."""

from __future__ import annotations

import logging


def configure_logging(level: str = "info") -> None:
    """Log `time level name: message` lines to stderr at `level`."""
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
