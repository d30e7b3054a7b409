"""``voxprint-server --check-config``: would this configuration serve? One line per check, no secrets.

Each check builds or touches the real thing — the backends as the server would build them, a
connection to the database, a probe file written to and deleted from the media storage, the TLS
pair loaded together — and says what it found. Key values are never shown, only whether they are set.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from voxprint.server.app import tls_credentials
from voxprint.server.config import Settings
from voxprint.server.illustrators import create_illustrator
from voxprint.server.media import open_media
from voxprint.server.store.database import connect_database, redacted
from voxprint.server.store.migrations import MIGRATIONS, schema_version
from voxprint.server.transcribers import create_transcriber


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str

    def __str__(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'}  {self.name}: {self.detail}"


def check_config(settings: Settings) -> list[CheckResult]:
    return list(_run_all(settings))


def _run_all(settings: Settings) -> Iterator[CheckResult]:
    checks: list[tuple[str, Callable[[Settings], str]]] = [
        ("speech-to-text", _transcriber),
        ("images", _illustrator),
        ("database", _database),
        ("media", _media),
        ("tls", _tls),
    ]
    for name, check in checks:
        try:
            yield CheckResult(name, True, check(settings))
        except Exception as error:  # noqa: BLE001 - every failure is a finding to report
            # The first line says what failed; drivers add hints below it that a one-line check omits.
            yield CheckResult(name, False, (str(error) or type(error).__name__).splitlines()[0])


def _transcriber(settings: Settings) -> str:
    return f"{create_transcriber(settings).name} ready"


def _illustrator(settings: Settings) -> str:
    return f"{create_illustrator(settings).name} ready"


def _database(settings: Settings) -> str:
    url = settings.resolved_database_url
    sqlite_file = Path(urlsplit(url).path[1:]) if url.startswith("sqlite:") else None
    if sqlite_file is not None and not sqlite_file.exists():
        folder = next(parent for parent in sqlite_file.parents if parent.exists())
        if not os.access(folder, os.W_OK):
            raise PermissionError(f"{sqlite_file} does not exist and {folder} is not writable")
        return f"{url} will be created on start"
    db = connect_database(url, pool_size=1, application_name="voxprint check-config")
    try:
        with db.connection_context():
            version = schema_version(db)
    finally:
        db.close_all()
    state = (
        "up to date" if version == len(MIGRATIONS) else f"at version {version}; start migrates it to {len(MIGRATIONS)}"
    )
    return f"{redacted(url)} reachable, schema {state}"


def _media(settings: Settings) -> str:
    media = open_media(settings.media_url, settings.media_dir)
    probe = f"check-config/{uuid.uuid4().hex}"
    media.put(probe, b"voxprint")
    try:
        if media.get(probe) != b"voxprint":
            raise RuntimeError(f"{media.url} gave back other bytes than were written")
    finally:
        media.delete(probe)
    return f"{media.url} writable"


def _tls(settings: Settings) -> str:
    if settings.tls_cert is None and settings.tls_key is None:
        return "plaintext (no --tls-cert/--tls-key)"
    if settings.tls_cert is None or settings.tls_key is None:
        raise ValueError("TLS needs both --tls-cert and --tls-key")
    tls_credentials(settings.tls_cert, settings.tls_key)
    return f"{settings.tls_cert} matches {settings.tls_key}"
