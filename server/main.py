"""``voxprint-server``: flags and ``VOXPRINT_*`` variables → Settings → a server until SIGTERM.

The backend flags (``--transcriber``, ``--illustrator`` and each backend's own options) come from
the backend registries when the command runs, so a registered backend is a choice with its flags.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sqlite3
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click
import peewee

from voxprint.server.app import VoxprintServer
from voxprint.server.backends import Option, Registry
from voxprint.server.backup import BackupError, backup
from voxprint.server.check_config import check_config as run_checks
from voxprint.server.config import Settings
from voxprint.server.illustrators import ILLUSTRATORS
from voxprint.server.logs import configure_logging
from voxprint.server.media import MediaError
from voxprint.server.replica import DataDirInUse
from voxprint.server.transcribers import TRANSCRIBERS

STARTUP_ERRORS = (DataDirInUse, MediaError, ValueError, peewee.OperationalError, OSError)

defaults = Settings()
F = TypeVar("F", bound=Callable[..., Any])


REGISTRIES: tuple[Registry[Any], ...] = (TRANSCRIBERS, ILLUSTRATORS)


def _option(name: str, envvar: str, help: str, **kwargs: Any) -> Callable[[F], F]:
    return click.option(name, envvar=envvar, show_envvar=True, show_default=True, help=help, **kwargs)


def _choice(registry: Registry[Any]) -> click.Option:
    return click.Option(
        ["--" + registry.kind],
        envvar="VOXPRINT_" + registry.kind.upper(),
        show_envvar=True,
        show_default=True,
        default=getattr(defaults, registry.kind),
        type=click.Choice(registry.choices),
        help=registry.describe(),
    )


def _backend_option(option: Option) -> click.Option:
    return click.Option(
        [option.flag],
        envvar=option.envvar,
        show_envvar=True,
        show_default=option.initial is not None,
        default=option.initial,
        type=option.type,
        help=option.help,
    )


class ServerCommand(click.Command):
    """Reads the backend registries each time it parses or shows help, not once at import; hands
    ``voxprint-server backup ...`` to the backup command."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        arguments = list(sys.argv[1:] if args is None else args)
        if arguments[:1] == ["backup"]:
            name = f"{prog_name or 'voxprint-server'} backup"
            return backup_command.main(arguments[1:], name, complete_var, standalone_mode, **extra)
        return super().main(arguments, prog_name, complete_var, standalone_mode, **extra)

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        *own, help_option = super().get_params(ctx)
        backends: list[click.Parameter] = []
        for registry in REGISTRIES:
            backends += [_choice(registry), *map(_backend_option, registry.options())]
        return [*own, *backends, help_option]


