"""How the ``voxprint`` CLI shows jobs: JSON documents, rich tables and the live follow view."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from voxprint.v1 import voxprint_pb2

from ._formats import JobState, Stage, enum_label

STATE_STYLES = {
    voxprint_pb2.JOB_STATE_COMPLETED: "green",
    voxprint_pb2.JOB_STATE_FAILED: "red",
}


def message_json(message: Message) -> dict[str, Any]:
    """A Job or JobEvent in protobuf's canonical JSON mapping (what ``grpcurl`` prints), with
    snake_case names and every field present, so scripts need no defaults."""
    return json_format.MessageToDict(
        message,
        preserving_proto_field_name=True,
        always_print_fields_with_no_presence=True,
        unquote_int64_if_possible=True,
    )


def state_text(job: voxprint_pb2.Job) -> str:
    label = enum_label(JobState, job.state)
    if job.state == voxprint_pb2.JOB_STATE_COMPLETED and job.error:
        return "[yellow]completed without picture[/]"
    style = STATE_STYLES.get(job.state)
    return f"[{style}]{label}[/]" if style else label


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
        ("id", escape(job.id)),
        ("state", state_text(job)),
        ("transcript", escape(job.transcript) or "[dim]—[/]"),
        ("error", escape(problem_text(job) or "") or "[dim]—[/]"),
        ("file", f"{escape(job.filename)} ({job.audio_size_bytes} bytes, {job.audio_duration_seconds:.1f} s)"),
        ("options", f"{job.options.width} dots, {enum_label(voxprint_pb2.Dither, job.options.dither)}"),
    ]
    if job.HasField("image"):
        rows.append(("image", f"{job.image.width}×{job.image.height} PNG, {job.image.size_bytes} bytes"))
    if job.HasField("raster"):
        rows.append(("raster", f"{job.raster.width}×{job.raster.height} dots, {job.raster.bytes_per_row} bytes/row"))
    rows += [
        ("backends", f"{escape(job.backends.transcriber)} → {escape(job.backends.illustrator)}"),
        ("timings", timings_text(job) or "[dim]—[/]"),
        ("created", job.created_at.ToDatetime().isoformat(timespec="seconds") + "Z"),
        ("request id", escape(job.request_id) or "[dim]—[/]"),
    ]
    for key, value in rows:
        table.add_row(key, value)
    return table


def jobs_table(jobs: Iterable[voxprint_pb2.Job]) -> Table:
    table = Table(box=None, header_style="bold")
    # Ids stay whole (they are copied into the next command); the transcript gives way.
    table.add_column("id", no_wrap=True, min_width=36)
    table.add_column("state", no_wrap=True, min_width=9)
    table.add_column("created", no_wrap=True, min_width=11)
    table.add_column("transcript", no_wrap=True, overflow="ellipsis", min_width=12)
    for job in jobs:
        table.add_row(
            job.id,
            state_text(job),
            job.created_at.ToDatetime().strftime("%m-%d %H:%M"),
            escape(job.transcript),
        )
    return table


class LiveFollow:
    """Prints one line per state change with the time since following began, and the
    transcript the moment it appears; a spinner shows the stage in progress on a terminal."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._started = time.monotonic()
        self._transcript_shown = False
        self._status = console.status("waiting for the server…")

    def __enter__(self) -> LiveFollow:
        self._status.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._status.stop()

    def show(self, job: voxprint_pb2.Job) -> None:
        elapsed = time.monotonic() - self._started
        self._console.print(f"[dim]{elapsed:6.1f} s[/]  {state_text(job)}")
        if job.transcript and not self._transcript_shown:
            self._transcript_shown = True
            self._console.print(f"          [bold]“{escape(job.transcript)}”[/]")
        self._status.update(f"{enum_label(JobState, job.state)}…")

    def finish(self, job: voxprint_pb2.Job) -> None:
        if timings := timings_text(job):
            self._console.print(f"[dim]          server time: {timings}[/]")
