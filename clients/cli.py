"""``voxprint``: submit recordings, follow jobs, fetch results and print them, from a shell."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import sys
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO

import click
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from voxprint import rasterizer
from voxprint.common.enums import Dither, Format, JobState, enum_labels
from voxprint.v1 import voxprint_pb2

from . import escpos, printers
from ._cli_output import (
    LiveFollow,
    fetch_json,
    job_table,
    jobs_table,
    message_json,
    print_trimmed,
    problem_text,
    raster_json,
    shown,
    single_line,
)
from ._requests import ALL_JOBS_PAGE_SIZE
from .catprinter import scan as catprinter_scan
from .channel import DEFAULT_TARGET, ChannelConfig, TokenWouldLeak, probe_transport, read_token_file
from .client import VoxprintClient
from .errors import (
    DeadlineExceeded,
    InvalidArgument,
    NotFound,
    NotReady,
    PermissionDenied,
    TooLarge,
    Unauthenticated,
    Unavailable,
    VoxprintError,
)

EXIT_JOB_FAILED = 1
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3
EXIT_NOT_FOUND = 4
EXIT_NOT_READY = 5
EXIT_LOCAL = 6
EXIT_AUTH = 7
EXIT_TIMEOUT = 8
EXIT_SERVER_ERROR = 9
EXIT_INTERRUPTED = 130

#: Every exit code and its meaning, shown by ``voxprint --help``; docs/cli.md repeats this table.
EXIT_CODES = (
    (0, "success"),
    (EXIT_JOB_FAILED, "the job failed (or has no picture when one was asked for)"),
    (EXIT_USAGE, "usage error, or the server rejected the request as invalid"),
    (EXIT_UNAVAILABLE, "server unreachable or unavailable (also: TLS on one side only)"),
    (EXIT_NOT_FOUND, "no such job"),
    (EXIT_NOT_READY, "result not available: job still running, or its image step failed"),
    (EXIT_LOCAL, "printer or local file error"),
    (EXIT_AUTH, "unauthenticated (missing or wrong token) or permission denied"),
    (EXIT_TIMEOUT, "timed out (--timeout, --wait-timeout)"),
    (EXIT_SERVER_ERROR, "any other server error"),
    (EXIT_INTERRUPTED, "interrupted (Ctrl-C)"),
)
EXIT_CODES_HELP = "\b\nExit codes:\n" + "\n".join(f"  {code:>3}  {meaning}" for code, meaning in EXIT_CODES)

#: What to say when the client and the server disagree about TLS (see channel.probe_transport).
TRANSPORT_MISMATCH = {
    "tls": "the server speaks TLS; pass --tls-ca PEM (or --tls for a publicly trusted certificate)",
    "plaintext": "the server speaks plaintext; drop --tls-ca/--tls",
}

#: File names ``fetch`` uses when -o is not given.
DEFAULT_OUTPUT_NAMES = {"png": "{id}.png", "raw": "{id}.bin", "preview": "{id}-preview.png"}


class CliFailure(Exception):
    """Ends the command with a one-line message and an exit code."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def exit_code_for(error: Exception) -> int:
    if isinstance(error, CliFailure):
        return error.exit_code
    if isinstance(error, NotFound):
        return EXIT_NOT_FOUND
    if isinstance(error, NotReady):
        return EXIT_NOT_READY
    if isinstance(error, (InvalidArgument, TooLarge, TokenWouldLeak)):
        return EXIT_USAGE
    if isinstance(error, Unavailable):
        return EXIT_UNAVAILABLE
    if isinstance(error, (Unauthenticated, PermissionDenied)):
        return EXIT_AUTH
    if isinstance(error, DeadlineExceeded):
        return EXIT_TIMEOUT
    if isinstance(error, VoxprintError):
        return EXIT_SERVER_ERROR
    return EXIT_LOCAL  # PrinterError, OSError


def one_line(error: Exception) -> str:
    if isinstance(error, VoxprintError):
        text = f"{error.message} ({error.code.name.lower().replace('_', ' ')})"
    elif isinstance(error, OSError) and error.filename:
        text = f"{error.filename}: {error.strerror}"
    else:
        text = str(error)
    return single_line(text)


