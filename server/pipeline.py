"""The voxprint pipeline: one job from its recording to a printer raster, top to bottom.

    recording ─▶ TRANSCRIBING ─▶ TRANSCRIBED ─▶ GENERATING_IMAGE ─▶ RASTERIZING ─▶ COMPLETED
                      │                               │                   │
                      └─▶ FAILED               COMPLETED with error ◀─────┘

Every arrow is a committed database write, fenced by this worker's claim (``server.store.queue``),
followed by an event to Watch subscribers. A job resumes from its last finished stage: a stored
transcript is never recomputed, a stored picture never regenerated. A failed transcription fails
the job; a failed picture (or raster) keeps the transcript and completes the job with the error
recorded, as the original design had it. A worker that loses its claim mid-stage stops at its
next write (``LeaseLost``) and removes the picture it stored under its own attempt's key.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from voxprint import rasterizer
from voxprint.server.illustrators import IllustrationError, Illustrator
from voxprint.server.images import BadImage, Picture, as_png
from voxprint.server.logs import job_fields
from voxprint.server.media import Media, MediaError
from voxprint.server.metrics import Metrics
from voxprint.server.store import Job, JobQueue, LeaseLost, Stage, State, StoredPicture
from voxprint.server.transcribers import Transcriber, TranscriptionError

log = logging.getLogger(__name__)

_Result = TypeVar("_Result")


# How each stage's failures begin in the job's error message.
FAILURE_PREFIX = {
    Stage.TRANSCRIBE: "speech-to-text failed",
    Stage.ILLUSTRATE: "image generation failed",
    Stage.RASTERIZE: "rasterizing failed",
}


class StageFailed(Exception):
    """A stage could not produce its result; ``str(error)`` is the job's error message."""


