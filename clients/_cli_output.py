"""How the ``voxprint`` CLI shows jobs: JSON documents, rich tables and the live follow view."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message
from rich.console import Console, JustifyMethod, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from voxprint import rasterizer
from voxprint.common.enums import JobState, Stage, enum_label
from voxprint.v1 import voxprint_pb2

STATE_STYLES = {
    voxprint_pb2.JOB_STATE_COMPLETED: "green",
    voxprint_pb2.JOB_STATE_FAILED: "red",
}
AGE_UNITS = (("d", 86400), ("h", 3600), ("min", 60))
#: The job list: columns from this one on (transcript, error) give way to fit the terminal.
FLEXIBLE_FROM = 3
COLUMN_GAP = 2
JUSTIFY: dict[str, JustifyMethod] = {"age": "right"}


def message_json(message: Message) -> dict[str, Any]:
    """``message`` in the proto3 canonical JSON mapping, exactly as ``grpcurl`` prints it:
    lowerCamelCase names, enum value names, 64-bit integers as strings, default values left out."""
    return json_format.MessageToDict(message)


def fetch_json(response: voxprint_pb2.FetchResponse, path: str) -> dict[str, Any]:
    """What ``fetch --json`` prints: the reply without its bytes (they went to ``path``), their size."""
    described = voxprint_pb2.FetchResponse()
    described.CopyFrom(response)
    described.ClearField("data")
    return {"path": path, "sizeBytes": str(len(response.data)), **message_json(described)}


def raster_json(raster: rasterizer.Raster, path: str) -> dict[str, Any]:
    """What ``rasterize --json`` prints: the raster described as a job's ``raster`` is, and its bit order."""
    info = voxprint_pb2.RasterInfo(
        width=raster.width, height=raster.height, bytes_per_row=raster.bytes_per_row, size_bytes=len(raster.data)
    )
    return {"path": path, "bitOrder": raster.bit_order, **message_json(info)}


def state_text(job: voxprint_pb2.Job, *, image_failed: str = "completed without picture") -> str:
    """The state, coloured; ``image_failed`` names a job that completed without its picture."""
    if job.state == voxprint_pb2.JOB_STATE_COMPLETED and job.error:
        return f"[yellow]{image_failed}[/]"
    label = enum_label(JobState, job.state)
    style = STATE_STYLES.get(job.state)
    return f"[{style}]{label}[/]" if style else label


def age_text(seconds: float) -> str:
    """'5 s ago', '3 min ago', '2 h ago', '4 d ago' (a clock slightly ahead of ours reads '0 s ago')."""
    whole = max(0, int(seconds))
    for unit, size in AGE_UNITS:
        if whole >= size:
            return f"{whole // size} {unit} ago"
    return f"{whole} s ago"


def timings_text(job: voxprint_pb2.Job) -> str:
    """'transcribe 0.81 s, illustrate 0.30 s, rasterize 0.02 s' (server-measured)."""
    return ", ".join(
        f"{enum_label(Stage, timing.stage)} {timing.duration.ToTimedelta().total_seconds():.2f} s"
        for timing in job.timings
    )


def problem_text(job: voxprint_pb2.Job) -> str | None:
    """One line saying what went wrong with the job, or None if nothing did."""
    if not job.error:
        return None
    stage = enum_label(Stage, job.error_stage) if job.error_stage else "job"
    if job.state == voxprint_pb2.JOB_STATE_FAILED:
        return f"job failed ({stage}): {job.error}"
    return f"no picture: the {stage} step failed: {job.error}"


def job_table(job: voxprint_pb2.Job) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    rows = [
        ("id", shown(job.id)),
        ("state", state_text(job)),
        ("transcript", shown(job.transcript) or "[dim]—[/]"),
        ("error", shown(problem_text(job) or "") or "[dim]—[/]"),
        ("file", f"{shown(job.filename)} ({job.audio_size_bytes} bytes, {job.audio_duration_seconds:.1f} s)"),
        ("options", f"{job.options.width} dots, {enum_label(voxprint_pb2.Dither, job.options.dither)}"),
    ]
    if job.HasField("image"):
        rows.append(("image", f"{job.image.width}×{job.image.height} PNG, {job.image.size_bytes} bytes"))
    if job.HasField("raster"):
        rows.append(("raster", f"{job.raster.width}×{job.raster.height} dots, {job.raster.bytes_per_row} bytes/row"))
    rows += [
        ("backends", f"{shown(job.backends.transcriber)} → {shown(job.backends.illustrator)}"),
        ("timings", timings_text(job) or "[dim]—[/]"),
        ("created", job.created_at.ToDatetime().isoformat(timespec="seconds") + "Z"),
        ("request id", shown(job.request_id) or "[dim]—[/]"),
    ]
    for key, value in rows:
        table.add_row(key, value)
    return table