CONNECTION_OPTIONS: list[tuple[str, dict[str, Any]]] = [
    (
        "--server",
        {
            "metavar": "HOST:PORT",
            "envvar": "VOXPRINT_SERVER",
            "default": DEFAULT_TARGET,
            "help": "The voxprint server.",
        },
    ),
    (
        "--token",
        {
            "metavar": "TOKEN",
            "envvar": "VOXPRINT_TOKEN",
            "help": "Sent as 'authorization: Bearer TOKEN' metadata (shows in `ps`: prefer --token-file).",
        },
    ),
    (
        "--token-file",
        {
            "metavar": "FILE",
            "envvar": "VOXPRINT_TOKEN_FILE",
            "type": click.Path(exists=True, dir_okay=False, path_type=Path),
            "help": "Read the token from the first line of FILE.",
        },
    ),
    (
        "--allow-plaintext-token",
        {
            "is_flag": True,
            "envvar": "VOXPRINT_ALLOW_PLAINTEXT_TOKEN",
            "help": "Send the token without TLS to another machine (anyone on the way can read it).",
        },
    ),
    (
        "--tls-ca",
        {
            "metavar": "PEM",
            "envvar": "VOXPRINT_TLS_CA",
            "type": click.Path(exists=True, dir_okay=False, path_type=Path),
            "help": "Use TLS, trusting this root certificate.",
        },
    ),
    ("--tls", {"is_flag": True, "help": "Use TLS with the system's root certificates."}),
    (
        "--timeout",
        {
            "metavar": "SECONDS",
            "type": click.FloatRange(min=0, min_open=True),
            "default": 30.0,
            "help": "Deadline for each request.",
        },
    ),
]


def connection_options(command: Callable[..., Any], *, shared: bool) -> Callable[..., Any]:
    """The connection flags, on the group (``shared``: with env variables and defaults) or on a
    subcommand (no defaults, so an unset flag there leaves the group's value in force)."""
    for name, spec in reversed(CONNECTION_OPTIONS):
        spec = dict(spec)
        if shared:
            spec.update(show_default=True, show_envvar=True)
        else:
            spec.pop("envvar", None)
            spec["default"] = None
        command = click.option(name, **spec)(command)
    return command


def channel_config(
    server: str | None,
    token: str | None,
    token_file: Path | None,
    allow_plaintext_token: bool | None,
    tls_ca: Path | None,
    tls: bool | None,
    timeout: float | None,
    base: ChannelConfig | None = None,
) -> ChannelConfig:
    try:
        token = token or (read_token_file(token_file) if token_file else None)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--token-file") from None
    values: dict[str, Any] = {
        "target": server,
        "token": token,
        "allow_plaintext_token": allow_plaintext_token or None,
        "root_certificates": tls_ca.read_bytes() if tls_ca else None,
        "tls": tls or None,
        "timeout": timeout,
    }
    return replace(base or ChannelConfig(), **{key: value for key, value in values.items() if value is not None})


@dataclass
class Cli:
    """What every subcommand shares: the connection, the --debug switch, where output goes."""

    config: ChannelConfig
    debug: bool
    out: Console
    err: Console


