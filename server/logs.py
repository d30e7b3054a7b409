"""Log output: today's text lines, or one JSON object per line (``--log-format json``).

JSON lines carry ``time``, ``level``, ``logger`` and ``message`` always, ``replica`` once the
server knows its id, and ``job_id``, ``stage`` and ``duration`` where the code logging the line
passes them (``log.info(..., extra=job_fields(job_id, stage, seconds))``), so a log pipeline can
filter and aggregate without parsing messages.

``--log-level`` sets voxprint's own loggers. Other libraries' loggers stay at INFO or above unless
named in ``--debug-loggers``: peewee's DEBUG lines carry SQL parameters (transcripts, tenants,
filenames) and HTTP libraries' carry headers, which no one should get by asking for voxprint's detail.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Sequence
from typing import Any

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
STRUCTURED_FIELDS = ("job_id", "stage", "duration")
# The parent of every logger of voxprint's own (they are named by module).
OWN_LOGGER = "voxprint"


class _Replica(logging.Filter):
    """Stamps every record with this process's replica id (set once the server knows it)."""

    replica: str | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        if self.replica is not None:
            record.replica = self.replica
        return True


_replica = _Replica()


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in ("replica", *STRUCTURED_FIELDS):
            if (value := getattr(record, name, None)) is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure_logging(level: str, log_format: str = "text", debug_loggers: Sequence[str] = ()) -> None:
    """Send the process's logs to stderr, as ``text`` lines or ``json`` objects: voxprint's at
    ``level``, other libraries' at INFO or above, those named in ``debug_loggers`` at DEBUG."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(_replica)
    own_level = logging.getLevelName(level.upper())
    logging.basicConfig(level=max(own_level, logging.INFO), handlers=[handler], force=True)
    logging.getLogger(OWN_LOGGER).setLevel(own_level)
    for name in debug_loggers:
        logging.getLogger(name).setLevel(logging.DEBUG)


def set_replica(replica_id: str | None) -> None:
    _replica.replica = replica_id


def job_fields(job_id: uuid.UUID | str, stage: str | None = None, seconds: float | None = None) -> dict[str, Any]:
    """``extra=`` for a log call about a job (and a stage of it, and how long it took)."""
    fields: dict[str, Any] = {"job_id": str(job_id)}
    if stage is not None:
        fields["stage"] = stage
    if seconds is not None:
        fields["duration"] = round(seconds, 4)
    return fields