def jobs_table(jobs: Sequence[voxprint_pb2.Job], now: float, width: int) -> Table:
    """One line per job in ``width`` columns; ``now`` (epoch seconds) is what ages count from.

    Ids, states and ages stay whole (ids get copied into the next command); the transcript and
    error columns share what is left and end in "…" when cut.
    """
    headers = ["id", "state", "age", "transcript"] + (["error"] if any(job.error for job in jobs) else [])
    rows = [job_cells(job, now)[: len(headers)] for job in jobs]
    natural = [max([len(header), *(row[column].cell_len for row in rows)]) for column, header in enumerate(headers)]
    fixed, flexible = natural[:FLEXIBLE_FROM], natural[FLEXIBLE_FROM:]
    available = width - sum(fixed) - COLUMN_GAP * (len(headers) - 1)
    widths = fixed + fair_shares(max(available, 0), flexible)

    table = Table(box=None, header_style="bold", pad_edge=False, padding=(0, COLUMN_GAP // 2))
    for header, column_width in zip(headers, widths, strict=True):
        justify = JUSTIFY.get(header, "left")
        table.add_column(header, width=column_width, no_wrap=True, overflow="ellipsis", justify=justify)
    for row in rows:
        table.add_row(*row)
    return table


def job_cells(job: voxprint_pb2.Job, now: float) -> list[Text]:
    """id, state, age, transcript and error of one job, each on one line."""
    return [
        Text(job.id),
        Text.from_markup(state_text(job, image_failed="no picture")),
        Text(age_text(now - job.created_at.ToMicroseconds() / 1e6)),
        Text(single_line(job.transcript)),
        Text(single_line(job.error), style="red"),
    ]


def fair_shares(available: int, wanted: Sequence[int]) -> list[int]:
    """Split ``available`` columns: each gets what it wants if that fits, else an equal share of
    what the narrower ones left."""
    shares = [0] * len(wanted)
    left = available
    for position, index in enumerate(sorted(range(len(wanted)), key=wanted.__getitem__)):
        shares[index] = min(wanted[index], left // (len(wanted) - position))
        left -= shares[index]
    return shares


def single_line(text: str) -> str:
    return literal(" ".join(text.split()))


def literal(text: str) -> str:
    """``text`` with its control characters written out (``\\x1b``, ``\\x00``, ``\\n``): a job's
    filename, transcript or error comes from whoever made the job, and must not drive the terminal
    (clear it, retitle it, hide what follows) when it is printed."""
    return "".join(char if char.isprintable() else char.encode("unicode_escape").decode() for char in text)


def shown(text: str) -> str:
    """``text`` as rich markup that prints exactly the characters of ``literal(text)``."""
    return escape(literal(text))


def print_trimmed(console: Console, renderable: RenderableType) -> None:
    """Print ``renderable`` with no line ending in whitespace: rich pads every table cell to its
    column's width, the last column's too, which leaves trailing spaces in files and diffs."""
    for segments in console.render_lines(renderable, pad=False):
        line = Text()
        for segment in segments:
            line.append(segment.text, segment.style)
        line.rstrip()
        console.print(line)


class LiveFollow:
    """Prints one line per state change with the time since the job was submitted, and the
    transcript the moment it appears; a spinner shows the stage in progress on a terminal."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._transcript_shown = False
        self._status = console.status("waiting for the server…")

    def __enter__(self) -> LiveFollow:
        self._status.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._status.stop()

    def show(self, job: voxprint_pb2.Job) -> None:
        # When the job reached this state, by its own timestamps: `watch` may attach long after
        # `submit --no-wait` (or the stream may resume), so time since following began means nothing.
        elapsed = (job.updated_at.ToMicroseconds() - job.created_at.ToMicroseconds()) / 1e6
        self._console.print(f"[dim]{elapsed:6.1f} s[/]  {state_text(job)}")
        if job.transcript and not self._transcript_shown:
            self._transcript_shown = True
            self._console.print(f"          [bold]“{shown(job.transcript)}”[/]")
        self._status.update(f"{enum_label(JobState, job.state)}…")

    def finish(self, job: voxprint_pb2.Job) -> None:
        if timings := timings_text(job):
            self._console.print(f"[dim]          server time: {timings}[/]")