class VoxprintGroup(click.Group):
    """Turns expected failures into one ``voxprint: error: …`` line and an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            ctx.exit(EXIT_INTERRUPTED)
        except (VoxprintError, printers.PrinterError, CliFailure, TokenWouldLeak, OSError) as error:
            if ctx.obj is not None and ctx.obj.debug:
                raise
            click.echo(f"voxprint: error: {one_line(error)}", err=True)
            ctx.exit(exit_code_for(error))


@click.group(cls=VoxprintGroup, epilog=EXIT_CODES_HELP, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, envvar="VOXPRINT_DEBUG", help="Show tracebacks instead of one-line errors.")
@functools.partial(connection_options, shared=True)
@click.version_option(package_name="voxprint")
@click.pass_context
def cli(ctx: click.Context, /, debug: bool, **connection: Any) -> None:
    """Turn a spoken phrase into a picture on a thermal printer.

    \b
    Quick start (server on 127.0.0.1:50051):
      voxprint submit kitchen.wav --png pic.png --preview dots.png
      voxprint print JOB_ID --to tcp://192.168.1.50:9100
      voxprint rasterize photo.jpg -o photo.bin --preview photo-dots.png

    The connection flags work here or after any command
    (`voxprint --server hub:50051 list` = `voxprint list --server hub:50051`).
    Run `voxprint COMMAND --help` for examples.
    """
    # Messages on stderr stay one line each (the terminal wraps them), so they can be grepped.
    ctx.obj = Cli(channel_config(**connection), debug, results_console(), Console(stderr=True, soft_wrap=True))


#: How wide results are laid out in a file or a pipe: rich needs a width, and this one is wider
#: than any line voxprint prints, so none is cut or wrapped.
UNCUT_WIDTH = 1_000_000


def results_console() -> Console:
    """stdout. On a terminal, or when COLUMNS says how wide to be, lines fit that width; into a file
    or a pipe they stay whole, rather than fit what rich would guess there (80 columns, or the
    width of whatever terminal stdin or stderr is)."""
    if sys.stdout.isatty() or os.environ.get("COLUMNS", "").isdigit():
        return Console()
    return Console(width=UNCUT_WIDTH)


def server_options(command: Callable[..., None]) -> Callable[..., None]:
    """Adds the connection flags and hands the command a connected ``client`` first."""

    @functools.wraps(command)
    def with_client(
        *args: Any,
        server: str | None,
        token: str | None,
        token_file: Path | None,
        allow_plaintext_token: bool | None,
        tls_ca: Path | None,
        tls: bool | None,
        timeout: float | None,
        **kwargs: Any,
    ) -> None:
        config = channel_config(
            server, token, token_file, allow_plaintext_token, tls_ca, tls, timeout, base=cli_state().config
        )
        with VoxprintClient(config) as client:
            try:
                command(client, *args, **kwargs)
            except Unavailable as error:
                raise CliFailure(
                    f"voxprint server {config.target} unavailable: {why_unavailable(config, error)}", EXIT_UNAVAILABLE
                ) from error
            except Unauthenticated as error:
                hint = "" if config.token else "; pass --token TOKEN or set VOXPRINT_TOKEN"
                raise CliFailure(one_line(error) + hint, EXIT_AUTH) from error

    return connection_options(with_client, shared=False)


def why_unavailable(config: ChannelConfig, error: Unavailable) -> str:
    """gRPC's reason, unless the server turns out to speak TLS when we did not (or the reverse):
    gRPC words that as "Socket closed" or a failed handshake, so ask the server which it speaks."""
    spoken = probe_transport(config.target)
    if spoken is not None and (spoken == "tls") != config.uses_tls:
        return TRANSPORT_MISMATCH[spoken]
    return one_line(error)


json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print the reply on stdout as grpcurl would (proto3 canonical JSON)."
)
output_path = click.Path(dir_okay=False, path_type=Path)


def cli_state() -> Cli:
    state = click.get_current_context().find_object(Cli)
    if state is None:
        raise RuntimeError("a voxprint command runs inside the voxprint group, which sets up its state")
    return state


def print_json(document: Any) -> None:
    click.echo(json.dumps(document, ensure_ascii=False))


def upload(client: VoxprintClient, recording: Path, show_progress: bool, **submit_options: Any) -> voxprint_pb2.Job:
    source: Path | BinaryIO = sys.stdin.buffer if str(recording) == "-" else recording
    filename = "stdin" if str(recording) == "-" else None  # the server sniffs the format
    # The bar redraws itself in place, which only a terminal can show: elsewhere it would print
    # nothing but the empty line rich ends a non-interactive progress display with.
    if not show_progress or not cli_state().err.is_interactive:
        return client.submit(source, filename=filename, **submit_options)
    columns = (TextColumn("uploading"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, console=cli_state().err, transient=True) as progress:
        task = progress.add_task("upload", total=None)
        return client.submit(
            source,
            filename=filename,
            progress=lambda sent, total: progress.update(task, completed=sent, total=total),
            **submit_options,
        )


def follow(
    client: VoxprintClient,
    job_id: str,
    *,
    timeout: float | None,
    live: bool,
    on_event: Callable[[voxprint_pb2.JobEvent], None] | None = None,
) -> voxprint_pb2.Job:
    """Watch the job to its end, showing each stage (``live``) and/or handing events on."""
    view = LiveFollow(cli_state().err) if live else None
    job = None
    with view or nullcontext():
        for event in client.watch(job_id, timeout=timeout):
            job = event.job
            if view is not None:
                view.show(job)
            if on_event is not None:
                on_event(event)
        assert job is not None, "a watch ends with a terminal job"
        if view is not None:
            view.finish(job)
    return job


def check_outcome(job: voxprint_pb2.Job, *, wants_picture: bool) -> None:
    """Fail for a FAILED job, or for a missing picture when the caller asked for one."""
    problem = problem_text(job)
    if job.state == voxprint_pb2.JOB_STATE_FAILED or (problem and wants_picture):
        raise CliFailure(problem or "job failed", EXIT_JOB_FAILED)
    if problem:
        cli_state().err.print(f"[yellow]warning:[/] {shown(problem)}")


def write_result(client: VoxprintClient, job_id: str, format: str, path: Path) -> voxprint_pb2.FetchResponse:
    response = client.fetch(job_id, format)
    if str(path) == "-":
        sys.stdout.buffer.write(response.data)
        sys.stdout.buffer.flush()
    else:
        path.write_bytes(response.data)
    return response


def new_job_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options of every command that makes a job (submit, draw): its results, how to print it,
    idempotency, and how long to follow it."""
    options = [
        click.option("--png", type=output_path, help="Write the generated picture here."),
        click.option("--raw", type=output_path, help="Write the LSB-first printer raster here."),
        click.option("--preview", type=output_path, help="Write a PNG of the 1-bit raster here."),
        click.option(
            "--width",
            type=click.IntRange(8, rasterizer.MAX_WIDTH),
            help="Printer width in dots (384 = 58 mm, 576 = 80 mm).",
        ),
        click.option("--dither", type=click.Choice(enum_labels(Dither)), help="Dithering algorithm."),
        click.option("--request-id", help="Idempotency key: repeating the command with it returns the same job."),
        click.option("--no-wait", is_flag=True, help="Print the job as soon as it is queued; do not follow it."),
        click.option(
            "--wait-timeout",
            type=click.FloatRange(min=0, min_open=True),
            default=600.0,
            show_default=True,
            metavar="SECONDS",
            help="Give up following the job after this long.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def requested_outputs(png: Path | None, raw: Path | None, preview: Path | None, no_wait: bool) -> dict[str, Path]:
    outputs = {name: path for name, path in (("png", png), ("raw", raw), ("preview", preview)) if path}
    if no_wait and outputs:
        raise click.UsageError("--no-wait cannot write --png/--raw/--preview: the job is not done yet")
    return outputs


def see_job_through(
    client: VoxprintClient,
    job: voxprint_pb2.Job,
    outputs: dict[str, Path],
    *,
    no_wait: bool,
    wait_timeout: float,
    as_json: bool,
) -> None:
    """Print the new job (``no_wait``), or follow it to its end and write the results asked for."""
    interactive = not as_json
    if no_wait:
        if as_json:
            print_json(message_json(job))
        else:
            click.echo(job.id)  # alone on stdout, so `id=$(voxprint submit a.wav --no-wait)` works
        return
    if interactive:
        cli_state().err.print(f"job [bold]{job.id}[/]")
    job = follow(client, job.id, timeout=wait_timeout, live=interactive)
    if as_json:
        print_json(message_json(job))
    check_outcome(job, wants_picture=bool(outputs))
    for name, path in outputs.items():
        write_result(client, job.id, name, path)
        if interactive:
            cli_state().err.print(f"wrote {name} → {path}")


@cli.command()
@click.argument("recording", type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path))
@new_job_options
@json_option
@server_options
def submit(
    client: VoxprintClient,
    recording: Path,
    png: Path | None,
    raw: Path | None,
    preview: Path | None,
    width: int | None,
    dither: str | None,
    request_id: str | None,
    no_wait: bool,
    wait_timeout: float,
    as_json: bool,
) -> None:
    """Upload RECORDING (WAV, FLAC, OGG, MP3…; '-' for stdin) and follow it to the end.

    Shows an upload bar, then each stage with the time since the upload and the
    transcript the moment it exists. Exits 0 when the job completes.

    \b
    Examples:
      voxprint submit kitchen.wav
      voxprint submit kitchen.wav --png pic.png --raw pic.bin --preview dots.png
      voxprint submit kitchen.wav --width 576 --dither atkinson --json
      arecord -f S16_LE -r 16000 -d 4 -t wav - | voxprint submit -
      id=$(voxprint submit kitchen.wav --no-wait) && voxprint watch $id
    """
    outputs = requested_outputs(png, raw, preview, no_wait)
    job = upload(client, recording, not as_json, request_id=request_id, width=width, dither=dither)
    see_job_through(client, job, outputs, no_wait=no_wait, wait_timeout=wait_timeout, as_json=as_json)


@cli.command()
@click.argument("phrase")
@new_job_options
@json_option
@server_options
def draw(
    client: VoxprintClient,
    phrase: str,
    png: Path | None,
    raw: Path | None,
    preview: Path | None,
    width: int | None,
    dither: str | None,
    request_id: str | None,
    no_wait: bool,
    wait_timeout: float,
    as_json: bool,
) -> None:
    """Draw PHRASE (no recording, no speech-to-text) and follow the job to the end.

    The phrase is the job's transcript; the picture and the raster follow as for a
    recording. Exits 0 when the job completes.

    \b
    Examples:
      voxprint draw "a dragon eating ice cream"
      voxprint draw "two penguins on the beach" --preview dots.png
      voxprint draw "a red balloon" --no-wait --request-id balloon-1
    """
    outputs = requested_outputs(png, raw, preview, no_wait)
    job = client.draw(phrase, request_id=request_id, width=width, dither=dither)
    see_job_through(client, job, outputs, no_wait=no_wait, wait_timeout=wait_timeout, as_json=as_json)


@cli.command()
@click.argument("job_id")
@click.option(
    "--wait-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    metavar="SECONDS",
    help="Give up after this long (default: follow until the job ends).",
)
@click.option("--json", "as_json", is_flag=True, help="Print each event as one line of proto3 canonical JSON.")
@server_options
def watch(client: VoxprintClient, job_id: str, wait_timeout: float | None, as_json: bool) -> None:
    """Follow JOB_ID live until it completes or fails (reconnects if the stream drops).

    \b
    Examples:
      voxprint watch 5a0b3c1e-8f4d-4e2a-9c77-0d8b1f2e3a45
      voxprint watch $ID --json | jq -c '{state: .job.state, transcript: .job.transcript}'
    """
    job = follow(
        client,
        job_id,
        timeout=wait_timeout,
        live=not as_json,
        on_event=(lambda event: print_json(message_json(event))) if as_json else None,
    )
    check_outcome(job, wants_picture=False)


@cli.command()
@click.argument("job_id")
@json_option
@server_options
def get(client: VoxprintClient, job_id: str, as_json: bool) -> None:
    """Show JOB_ID: state, transcript, errors, sizes, backends, timings.

    \b
    Examples:
      voxprint get $ID
      voxprint get $ID --json | jq -r .transcript
    """
    job = client.get(job_id)
    if as_json:
        print_json(message_json(job))
    else:
        print_trimmed(cli_state().out, job_table(job))


@cli.command(name="list")
@click.option("--state", type=click.Choice(enum_labels(JobState)), help="Only jobs in this state.")
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="At most this many, over as many pages as it takes (0 = all).",
)
@click.option("--page-token", default="", metavar="TOKEN", help="Continue a listing where an earlier one stopped.")
@json_option
@server_options
def list_jobs(client: VoxprintClient, state: str | None, limit: int, page_token: str, as_json: bool) -> None:
    """List jobs, newest first: id, state, age, transcript and, for jobs that
    failed or have no picture, the error. Long texts are cut to fit the terminal
    (or COLUMNS, if set), never in a file or a pipe.

    \b
    Examples:
      voxprint list
      voxprint list --state failed --limit 0
      voxprint list --limit 50 --page-token TOKEN     # the next 50, as the last listing said
      voxprint list --json | jq -r '.jobs[].id'
    """
    listing = list_pages(client, state, limit, page_token)
    if as_json:
        print_json(message_json(listing))
        return
    if listing.jobs:
        out = cli_state().out
        print_trimmed(out, jobs_table(listing.jobs, now=time.time(), width=out.width))
    else:
        cli_state().err.print(f"no {state} jobs" if state else "no jobs")
    if listing.next_page_token:
        same_listing = (f"--state {state} " if state else "") + f"--limit {limit} "
        cli_state().err.print(f"[dim]more: voxprint list {same_listing}--page-token {listing.next_page_token}[/]")


