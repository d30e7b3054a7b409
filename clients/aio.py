"""The asyncio voxprint client: :class:`~clients.client.VoxprintClient` for ``grpc.aio``.

    async with AsyncVoxprintClient("127.0.0.1:50051") as client:
        job = await client.submit("kitchen.wav")
        async for event in client.watch(job.id):
            print(event.job.state)

Same methods, same arguments, same errors; the request building, upload chunking, watch
resumption and error mapping are the very code the sync client uses.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import grpc.aio

from voxprint.v1 import voxprint_pb2, voxprint_pb2_grpc

from ._requests import ALL_JOBS_PAGE_SIZE, draw_request, fetch_request, get_request, list_request
from ._upload import AudioSource, ProgressCallback, build_metadata, open_upload, submit_requests
from ._watch import ResumePolicy, WatchSession
from .channel import ChannelConfig, as_config
from .errors import translated_errors


class AsyncVoxprintClient:
    """A ``grpc.aio`` connection to one voxprint server; use within one event loop."""

    def __init__(
        self,
        config: ChannelConfig | str | None = None,
        *,
        channel: grpc.aio.Channel | None = None,
        resume_policy: ResumePolicy | None = None,
    ) -> None:
        self.config = as_config(config)
        self._channel = channel if channel is not None else self.config.aio_channel()
        self._owns_channel = channel is None
        self._stub = voxprint_pb2_grpc.VoxprintStub(self._channel)
        self._metadata = self.config.call_metadata()
        self._resume_policy = resume_policy or ResumePolicy()

    async def close(self) -> None:
        if self._owns_channel:
            await self._channel.close()

    async def __aenter__(self) -> AsyncVoxprintClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def submit(
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
        """Upload a recording (path, bytes or binary file) and return the new job (PENDING)."""
        with open_upload(source, filename) as upload, translated_errors():
            metadata = build_metadata(upload, request_id=request_id, width=width, dither=dither)
            return await self._stub.Submit(
                submit_requests(upload, metadata, progress),
                metadata=self._metadata,
                timeout=timeout if timeout is not None else self.config.timeout,
            )

    async def draw(
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
            return await self._stub.Draw(
                draw_request(phrase, request_id, width, dither),
                metadata=self._metadata,
                timeout=timeout if timeout is not None else self.config.timeout,
            )

    async def watch(self, job_id: str, *, timeout: float | None = None) -> AsyncIterator[voxprint_pb2.JobEvent]:
        """Each change of the job until it is terminal; dropped streams resume transparently."""
        session = WatchSession(job_id, timeout, self._resume_policy)
        while not session.finished:
            stream = self._stub.Watch(session.request, metadata=self._metadata, timeout=session.remaining())
            failure: grpc.RpcError | None = None
            try:
                async for event in stream:
                    if session.admit(event):
                        yield event
                    if session.finished:
                        return
            except grpc.RpcError as error:
                failure = error
            finally:
                stream.cancel()
            await asyncio.sleep(session.retry_delay(failure))

    async def wait(self, job_id: str, timeout: float | None = None) -> voxprint_pb2.Job:
        """Until the job is COMPLETED or FAILED; returns it."""
        job = None
        async for event in self.watch(job_id, timeout=timeout):
            job = event.job
        assert job is not None, "watch ends only after delivering a terminal job"
        return job

    async def get(self, job_id: str) -> voxprint_pb2.Job:
        with translated_errors():
            return await self._stub.GetJob(get_request(job_id), metadata=self._metadata, timeout=self.config.timeout)

    async def fetch(self, job_id: str, format: str | int) -> voxprint_pb2.FetchResponse:
        """A result: ``format`` is "png", "raw", "preview" or a ``Format`` value."""
        with translated_errors():
            return await self._stub.Fetch(
                fetch_request(job_id, format), metadata=self._metadata, timeout=self.config.timeout
            )

    async def list(
        self, page_size: int = 0, page_token: str = "", state: str | int | None = None
    ) -> voxprint_pb2.ListJobsResponse:
        """One page of jobs, newest first."""
        with translated_errors():
            return await self._stub.ListJobs(
                list_request(page_size, page_token, state),
                metadata=self._metadata,
                timeout=self.config.timeout,
            )

    async def iter_jobs(
        self, state: str | int | None = None, page_size: int = ALL_JOBS_PAGE_SIZE
    ) -> AsyncIterator[voxprint_pb2.Job]:
        """Every job, newest first, fetching pages as the iteration needs them."""
        page_token = ""
        while True:
            page = await self.list(page_size, page_token, state)
            for job in page.jobs:
                yield job
            if not page.next_page_token:
                return
            page_token = page.next_page_token