@dataclass
class Pipeline:
    queue: JobQueue
    media: Media
    transcriber: Transcriber
    illustrator: Illustrator
    # Called with every committed version of a job (the server forwards it to Watch streams).
    on_change: Callable[[Job], None]
    metrics: Metrics = field(default_factory=Metrics)

    def run(self, job: Job) -> Job:
        """Carry a claimed job from wherever it stopped to COMPLETED or FAILED."""
        transcript = job.transcript
        if transcript is None:
            job = self._advance(job, State.TRANSCRIBING, transcriber=self.transcriber.name)
            try:
                # Not assigned to ``transcript`` in the try: mypy would not narrow it there.
                heard, seconds = self._timed(Stage.TRANSCRIBE, job, self._transcribe)
            except StageFailed as failure:
                return self._fail(job, State.FAILED, Stage.TRANSCRIBE, failure)
            job = self._advance(
                job, State.TRANSCRIBED, transcript=heard, timings=_with_timing(job, Stage.TRANSCRIBE, seconds)
            )
            transcript = heard

        picture: Picture | StoredPicture | None = job.stored_picture
        if picture is None:
            job = self._advance(job, State.GENERATING_IMAGE, illustrator=self.illustrator.name)
            try:
                (fresh, image_key), seconds = self._timed(
                    Stage.ILLUSTRATE, job, lambda job: self._illustrate(job, transcript)
                )
            except StageFailed as failure:
                return self._fail(job, State.COMPLETED, Stage.ILLUSTRATE, failure)
            try:
                job = self._advance(
                    job,
                    State.RASTERIZING,
                    image_path=image_key,
                    image_width=fresh.width,
                    image_height=fresh.height,
                    image_size=len(fresh.png),
                    timings=_with_timing(job, Stage.ILLUSTRATE, seconds),
                )
            except LeaseLost:
                # Another worker holds the job now; its picture, not ours, is the one to publish.
                self.media.delete(image_key)
                raise
            picture = fresh
        elif job.state_enum != State.RASTERIZING:
            job = self._advance(job, State.RASTERIZING)

        try:
            raster, seconds = self._timed(Stage.RASTERIZE, job, lambda job: self._rasterize(job, picture))
        except StageFailed as failure:
            return self._fail(job, State.COMPLETED, Stage.RASTERIZE, failure)
        job = self.queue.complete_with_raster(
            job,
            raster.data,
            state=State.COMPLETED.value,
            raster_width=raster.width,
            raster_height=raster.height,
            raster_bytes_per_row=raster.bytes_per_row,
            timings=_with_timing(job, Stage.RASTERIZE, seconds),
        )
        self._announce(job)
        return job

    def _transcribe(self, job: Job) -> str:
        try:
            with self.media.local_copy(job.audio_path) as recording:
                transcript = self.transcriber.transcribe(recording).strip()
        except TranscriptionError as error:
            raise StageFailed(f"{FAILURE_PREFIX[Stage.TRANSCRIBE]}: {error}") from error
        if not transcript:
            raise StageFailed(f"{FAILURE_PREFIX[Stage.TRANSCRIBE]}: no speech found in the recording")
        return transcript

    def _illustrate(self, job: Job, transcript: str) -> tuple[Picture, str]:
        """The picture and where it is stored: storing is part of the stage, so a full disk is
        an image failure like any other, not a job left half-way."""
        try:
            picture = as_png(self.illustrator.illustrate(transcript))
        except (IllustrationError, BadImage) as error:
            raise StageFailed(f"{FAILURE_PREFIX[Stage.ILLUSTRATE]}: {error}") from error
        # Keyed by the attempt: a worker that lost its claim can never overwrite the winner's picture.
        image_key = f"image/{job.id}-{job.attempt}.png"
        self.media.put(image_key, picture.png)
        return picture, image_key

    def _rasterize(self, job: Job, picture: Picture | StoredPicture) -> rasterizer.Raster:
        """Rasterize the picture just made (already decoded), or, for a resumed job, the PNG
        stored earlier."""
        try:
            image = picture.image if isinstance(picture, Picture) else self.media.get(picture.path)
            return rasterizer.rasterize(image, width=job.width, dither=job.dither)
        except ValueError as error:
            raise StageFailed(f"{FAILURE_PREFIX[Stage.RASTERIZE]}: {error}") from error

    def _timed(self, stage: Stage, job: Job, work: Callable[[Job], _Result]) -> tuple[_Result, float]:
        started = time.perf_counter()
        try:
            result = work(job)
        except Exception as error:
            seconds = time.perf_counter() - started
            self.metrics.stage_finished(stage.value, seconds)
            failure = self._as_stage_failure(stage, job, error, seconds)
            self.metrics.stage_failed(stage.value, self._backend_of(stage), failure.__cause__ or failure)
            raise failure from failure.__cause__
        seconds = time.perf_counter() - started
        self.metrics.stage_finished(stage.value, seconds)
        log.info(
            "job %s %s done in %.2f s", job.id, stage.value, seconds, extra=job_fields(job.id, stage.value, seconds)
        )
        return result, seconds

    def _as_stage_failure(self, stage: Stage, job: Job, error: Exception, seconds: float) -> StageFailed:
        fields = job_fields(job.id, stage.value, seconds)
        if isinstance(error, StageFailed):
            log.info("job %s %s failed after %.2f s", job.id, stage.value, seconds, extra=fields)
            return error
        if isinstance(error, MediaError):
            log.warning("job %s %s: storage failed: %s", job.id, stage.value, error, extra=fields)
            failure = StageFailed(f"{FAILURE_PREFIX[stage]}: {error}")
        else:
            # A bug or an environment problem (disk full, ...): keep the traceback in the log, give
            # the user a message that names the stage without internals.
            log.exception("job %s %s crashed", job.id, stage.value, extra=fields)
            failure = StageFailed(f"internal error during {stage.value} ({type(error).__name__})")
        failure.__cause__ = error
        return failure

    def _backend_of(self, stage: Stage) -> str:
        names = {
            Stage.TRANSCRIBE: self.transcriber.name,
            Stage.ILLUSTRATE: self.illustrator.name,
            Stage.RASTERIZE: f"rasterizer:{rasterizer.implementation}",
        }
        return names[stage]

    def _advance(self, job: Job, state: State, **changes: Any) -> Job:
        job = self.queue.update(job, state=state.value, **changes)
        self._announce(job)
        return job

    def _announce(self, job: Job) -> None:
        if job.state_enum.is_terminal:
            self.metrics.job_finished(job.state, with_error=job.error is not None)
        self.on_change(job)

    def _fail(self, job: Job, state: State, stage: Stage, failure: StageFailed) -> Job:
        return self._advance(job, state, error=str(failure), error_stage=stage.value)


def _with_timing(job: Job, stage: Stage, seconds: float) -> str:
    return json.dumps({**job.stage_timings, stage.value: round(seconds, 4)})