def list_pages(client: VoxprintClient, state: str | None, limit: int, page_token: str) -> voxprint_pb2.ListJobsResponse:
    """Up to ``limit`` jobs (0 = all) from ``page_token`` on, as one reply whose ``next_page_token``
    continues exactly after the last job in it: no page asks for more jobs than are still wanted."""
    listing = voxprint_pb2.ListJobsResponse(next_page_token=page_token)
    while True:
        wanted = limit - len(listing.jobs) if limit else ALL_JOBS_PAGE_SIZE
        page = client.list(min(wanted, ALL_JOBS_PAGE_SIZE), listing.next_page_token, state)
        listing.jobs.extend(page.jobs)
        listing.next_page_token = page.next_page_token
        if not page.next_page_token or len(listing.jobs) == limit:
            return listing


@cli.command()
@click.argument("job_id")
@click.option(
    "--format",
    "format_name",
    type=click.Choice(enum_labels(Format)),
    required=True,
    help="png: the picture; raw: the LSB-first printer raster; preview: PNG of the raster.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=Path),
    help="Where to write ('-' = stdout). Default: JOB_ID.png, JOB_ID.bin or JOB_ID-preview.png.",
)
@json_option
@server_options
def fetch(client: VoxprintClient, job_id: str, format_name: str, output: Path | None, as_json: bool) -> None:
    """Download a result of JOB_ID.

    \b
    Examples:
      voxprint fetch $ID --format png -o picture.png
      voxprint fetch $ID --format raw -o - | xxd | head
      voxprint fetch $ID --format preview --json
    """
    if as_json and str(output) == "-":
        raise click.UsageError("--json and -o - would both write to stdout; pick one")
    path = output or Path(DEFAULT_OUTPUT_NAMES[format_name].format(id=job_id))
    response = write_result(client, job_id, format_name, path)
    if as_json:
        print_json(fetch_json(response, str(path)))
    elif str(path) != "-":
        size = f"{response.width}×{response.height}, {len(response.data)} bytes"
        cli_state().err.print(f"wrote {format_name} ({size}) → {path}")