@click.command(cls=ServerCommand, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@_option("--listen", "VOXPRINT_LISTEN", "HOST:PORT to serve gRPC on.", default=defaults.listen)
@_option(
    "--data-dir",
    "VOXPRINT_DATA_DIR",
    "Database and media folder.",
    default=str(defaults.data_dir),
    type=click.Path(file_okay=False, path_type=Path),
)
@_option(
    "--database",
    "VOXPRINT_DATABASE",
    "sqlite:///PATH or postgresql://USER[:PASSWORD]@HOST[:PORT]/DB (replicas share one); "
    "default: SQLite in the data dir.",
    default=None,
)
@_option(
    "--tls-cert",
    "VOXPRINT_TLS_CERT",
    "PEM certificate chain; with --tls-key, serve TLS.",
    default=None,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
)
@_option(
    "--tls-key",
    "VOXPRINT_TLS_KEY",
    "PEM private key for --tls-cert.",
    default=None,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
)
@_option(
    "--db-pool-size",
    "VOXPRINT_DB_POOL_SIZE",
    "Database connections this replica may hold at once (PostgreSQL adds one for LISTEN).",
    default=defaults.db_pool_size,
    type=click.IntRange(1, 100),
)
@_option(
    "--media-url",
    "VOXPRINT_MEDIA_URL",
    "Where recordings and pictures live: file:///path or s3://BUCKET/PREFIX (AWS_* environment); "
    "default: media/ in the data dir.",
    default=None,
)
@_option(
    "--lease-seconds",
    "VOXPRINT_LEASE_SECONDS",
    "How long a job claim holds without a heartbeat; a dead replica's jobs are taken over after it.",
    default=defaults.lease_seconds,
    type=click.FloatRange(min=1),
)
@_option(
    "--workers", "VOXPRINT_WORKERS", "Jobs processed at once.", default=defaults.workers, type=click.IntRange(1, 64)
)
@_option(
    "--max-upload-bytes",
    "VOXPRINT_MAX_UPLOAD_BYTES",
    "Largest accepted recording.",
    default=defaults.max_upload_bytes,
    type=click.IntRange(1),
)
@_option(
    "--max-audio-seconds",
    "VOXPRINT_MAX_AUDIO_SECONDS",
    "Longest accepted recording, in seconds.",
    default=defaults.max_audio_seconds,
    type=click.FloatRange(min=1),
)
@_option(
    "--cloud-retry-attempts",
    "VOXPRINT_CLOUD_RETRY_ATTEMPTS",
    "Tries in all for transient cloud failures (connection errors, 408, 429, 5xx); 1 = no retry.",
    default=defaults.cloud_retry_attempts,
    type=click.IntRange(1, 20),
)
@_option(
    "--cloud-retry-initial-delay",
    "VOXPRINT_CLOUD_RETRY_INITIAL_DELAY",
    "First wait before a retry, doubled each time (with jitter).",
    default=defaults.cloud_retry_initial_delay,
    type=click.FloatRange(min=0),
)
@_option(
    "--log-level",
    "VOXPRINT_LOG_LEVEL",
    "Logging level.",
    default="INFO",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
)
@_option(
    "--debug-loggers",
    "VOXPRINT_DEBUG_LOGGERS",
    "Other libraries' loggers to show at DEBUG, comma-separated (e.g. peewee,httpx); they stay at INFO "
    "otherwise, since their DEBUG lines carry user data such as SQL parameters.",
    default="",
)
@_option(
    "--log-format",
    "VOXPRINT_LOG_FORMAT",
    "text: one line per event; json: one JSON object per line (time, level, job_id, stage, duration, replica).",
    default="text",
    type=click.Choice(["text", "json"]),
)
@_option(
    "--metrics-listen",
    "VOXPRINT_METRICS_LISTEN",
    "HOST:PORT to serve Prometheus /metrics on; off unless given.",
    default=None,
)
@click.option(
    "--check-config",
    is_flag=True,
    help="Check the flags, backend keys (present, never shown), database, media and TLS pair; "
    "print one line per check and exit 0 if all pass, else 1.",
)
def main(log_level: str, debug_loggers: str, log_format: str, check_config: bool, **options) -> None:
    """Serve voxprint: spoken recordings in, pictures and thermal-printer rasters out.

    Runs on offline defaults (bundled Whisper tiny.en, local pictograms) with no API key and no
    network. Jobs left unfinished by a crash resume on start. Stop with Ctrl-C or SIGTERM.
    Set VOXPRINT_AUTH_TOKEN (one token) or VOXPRINT_AUTH_TOKENS_FILE (a tenant and its token a line)
    to require 'authorization: Bearer <token>' on every call. `voxprint-server backup PATH` copies a
    running server's data dir (see `voxprint-server backup --help`).
    """
    configure_logging(log_level, log_format, [name.strip() for name in debug_loggers.split(",") if name.strip()])
    settings = settings_from(options)
    if check_config:
        results = run_checks(settings)
        for result in results:
            click.echo(str(result))
        raise SystemExit(0 if all(result.ok for result in results) else 1)
    try:
        server = VoxprintServer(settings)
    except ValueError as error:
        # A backend that cannot be built (unknown name, cloud backend chosen without its key).
        raise click.UsageError(str(error)) from None
    try:
        asyncio.run(_serve(server))
    except STARTUP_ERRORS as error:
        # Said in one line, as an operator needs it: the data dir is taken, the database or the
        # media storage cannot be reached, a URL is malformed.
        raise click.ClickException(f"cannot start: {error}") from None


def settings_from(params: dict[str, Any]) -> Settings:
    """The command's parsed parameters as Settings: backend options without a Settings field go to
    ``backend_options``; parameters that are not settings (``--log-level``) are left out."""
    renamed = {"database": "database_url"}
    given = {renamed.get(name, name): value for name, value in params.items() if value is not None}
    backend_only = {option.name for registry in REGISTRIES for option in registry.options()}
    return Settings(
        **{name: value for name, value in given.items() if name in Settings.__dataclass_fields__},
        backend_options={
            name: value
            for name, value in given.items()
            if name in backend_only and name not in Settings.__dataclass_fields__
        },
    )


@click.command(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.argument("destination", metavar="PATH", type=click.Path(file_okay=False, path_type=Path))
@_option(
    "--data-dir",
    "VOXPRINT_DATA_DIR",
    "The running server's data dir.",
    default=defaults.data_dir,
    type=click.Path(file_okay=False, path_type=Path),
)
@_option("--database", "VOXPRINT_DATABASE", "The server's database URL, if not SQLite in the data dir.", default=None)
@_option("--media-url", "VOXPRINT_MEDIA_URL", "The server's media, if not in the data dir.", default=None)
def backup_command(destination: Path, **options: Any) -> None:
    """Copy a running server's SQLite database and local media into PATH, without stopping it.

    PATH (new or empty) becomes a data dir: `voxprint-server --data-dir PATH` serves every job the
    server had acknowledged when the backup began. PostgreSQL and S3 are backed up with their own
    tools (pg_dump, the bucket's): see docs/operations.md.
    """
    try:
        report = backup(settings_from(options), destination)
    except (BackupError, sqlite3.Error, OSError) as error:
        raise click.ClickException(f"backup failed: {error}") from None
    click.echo(f"backed up {report.jobs} job(s) and {report.media_files} media file(s) into {destination}")


async def _serve(server: VoxprintServer) -> None:
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    logging.getLogger(__name__).info("shutting down")
    await server.stop()


if __name__ == "__main__":
    main()
