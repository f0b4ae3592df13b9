"""TALKOOT_LOG_LEVEL: the one logging configuration of every Talkoot process (the services, the
web front, the projector), applied once as it starts: uvicorn's lines and the ``talkoot.*``
loggers' go to one handler in one format, at that level. Neither uvicorn (``log_config=None``,
no ``log_level``) nor Litestar (``logging_config=None``) configures logging of its own.
"""

from __future__ import annotations

import logging
import logging.config
import os
from collections.abc import Mapping
from typing import Any

VARIABLE = "TALKOOT_LOG_LEVEL"
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"
# A line for every request or call, even at INFO: these speak from WARNING up (or above the
# level asked for).
NOISY = ("uvicorn.access", "httpx", "httpcore")


def level(environ: Mapping[str, str] = os.environ) -> str:
    """The level TALKOOT_LOG_LEVEL names (INFO when unset), in any case; anything else stops
    the process, saying so."""
    text = environ.get(VARIABLE, "").strip().upper() or "INFO"
    if text not in LEVELS:
        raise SystemExit(f"{VARIABLE}: {text!r} is not a level: {', '.join(LEVELS)}")
    return text


def config(environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """The ``logging.config.dictConfig`` of a Talkoot process: everything to standard error, at
    TALKOOT_LOG_LEVEL; uvicorn's loggers through the same handler (not its own)."""
    chosen = level(environ)
    quiet = max(logging.getLevelName(chosen), logging.WARNING)
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"talkoot": {"format": FORMAT}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "talkoot",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": chosen, "handlers": ["stderr"]},
        "loggers": {
            # uvicorn's own configuration gives these handlers of their own; here they
            # propagate to the root's, at the level chosen
            "uvicorn": {"level": chosen, "handlers": [], "propagate": True},
            "uvicorn.error": {"level": chosen, "handlers": [], "propagate": True},
            **{
                name: {"level": logging.getLevelName(quiet), "handlers": [], "propagate": True}
                for name in NOISY
            },
        },
    }


def configure(environ: Mapping[str, str] = os.environ) -> None:
    """Apply ``config``: first thing in a process, before anything logs."""
    logging.config.dictConfig(config(environ))