@cli.command(name="print")
@click.argument("job_id")
@click.option(
    "--to",
    "destination",
    required=True,
    metavar="tcp://HOST[:PORT] | PATH | catprinter://ADDRESS?model=MODEL",
    help="A network printer's raw port (9100 by default), a device like /dev/usb/lp0, a file, or a "
    "Bluetooth cat printer (`voxprint printers scan` lists them; catprinter+file:///PATH?model=MODEL "
    "keeps its bytes).",
)
@click.option(
    "--band-rows",
    type=click.IntRange(1, 0xFFFF),
    default=escpos.DEFAULT_BAND_ROWS,
    show_default=True,
    help="ESC/POS: rows per GS v 0 band; lower it if your printer drops lines.",
)
@click.option(
    "--feed",
    type=click.IntRange(0, 255),
    default=escpos.DEFAULT_FEED_LINES,
    show_default=True,
    help="ESC/POS: blank lines fed after the picture.",
)
@click.option("--cut", is_flag=True, help="ESC/POS: cut the paper afterwards (printers with a cutter).")
@click.option(
    "--printer-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=printers.DEFAULT_TIMEOUT,
    show_default=True,
    metavar="SECONDS",
    help="Give up on an unresponsive network printer.",
)
@server_options
def print_job(
    client: VoxprintClient, job_id: str, destination: str, band_rows: int, feed: int, cut: bool, printer_timeout: float
) -> None:
    """Print JOB_ID's picture on an ESC/POS receipt printer or a Bluetooth cat printer.

    Fetches the raster and sends it as ESC/POS (ESC @, GS v 0 raster bands,
    MSB-first, 1 = black, then a feed) or as cat printer commands (one row
    command per raster row; energy and speed come from the address).

    \b
    Examples:
      voxprint print $ID --to tcp://192.168.1.50:9100
      voxprint print $ID --to /dev/usb/lp0 --cut
      voxprint print $ID --to job.escpos        # keep the bytes; cat job.escpos > /dev/usb/lp0
      voxprint print $ID --to 'catprinter://AA:BB:CC:DD:EE:FF?model=GB01'
      voxprint print $ID --to 'catprinter://AA:BB:CC:DD:EE:FF?model=GB01&energy=17500'   # darker
    """
    target = printers.parse_destination(destination)
    raster = client.fetch(job_id, voxprint_pb2.FORMAT_RAW)
    stream = printers.encode(raster, target, printers.EscPosOptions(band_rows=band_rows, feed_lines=feed, cut=cut))
    asyncio.run(printers.deliver(stream, target, timeout=printer_timeout))
    cli_state().err.print(
        f"sent {raster.width}×{raster.height} dots ({len(stream)} bytes of {target.language}) → {target}"
    )


