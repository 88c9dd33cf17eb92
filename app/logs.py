"""The service's logs: one JSON object per line, on standard error.

Each line has ``time`` (UTC, ISO 8601), ``level``, ``logger`` and ``message``; access
lines (:class:`app.middleware.AccessLog`) add ``request_id``, ``method``, ``path``,
``query_keys``, ``status`` and ``duration_ms``. No request body and no header value is
ever written: uploaded Linky files and keys never reach a log.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any


class JsonFormatter(logging.Formatter):
    """A log record as one line of JSON; a traceback, when there is one, as a string."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        access = getattr(record, "access", None)
        if isinstance(access, dict):
            line.update(access)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def log_config(level: str = "info") -> dict[str, Any]:
    """The ``logging.config.dictConfig`` of the service, as uvicorn's ``log_config``.

    The app's loggers and uvicorn's own write JSON lines; uvicorn's access log is off,
    :class:`app.middleware.AccessLog` replaces it.
    """
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"stderr": handler},
        "loggers": {
            "app": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
            "uvicorn": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }
