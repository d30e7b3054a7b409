"""Server settings: one plain dataclass, filled from flags and ``VOXPRINT_*`` variables by ``main``.

Secrets are deliberately not settings: the vendor API keys and ``VOXPRINT_AUTH_TOKEN`` are read
from the environment where they are used, so a settings object can be logged or shown without
leaking one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voxprint import rasterizer
from voxprint.common.addresses import DEFAULT_SERVER_ADDRESS
from voxprint.server.store import DEFAULT_LEASE_SECONDS, DEFAULT_POOL_SIZE

MIB = 1024 * 1024


@dataclass(frozen=True)
class Settings:
    listen: str = DEFAULT_SERVER_ADDRESS
    data_dir: Path = field(default_factory=lambda: Path("voxprint-data"))
    # "sqlite:///path.db" or "postgresql://user@host/db"; None = SQLite in data_dir.
    database_url: str | None = None
    # Connections this replica may hold at once (a LISTEN connection comes on top on PostgreSQL).
    db_pool_size: int = DEFAULT_POOL_SIZE
    # "file:///path" or "s3://bucket/prefix" (boto3, configured by the AWS_* environment);
    # None = data_dir/media.
    media_url: str | None = None
    # How long a claim holds without a heartbeat; a dead replica's jobs are taken over after it.
    lease_seconds: float = DEFAULT_LEASE_SECONDS
    workers: int = 2
    max_upload_bytes: int = 25 * MIB
    # Longer recordings are refused at Submit (and never decoded past this point).
    max_audio_seconds: float = 60.0
    # HOST:PORT of the Prometheus /metrics endpoint; None = no metrics endpoint.
    metrics_listen: str | None = None
    # PEM files; with both set the server speaks TLS instead of plaintext.
    tls_cert: Path | None = None
    tls_key: Path | None = None
    default_width: int = rasterizer.DEFAULT_WIDTH
    default_dither: str = rasterizer.DEFAULT_DITHER

    # Backend choice, a name in server.transcribers.TRANSCRIBERS / server.illustrators.ILLUSTRATORS;
    # "auto" picks a cloud backend when its key is in the environment.
    transcriber: str = "auto"
    illustrator: str = "auto"
    # Options of backends registered without a field here, by option name (server.backends).
    backend_options: Mapping[str, Any] = field(default_factory=dict)

    # Offline speech-to-text: "base", "tiny.en" or a CTranslate2 model directory;
    # None = the default, base (server/transcribers/whisper.py).
    whisper_model: str | None = None

    # Retries of transient cloud failures (connection errors, 408, 429, 5xx), both cloud backends:
    # tries in all (1 = never retry), and the first wait, which doubles after each retry.
    cloud_retry_attempts: int = 4
    cloud_retry_initial_delay: float = 1.0

    assemblyai_base_url: str = "https://api.assemblyai.com"
    assemblyai_poll_interval: float = 1.0
    assemblyai_timeout: float = 300.0

    gemini_base_url: str | None = None
    gemini_model: str = "gemini-2.5-flash-image"
    gemini_aspect_ratio: str = "3:4"
    gemini_timeout: float = 120.0
    # A str.format template with one field, {transcript}; None = the built-in printable prompt.
    image_prompt: str | None = None

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'voxprint.db').resolve()}"
