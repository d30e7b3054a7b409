"""Who this replica is: a stable id kept in its data dir, held by one process at a time.

The id marks the replica's claims in the shared job table. Because it survives a restart, a
replica that crashed resumes its own interrupted jobs at once on start; the claims of other
replicas are left alone (they expire if those replicas are dead). Holding an exclusive lock on
the data dir makes a second process on the same data dir fail at start instead of sharing the id.
"""

from __future__ import annotations

import fcntl
import os
import socket
import uuid
from pathlib import Path
from typing import IO

from voxprint.server.permissions import private_file, private_folder


class DataDirInUse(RuntimeError):
    """Another voxprint-server process is running on this data dir."""


class Replica:
    def __init__(self, data_dir: Path) -> None:
        private_folder(data_dir)
        self._lock_file: IO[str] | None = open(
            private_file(data_dir / ".lock"), "a"
        )  # held open: the lock lives as long as the file
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.close()
            raise DataDirInUse(f"another voxprint-server is already using the data dir {data_dir}") from None
        self.id = _stored_id(data_dir / "replica-id")

    def close(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None


def _stored_id(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    # The host name makes claims readable in the table; the random part makes the id unique.
    replica_id = f"{socket.gethostname()[:40]}-{uuid.uuid4().hex[:12]}"
    temporary = private_file(path.with_suffix(".tmp"))
    temporary.write_text(replica_id + "\n")
    os.replace(temporary, path)
    return replica_id