@cli.group(name="printers")
def printer_commands() -> None:
    """Find printers: `voxprint printers scan` lists the Bluetooth cat printers in range."""


@printer_commands.command()
@click.option(
    "--seconds",
    type=click.FloatRange(min=0, min_open=True),
    default=catprinter_scan.DEFAULT_SECONDS,
    show_default=True,
    help="How long to listen for printers' advertisements.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array of the printers found.")
def scan(seconds: float, as_json: bool) -> None:
    """List the Bluetooth cat printers in range, each with the address to print to.

    Switch the printer on and disconnect it from any phone app first: a
    connected printer stops advertising. Needs Bluetooth (BlueZ on Linux).

    \b
    Examples:
      voxprint printers scan
      voxprint print $ID --to "$(voxprint printers scan --json | jq -r '.[0].destination')"
    """
    found = asyncio.run(catprinter_scan.find_printers(seconds))
    if as_json:
        print_json([found_printer_json(printer) for printer in found])
    else:
        for printer in found:
            where = printer.destination or f"catprinter://{printer.address}?model=MODEL (model unknown)"
            # Anyone nearby names their device: its name must not drive the terminal.
            cli_state().out.print(f"{shown(printer.name or '?'):<8} {printer.address}  {printer.rssi:>4} dBm  {where}")
    if not found:
        cli_state().err.print(
            f"no cat printers heard in {seconds:g} s: is one switched on, near, and not connected to a phone?"
        )


