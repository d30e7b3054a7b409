"""Files of names and their secrets, one pair a line (``#`` starts a comment): the gateway's
device keys and the server's tenant tokens. Errors name the file and line, never a secret."""

from __future__ import annotations

import logging
import stat
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)


def named_secrets(path: Path, what: str, error: type[ValueError]) -> Iterator[tuple[str, str, str]]:
    """``(where, name, secret)`` for each non-empty line; ``where`` is "FILE, line N" for messages.

    ``what`` says what the two fields are ("a device id and a secret"); a line with another number
    of fields raises ``error``. A file that other users may read is used, with a warning.
    """
    if path.stat().st_mode & (stat.S_IRGRP | stat.S_IROTH):
        log.warning("%s can be read by other users of this machine: chmod 600 %s", path, path)
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        fields = line.split("#", 1)[0].split()
        if not fields:
            continue
        where = f"{path}, line {number}"
        if len(fields) != 2:
            raise error(f"{where}: expected {what}")
        name, secret = fields
        yield where, name, secret
