"""Translation between stored jobs and the public ``voxprint.v1`` messages, in one place."""

from __future__ import annotations

import datetime as dt

from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from voxprint import rasterizer
from voxprint.common.enums import parse_dither
from voxprint.server.store import Job, Stage, State
from voxprint.v1 import voxprint_pb2 as pb

STATES = {
    State.PENDING: pb.JOB_STATE_PENDING,
    State.TRANSCRIBING: pb.JOB_STATE_TRANSCRIBING,
    State.TRANSCRIBED: pb.JOB_STATE_TRANSCRIBED,
    State.GENERATING_IMAGE: pb.JOB_STATE_GENERATING_IMAGE,
    State.RASTERIZING: pb.JOB_STATE_RASTERIZING,
    State.COMPLETED: pb.JOB_STATE_COMPLETED,
    State.FAILED: pb.JOB_STATE_FAILED,
}
STATES_FROM_PROTO = {value: state for state, value in STATES.items()}

STAGES = {
    Stage.TRANSCRIBE: pb.STAGE_TRANSCRIBE,
    Stage.ILLUSTRATE: pb.STAGE_ILLUSTRATE,
    Stage.RASTERIZE: pb.STAGE_RASTERIZE,
}

DITHERS = {name: parse_dither(name) for name in rasterizer.DITHERS}
DITHERS_FROM_PROTO = {value: name for name, value in DITHERS.items()}


def _timestamp(moment: dt.datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment.replace(tzinfo=dt.timezone.utc))
    return stamp


def job_to_proto(job: Job) -> pb.Job:
    message = pb.Job(
        id=str(job.id),
        state=STATES[job.state_enum],
        transcript=job.transcript or "",
        error=job.error or "",
        error_stage=STAGES[Stage(job.error_stage)] if job.error_stage else pb.STAGE_UNSPECIFIED,
        request_id=job.request_id or "",
        filename=job.filename,
        content_type=job.content_type,
        audio_size_bytes=job.audio_size,
        audio_duration_seconds=job.audio_duration,
        options=pb.PrintOptions(width=job.width, dither=DITHERS[job.dither]),
        backends=pb.Backends(transcriber=job.transcriber, illustrator=job.illustrator),
        timings=[
            pb.StageTiming(stage=STAGES[Stage(stage)], duration=_duration(seconds))
            for stage, seconds in job.stage_timings.items()
        ],
        created_at=_timestamp(job.created_at),
        updated_at=_timestamp(job.updated_at),
        version=job.version,
    )
    if (picture := job.stored_picture) is not None:
        message.image.CopyFrom(pb.ImageInfo(width=picture.width, height=picture.height, size_bytes=picture.size_bytes))
    if (shape := job.raster_shape) is not None:
        message.raster.CopyFrom(
            pb.RasterInfo(
                width=shape.width, height=shape.height, bytes_per_row=shape.bytes_per_row, size_bytes=shape.size_bytes
            )
        )
    return message


def _duration(seconds: float) -> Duration:
    duration = Duration()
    duration.FromNanoseconds(round(seconds * 1e9))
    return duration
