"""What the server stores is its own: the data dir, the database and the media are readable by the
server's user only (0700 folders, 0600 files), whatever the umask of whoever started it.

Recordings, transcripts and filenames are every tenant's private data; on a shared machine another
user must not be able to read them with sqlite3 or cat. Folders are closed as well as files, so
files an older voxprint wrote with wider modes are out of reach too.
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_FOLDER_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def private_folder(path: Path) -> Path:
    """``path`` as a folder only this user can enter, made (with its parents) if missing."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_FOLDER_MODE)
    os.chmod(path, PRIVATE_FOLDER_MODE)
    return path


def private_file(path: Path) -> Path:
    """``path`` as a file only this user can read and write, made empty if missing."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE_MODE))
    os.chmod(path, PRIVATE_FILE_MODE)
    return path
