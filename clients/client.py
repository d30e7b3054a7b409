"""The synchronous voxprint client.

with VoxprintClient("127.0.0.1:50051") as client:
    job = client.submit("kitchen.wav")
    for event in client.watch(job.id):
        print(event.job.state, event.job.transcript)
    png = client.fetch(job.id, "png").data
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import grpc

from voxprint.v1 import voxprint_pb2, voxprint_pb2_grpc

from ._requests import ALL_JOBS_PAGE_SIZE, draw_request, fetch_request, get_request, list_request
from ._upload import AudioSource, ProgressCallback, build_metadata, open_upload, submit_requests
from ._watch import ResumePolicy, WatchSession
from .channel import ChannelConfig, as_config
from .errors import translated_errors


class VoxprintClient:
    """A connection to one voxprint server. Thread-safe; close it (or use ``with``) when done.

    Every method raises a :class:`~clients.errors.VoxprintError` subclass when the server
    refuses the call or cannot be reached.
    """

    def __init__(
        self,
        config: ChannelConfig | str | None = None,
        *,
        channel: grpc.Channel | None = None,
        resume_policy: ResumePolicy | None = None,
    ) -> None:
        self.config = as_config(config)
        self._channel = channel if channel is not None else self.config.channel()
        self._owns_channel = channel is None
        self._stub = voxprint_pb2_grpc.VoxprintStub(self._channel)
        self._metadata = self.config.call_metadata()
        self._resume_policy = resume_policy or ResumePolicy()

    def close(self) -> None:
        if self._owns_channel:
            self._channel.close()

    def __enter__(self) -> VoxprintClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def submit(
        self,
        source: AudioSource,
        *,
        request_id: str | None = None,
        filename: str | None = None,
        width: int | None = None,
        dither: str | int | None = None,
        progress: ProgressCallback | None = None,
        timeout: float | None = None,
    ) -> voxprint_pb2.Job:
        """Upload a recording (path, bytes or binary file) and return the new job (PENDING).

        ``request_id`` makes the call idempotent: repeating it returns the same job.
        ``timeout`` overrides the configured deadline for slow links and large files.
        """
        with open_upload(source, filename) as upload, translated_errors():
            metadata = build_metadata(upload, request_id=request_id, width=width, dither=dither)
            return self._stub.Submit(
                submit_requests(upload, metadata, progress),
                metadata=self._metadata,
                timeout=timeout if timeout is not None else self.config.timeout,
            )

    def draw(
        self,
        phrase: str,
        *,
        request_id: str | None = None,
        width: int | None = None,
        dither: str | int | None = None,
        timeout: float | None = None,
    ) -> voxprint_pb2.Job:
        """A job that draws ``phrase`` (no recording, no speech-to-text); returns it, TRANSCRIBED.

        ``request_id`` makes the call idempotent: repeating it returns the same job.
        """
        with translated_errors():
            return self._stub.Draw(
                draw_request(phrase, request_id, width, dither),
                metadata=self._metadata,
                timeout=timeout if timeout is not None else self.config.timeout,
            )

    def watch(self, job_id: str, *, timeout: float | None = None) -> Iterator[voxprint_pb2.JobEvent]:
        """Each change of the job, starting with its current state, until it is terminal.

        A dropped stream is resumed transparently; no event is delivered twice. ``timeout``
        bounds the whole watch (raises :class:`~clients.errors.DeadlineExceeded`).
        """
        session = WatchSession(job_id, timeout, self._resume_policy)
        while not session.finished:
            stream = self._stub.Watch(session.request, metadata=self._metadata, timeout=session.remaining())
            failure: grpc.RpcError | None = None
            try:
                for event in stream:
                    if session.admit(event):
                        yield event
                    if session.finished:
                        return
            except grpc.RpcError as error:
                failure = error
            finally:
                stream.cancel()
            time.sleep(session.retry_delay(failure))

    def wait(self, job_id: str, timeout: float | None = None) -> voxprint_pb2.Job:
        """Block until the job is COMPLETED or FAILED and return it."""
        job = None
        for event in self.watch(job_id, timeout=timeout):
            job = event.job
        assert job is not None, "watch ends only after delivering a terminal job"
        return job

    def get(self, job_id: str) -> voxprint_pb2.Job:
        with translated_errors():
            return self._stub.GetJob(get_request(job_id), metadata=self._metadata, timeout=self.config.timeout)

    def fetch(self, job_id: str, format: str | int) -> voxprint_pb2.FetchResponse:
        """A result: ``format`` is "png", "raw", "preview" or a ``Format`` value.

        Raises :class:`~clients.errors.NotReady` while the job is running or if its image failed.
        """
        with translated_errors():
            return self._stub.Fetch(fetch_request(job_id, format), metadata=self._metadata, timeout=self.config.timeout)

    def list(
        self, page_size: int = 0, page_token: str = "", state: str | int | None = None
    ) -> voxprint_pb2.ListJobsResponse:
        """One page of jobs, newest first; pass ``next_page_token`` back for the next one."""
        with translated_errors():
            return self._stub.ListJobs(
                list_request(page_size, page_token, state),
                metadata=self._metadata,
                timeout=self.config.timeout,
            )

    def iter_jobs(
        self, state: str | int | None = None, page_size: int = ALL_JOBS_PAGE_SIZE
    ) -> Iterator[voxprint_pb2.Job]:
        """Every job, newest first, fetching pages as the iteration needs them."""
        page_token = ""
        while True:
            page = self.list(page_size, page_token, state)
            yield from page.jobs
            if not page.next_page_token:
                return
            page_token = page.next_page_token