def found_printer_json(printer: catprinter_scan.FoundPrinter) -> dict[str, Any]:
    return {
        "name": printer.name,
        "address": printer.address,
        "model": printer.model.name if printer.model else None,
        "rssi": printer.rssi,
        "destination": str(printer.destination) if printer.destination else None,
    }


@cli.command()
@click.argument("image", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=output_path, required=True, help="Where to write the packed raster.")
@click.option("--preview", type=output_path, help="Also write a PNG of the dots as they will print.")
@click.option(
    "--width",
    type=int,
    default=rasterizer.DEFAULT_WIDTH,
    show_default=True,
    help="Dots per row: 384 (58 mm) or 576 (80 mm).",
)
@click.option("--dither", type=click.Choice(enum_labels(Dither)), default=rasterizer.DEFAULT_DITHER, show_default=True)
@click.option(
    "--bit-order",
    type=click.Choice(list(rasterizer.BIT_ORDERS)),
    default=rasterizer.DEFAULT_BIT_ORDER,
    show_default=True,
    help="lsb: cat printers and `fetch --format raw`; msb: ESC/POS and most other printers.",
)
@json_option
def rasterize(
    image: Path, output: Path, preview: Path | None, width: int, dither: str, bit_order: str, as_json: bool
) -> None:
    """Turn IMAGE into a 1-bit printer raster locally (no server needed).

    \b
    Examples:
      voxprint rasterize photo.jpg -o photo.bin --preview photo-dots.png
      voxprint rasterize logo.png -o logo.bin --width 576 --dither atkinson --bit-order msb
    """
    try:
        raster = rasterizer.rasterize(image.read_bytes(), width=width, dither=dither, bit_order=bit_order)
    except ValueError as error:
        raise CliFailure(f"{image}: {error}", EXIT_USAGE) from error
    output.write_bytes(raster.data)
    if preview:
        preview.write_bytes(rasterizer.preview(raster))
    if as_json:
        print_json(raster_json(raster, str(output)))
    else:
        cli_state().err.print(
            f"wrote {raster.width}×{raster.height} dots, {raster.bytes_per_row} bytes/row "
            f"({raster.bit_order}-first) → {output}"
        )


def main() -> None:
    cli(prog_name="voxprint")


if __name__ == "__main__":
    main()
