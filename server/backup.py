"""``voxprint-server backup PATH``: a copy of a running server's SQLite data dir, taken without stopping it.

The database is copied with SQLite's online backup API, which reads one consistent snapshot while
the server goes on writing; the local media are copied after it. Every recording and picture a job
of the snapshot points at was written before that job's row was committed, so the copy holds all
of them (and perhaps a few of jobs made after the snapshot, which nothing points at).

PATH becomes a data dir: ``voxprint-server --data-dir PATH`` serves every job the server had
acknowledged when the backup began. Claims are cleared in the copy, so the restored server resumes
unfinished jobs at once instead of waiting for the old replica's leases to run out.

PostgreSQL and S3 have their own tools (``pg_dump``, the bucket's versioning or replication): see
docs/operations.md.
"""

from __future__ import annotations

import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from voxprint.server.config import Settings
from voxprint.server.media import LocalMedia, open_media
from voxprint.server.media.local import PARTIAL_PREFIX
from voxprint.server.permissions import PRIVATE_FILE_MODE, private_file, private_folder

DATABASE_FILE = "voxprint.db"
MEDIA_FOLDER = "media"
# SQLite pages copied per step: small steps let the server's writers in between them.
PAGES_PER_STEP = 256


class BackupError(Exception):
    """The backup cannot be taken; the message says why and what to do instead."""


@dataclass(frozen=True)
class BackupReport:
    jobs: int
    media_files: int


def backup(settings: Settings, destination: Path) -> BackupReport:
    """Copy the server's database and local media into ``destination``, a new or empty folder."""
    url = settings.resolved_database_url
    if urlsplit(url).scheme != "sqlite":
        raise BackupError("the database is not SQLite: back PostgreSQL up with pg_dump (see docs/operations.md)")
    source = Path(urlsplit(url).path[1:])
    if not source.is_file():
        raise BackupError(f"there is no voxprint database at {source}")
    if destination.exists() and any(destination.iterdir()):
        raise BackupError(f"{destination} is not empty: back up into a new folder")
    private_folder(destination)
    jobs = _copy_database(source, private_file(destination / DATABASE_FILE))
    media = open_media(settings.media_url, settings.media_dir)
    if not isinstance(media, LocalMedia):
        raise BackupError(
            f"the database is backed up in {destination}, but the media are in {media.url}: "
            "back the bucket up with its own tools (see docs/operations.md)"
        )
    return BackupReport(jobs, _copy_media(media.root, destination / MEDIA_FOLDER))


def _copy_database(source: Path, target: Path) -> int:
    with sqlite3.connect(source) as reading, sqlite3.connect(target) as writing:
        reading.backup(writing, pages=PAGES_PER_STEP)
        # The copy is a new deployment's: nothing of it is claimed by the replica it came from.
        writing.execute("UPDATE job SET claimed_by = NULL, lease_token = NULL, lease_expires_at = NULL")
        (jobs,) = writing.execute("SELECT COUNT(*) FROM job").fetchone()
    reading.close()
    writing.close()
    return int(jobs)


def _copy_media(root: Path, target: Path) -> int:
    copied = 0
    private_folder(target)
    for file in sorted(root.rglob("*")):
        if not file.is_file() or file.name.startswith(PARTIAL_PREFIX):
            continue
        copy = target / file.relative_to(root)
        private_folder(copy.parent)
        shutil.copyfile(file, copy)
        copy.chmod(PRIVATE_FILE_MODE)
        copied += 1
    return copied
