"""Service benchmark: real voxprint servers on loopback, measured from a second process.

    python -m benchmarks.service_bench [--quick]
    python -m benchmarks.service_bench --database postgresql://USER@HOST/DB --replicas 1,2,3 [--media-url s3://B/P]

Servers run in child processes (so their memory can be read from /proc) with the speech and
image stages replaced by instant ones defined here, so this measures the service — uploads,
the database, the queue, event fan-out — not the models. Every figure printed is measured in
this run; the targets are the ones in the service's issues. With ``--database`` it measures
scale-out instead: Submit and completion throughput per replica count, cross-replica Watch
latency, claim races and connections per replica (the database should be empty and
dedicated: the benchmark fills it with jobs).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, ExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from tests.support import REPOSITORY
from tests.support.audio import wav_bytes
from tests.support.servers import CHANNEL_OPTIONS, submit_requests
from voxprint.common.enums import TERMINAL_STATES
from voxprint.v1 import voxprint_pb2 as pb
from voxprint.v1 import voxprint_pb2_grpc

CHUNK = 256 * 1024
# The target: a replica's pool (8 by default) and its LISTEN connection, with room for one more.
MAX_CONNECTIONS = 10
# Polling is worth replacing when a client that polls waits this many times longer than a pushed one.
MIN_POLL_TO_PUSH = 50


# -- the server side ---------------------------------------------------------------------------


class InstantTranscriber:
    name = "bench-instant"

    def __init__(self, delay: float) -> None:
        self.delay = delay

    def transcribe(self, audio_path: Path, samples: object = None) -> str:
        time.sleep(self.delay)
        return "a rocket flies to the moon"


class InstantIllustrator:
    name = "bench-instant"

    def __init__(self, delay: float) -> None:
        from PIL import Image, ImageDraw

        self.delay = delay
        image = Image.new("L", (512, 512), 255)
        ImageDraw.Draw(image).ellipse((64, 64, 448, 448), outline=0, width=12)
        encoded = io.BytesIO()
        image.save(encoded, format="PNG")
        self.png = encoded.getvalue()

    def illustrate(self, transcript: str) -> bytes:
        time.sleep(self.delay)
        return self.png


def serve(data_dir: Path, stage_delay: float, workers: int, database: str | None, media_url: str | None) -> None:
    """Run one server until SIGTERM, then print its claim statistics as the last line."""
    from voxprint.server.app import VoxprintServer
    from voxprint.server.config import Settings

    async def run() -> None:
        server = VoxprintServer(
            Settings(
                listen="127.0.0.1:0", data_dir=data_dir, workers=workers, database_url=database, media_url=media_url
            ),
            transcriber=InstantTranscriber(stage_delay),
            illustrator=InstantIllustrator(stage_delay),
        )
        print(await server.start(), flush=True)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        await server.stop()
        print(f"claims {server.queue.claims} lost_races {server.queue.lost_races}", flush=True)

    asyncio.run(run())


@dataclass
class ServerProcess:
    stage_delay: float
    workers: int = 2
    database: str | None = None
    media_url: str | None = None
    process: subprocess.Popen[str] = field(init=False)
    target: str = field(init=False)
    # (claims, lost claim races) this server reported when it stopped, and whether it did.
    claim_stats: tuple[int, int] = field(init=False, default=(0, 0))
    claim_stats_reported: bool = field(init=False, default=False)

    def __enter__(self) -> ServerProcess:
        self._data = tempfile.TemporaryDirectory(prefix="voxprint-bench-")
        command = [
            sys.executable,
            "-m",
            "benchmarks.service_bench",
            "--serve",
            self._data.name,
            "--stage-delay",
            str(self.stage_delay),
        ]
        command += ["--workers", str(self.workers)]
        command += ["--database", self.database] if self.database else []
        command += ["--media-url", self.media_url] if self.media_url else []
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=REPOSITORY)
        assert self.process.stdout is not None  # piped just above
        self.target = f"127.0.0.1:{self.process.stdout.readline().strip()}"
        return self

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        last = self.process.communicate(timeout=30)[0].split()
        if last[:1] == ["claims"]:
            self.claim_stats = (int(last[1]), int(last[3]))
            self.claim_stats_reported = True
        self._data.cleanup()


# -- the client side ---------------------------------------------------------------------------


def wav_of_size(size: int) -> bytes:
    """A 48 kHz stereo 16-bit WAV of about ``size`` bytes (a tone, so the server's reader has real work).

    CD-like sampling keeps even the 5 MB uploads within the server's 60-second limit."""
    return wav_bytes(size / 192_000, rate=48_000, channels=2)


def requests(audio: bytes):
    return submit_requests(audio, filename="bench.wav", chunk_size=CHUNK)


@asynccontextmanager
async def connect(target: str) -> AsyncIterator[voxprint_pb2_grpc.VoxprintAsyncStub]:
    async with grpc.aio.insecure_channel(target, options=CHANNEL_OPTIONS) as channel:
        yield voxprint_pb2_grpc.VoxprintStub(channel)


def percentile(values: list[float], fraction: float) -> float:
    """The value at ``fraction`` of the sorted values; infinite when there are none (nothing arrived)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else math.inf


async def submit_throughput(target: str, audio: bytes, jobs: int, clients: int) -> float:
    async with connect(target) as stub:
        await stub.ListJobs(pb.ListJobsRequest(page_size=1))  # connect before the clock starts
        remaining = iter(range(jobs))

        async def client() -> None:
            for _ in remaining:
                await stub.Submit(requests(audio))

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        return jobs / (time.perf_counter() - started)


async def watch_job(
    stub: voxprint_pb2_grpc.VoxprintAsyncStub, job_id: str, on_event: Callable[[pb.JobEvent], None]
) -> list[int]:
    versions = []
    async for event in stub.Watch(pb.WatchRequest(job_id=job_id)):
        on_event(event)
        versions.append(event.job.version)
    return versions


def commit_age(job: pb.Job) -> float:
    """Seconds since the server committed this version of the job (same machine, same clock)."""
    return time.time() - job.updated_at.ToNanoseconds() / 1e9


def recording_push_latency(latencies: list[float]) -> Callable[[pb.JobEvent], None]:
    """A Watch callback adding the commit age of every pushed event (not the opening snapshot)."""

    def on_event(event: pb.JobEvent) -> None:
        if not event.snapshot:
            latencies.append(commit_age(event.job))

    return on_event


async def push_vs_poll(target: str, jobs: int, poll_interval: float) -> tuple[list[float], list[float], bool]:
    """Latency from commit to client: Watch pushes vs GetJob polling every ``poll_interval`` s; and
    whether every Watch got every version from its snapshot to the job's end, each once."""
    push: list[float] = []
    poll: list[float] = []
    # Per job: did its Watch get every version from the snapshot to the final one, each once?
    complete: list[bool] = []
    async with connect(target) as stub:
        audio = wav_of_size(32_000)

        async def one_job() -> None:
            job = await stub.Submit(requests(audio))
            watcher = asyncio.create_task(watch_job(stub, job.id, recording_push_latency(push)))
            seen = job.version
            await asyncio.sleep(poll_interval * (hash(job.id) % 1000) / 1000)  # pollers out of phase
            while True:
                polled = await stub.GetJob(pb.GetJobRequest(job_id=job.id))
                if polled.version > seen:
                    poll.append(commit_age(polled))
                    seen = polled.version
                if polled.state in TERMINAL_STATES:
                    break
                await asyncio.sleep(poll_interval)
            versions = await watcher
            complete.append(versions == list(range(versions[0], polled.version + 1)))

        await asyncio.gather(*(one_job() for _ in range(jobs)))
    return push, poll, len(complete) == jobs and all(complete)


async def many_watchers(server: ServerProcess, jobs: int, watchers_per_job: int) -> tuple[float, float, bool]:
    """Server RSS growth with jobs × watchers live streams; whether every watcher saw every event."""
    async with connect(server.target) as stub:
        audio = wav_of_size(32_000)
        await stub.ListJobs(pb.ListJobsRequest(page_size=1))
        baseline = server.rss_mb()
        submitted = [await stub.Submit(requests(audio)) for _ in range(jobs)]
        streams = [
            asyncio.create_task(watch_job(stub, job.id, lambda event: None))
            for job in submitted
            for _ in range(watchers_per_job)
        ]
        peak = baseline
        while not all(stream.done() for stream in streams):
            peak = max(peak, server.rss_mb())
            await asyncio.sleep(0.05)
        results = [stream.result() for stream in streams]
        finals = {job.id: (await stub.GetJob(pb.GetJobRequest(job_id=job.id))).version for job in submitted}
        # Streams were created job by job, watchers_per_job at a time.
        complete = all(
            versions == list(range(versions[0], finals[submitted[n // watchers_per_job].id] + 1))
            for n, versions in enumerate(results)
        )
        return baseline, peak, complete


async def wait_until_idle(target: str) -> None:
    """Let the workers finish the backlog the Submit runs left, so it does not skew what follows."""
    busy = (
        pb.JOB_STATE_PENDING,
        pb.JOB_STATE_TRANSCRIBING,
        pb.JOB_STATE_TRANSCRIBED,
        pb.JOB_STATE_GENERATING_IMAGE,
        pb.JOB_STATE_RASTERIZING,
    )
    async with connect(target) as stub:
        while True:
            pages = [await stub.ListJobs(pb.ListJobsRequest(page_size=1, state=state)) for state in busy]
            if not any(page.jobs for page in pages):
                return
            await asyncio.sleep(0.2)


async def fetch_raw(target: str, requests_total: int, clients: int) -> tuple[float, float]:
    await wait_until_idle(target)
    async with connect(target) as stub:
        job = await stub.Submit(requests(wav_of_size(32_000)))
        await watch_job(stub, job.id, lambda event: None)
        latencies: list[float] = []
        remaining = iter(range(requests_total))

        async def client() -> None:
            for _ in remaining:
                started = time.perf_counter()
                await stub.Fetch(pb.FetchRequest(job_id=job.id, format=pb.FORMAT_RAW))
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        return requests_total / (time.perf_counter() - started), percentile(latencies, 0.99)


# -- scale-out: several replicas on one database ------------------------------------------------


async def completion_throughput(targets: list[str], jobs: int) -> float:
    """Jobs completed per second when ``jobs`` are submitted round-robin to the replicas at once."""
    async with AsyncExitStack() as stack:
        stubs = [await stack.enter_async_context(connect(target)) for target in targets]
        audio = wav_of_size(32_000)
        started = time.perf_counter()
        submitted = await asyncio.gather(*(stubs[n % len(stubs)].Submit(requests(audio)) for n in range(jobs)))
        finals: list[pb.Job] = []
        await asyncio.gather(
            *(
                watch_job(stubs[n % len(stubs)], job.id, lambda event: finals.append(event.job))
                for n, job in enumerate(submitted)
            )
        )
        elapsed = time.perf_counter() - started
        failed = [job.error for job in finals if job.state in TERMINAL_STATES and job.error]
        if failed:
            raise RuntimeError(f"{len(failed)} benchmark jobs failed, e.g. {failed[0]!r}")
        return jobs / elapsed


async def cross_replica_push(targets: list[str], jobs: int) -> list[float]:
    """Commit-to-client latency of events watched on a replica other than the one that submitted."""
    latencies: list[float] = []
    async with connect(targets[0]) as submitter, connect(targets[1]) as watcher:
        audio = wav_of_size(32_000)

        async def one_job() -> None:
            job = await submitter.Submit(requests(audio))
            await watch_job(watcher, job.id, recording_push_latency(latencies))

        await asyncio.gather(*(one_job() for _ in range(jobs)))
    return latencies


class DatabaseSampler:
    """Samples pg_stat_activity every ``interval`` s while the load runs, on a thread of its own:
    the peak connections of each replica, and the peak of its sessions waiting on a row lock (a
    claimer that waits for a row another claims, which SKIP LOCKED should make never happen)."""

    def __init__(self, database: str, interval: float = 0.05) -> None:
        self.database, self.interval = database, interval
        self.connections: dict[str, int] = {}
        self.row_lock_waits = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="bench-pg-sampler", daemon=True)

    def __enter__(self) -> DatabaseSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        import psycopg

        with psycopg.connect(self.database, autocommit=True) as connection:
            while not self._stop.wait(self.interval):
                rows = connection.execute(
                    "SELECT application_name, count(*),"
                    " count(*) FILTER (WHERE wait_event_type = 'Lock' AND wait_event IN ('tuple', 'transactionid'))"
                    " FROM pg_stat_activity"
                    " WHERE datname = current_database() AND application_name LIKE 'voxprint %' GROUP BY 1"
                ).fetchall()
                for name, count, _ in rows:
                    self.connections[name] = max(count, self.connections.get(name, 0))
                self.row_lock_waits = max(self.row_lock_waits, sum(waiting for _, _, waiting in rows))
                self.samples += 1


def scale_out(arguments: argparse.Namespace, scale: float) -> list[tuple[str, str, str, str]]:
    if arguments.media_url is None:
        # Replicas must share their media; on one machine a shared directory does.
        shared = tempfile.TemporaryDirectory(prefix="voxprint-bench-media-")
        arguments.media_url = Path(shared.name).as_uri()
    rows: list[tuple[str, str, str, str]] = []
    counts = [int(n) for n in arguments.replicas.split(",")]
    completed: dict[int, float] = {}
    # CPU-light stages: each waits like a cloud call would, so replicas add capacity.
    stage_delay = 0.1
    for count in counts:
        with ExitStack() as stack:
            servers = [
                stack.enter_context(ServerProcess(stage_delay, 2, arguments.database, arguments.media_url))
                for _ in range(count)
            ]
            targets = [server.target for server in servers]
            sampler = stack.enter_context(DatabaseSampler(arguments.database))
            if count == 1:
                submits = asyncio.run(submit_throughput(targets[0], wav_of_size(100_000), int(2000 * scale), 64))
                rows.append(
                    (
                        "Submit on PostgreSQL, 1 replica, 100 KB, 64 clients",
                        f"{submits:.0f} jobs/s",
                        "≥ 300 jobs/s",
                        verdict(submits >= 300),
                    )
                )
            asyncio.run(wait_until_idle(targets[0]))
            jobs = int(240 * scale)
            completed[count] = asyncio.run(completion_throughput(targets, jobs))
            relative = f" ({completed[count] / completed[counts[0]]:.2f}× {counts[0]})" if count != counts[0] else ""
            target, ok = ("", "")
            if count == 3 and 1 in completed:
                target, ok = "≥ 2.5× 1 replica", verdict(completed[3] >= 2.5 * completed[1])
            rows.append(
                (
                    f"completed jobs/s, {count} replica(s), stages 2 × {stage_delay * 1000:.0f} ms",
                    f"{completed[count]:.1f} jobs/s{relative}",
                    target,
                    ok,
                )
            )
            if count >= 2:
                push = asyncio.run(cross_replica_push(targets, int(100 * scale)))
                p99 = percentile(push, 0.99)
                rows.append(
                    (
                        f"cross-replica Watch push latency, {count} replicas",
                        f"p50 {percentile(push, 0.5) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms",
                        "p99 ≤ 50 ms",
                        verdict(p99 <= 0.050),
                    )
                )
        claims = sum(server.claim_stats[0] for server in servers)
        lost = sum(server.claim_stats[1] for server in servers)
        # Every completed job was claimed at least once: fewer claims means a replica's figures
        # never arrived, and "0 lost" would then say nothing.
        reported = all(server.claim_stats_reported for server in servers) and claims >= jobs
        rows.append(
            (
                f"claim races lost, {count} replica(s)",
                f"{lost} in {claims} claims ({lost / max(claims, 1):.3f} per claim)"
                + ("" if reported else f"; claims for only {claims} of {jobs} jobs reported"),
                "0 per claim",
                verdict(reported and lost == 0),
            )
        )
        rows.append(
            (
                f"claims waiting on a locked row, {count} replica(s)",
                f"peak {sampler.row_lock_waits} in {sampler.samples} samples during the load",
                "0",
                verdict(sampler.samples > 0 and sampler.row_lock_waits == 0),
            )
        )
        peaks = sampler.connections
        rows.append(
            (
                f"connections per replica, {count} replica(s)",
                f"peak {max(peaks.values(), default=0)} ({sorted(peaks.values())}) in {sampler.samples} samples"
                " during the load",
                f"≤ {MAX_CONNECTIONS}",
                verdict(len(peaks) == count and max(peaks.values()) <= MAX_CONNECTIONS),
            )
        )
    return rows


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer jobs, for a smoke run")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--stage-delay", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, default=2, help=argparse.SUPPRESS)
    parser.add_argument("--database", help="measure scale-out on this (empty, dedicated) PostgreSQL database")
    parser.add_argument("--media-url", help="with --database: media for every replica, e.g. s3://bucket/prefix")
    parser.add_argument("--replicas", default="1,2,3", help="with --database: replica counts to compare")
    arguments = parser.parse_args()
    if arguments.serve:
        serve(arguments.serve, arguments.stage_delay, arguments.workers, arguments.database, arguments.media_url)
        return

    scale = 0.25 if arguments.quick else 1.0
    print(f"voxprint service benchmark — {os.cpu_count()} CPUs, one run, servers in their own processes\n", flush=True)
    rows = scale_out(arguments, scale) if arguments.database else single_server(arguments, scale)
    width = max(len(row[0]) for row in rows)
    print(f"| {'measure':<{width}} | result | target | |")
    print(f"|{'-' * (width + 2)}|---|---|---|")
    for name, result, target, ok in rows:
        print(f"| {name:<{width}} | {result} | {target} | {ok} |")


def single_server(arguments: argparse.Namespace, scale: float) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []

    with ServerProcess(stage_delay=0.0) as server:
        small = asyncio.run(submit_throughput(server.target, wav_of_size(100_000), int(2000 * scale), 64))
        rows.append(
            ("Submit, 100 KB uploads, 64 clients", f"{small:.0f} jobs/s", "≥ 200 jobs/s", verdict(small >= 200))
        )
        asyncio.run(wait_until_idle(server.target))
        large = asyncio.run(submit_throughput(server.target, wav_of_size(5_000_000), int(128 * scale), 64))
        rows.append(("Submit, 5 MB uploads, 64 clients", f"{large:.1f} jobs/s ({large * 5:.0f} MB/s)", "—", ""))
        fetches, fetch_p99 = asyncio.run(fetch_raw(server.target, int(5000 * scale), 64))
        rows.append(("Fetch RAW, 64 clients", f"{fetches:.0f} req/s, p99 {fetch_p99 * 1000:.1f} ms", "—", ""))

    with ServerProcess(stage_delay=0.2, workers=4) as server:
        jobs = int(100 * scale)
        push, poll, pushed_all = asyncio.run(push_vs_poll(server.target, jobs, poll_interval=2.0))
        # A Watch that missed events (or a poller that saw none) fails its row instead of passing
        # on what it did see.
        p50, p99 = percentile(push, 0.5), percentile(push, 0.99)
        poll_mean = statistics.mean(poll) if poll else math.nan
        rows.append(
            (
                "Watch push latency (commit → client)",
                f"p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms; {len(push)} events, every one pushed: {pushed_all}",
                "p99 ≤ 20 ms, every event",
                verdict(pushed_all and p99 <= 0.020),
            )
        )
        rows.append(
            (
                "2-second GetJob polling (the seed)",
                f"mean {poll_mean * 1000:.0f} ms, p99 {percentile(poll, 0.99) * 1000:.0f} ms; {len(poll)} changes seen",
                "",
                "",
            )
        )
        ratio = poll_mean / p99
        rows.append(
            (
                "polling mean ÷ push p99",
                f"{poll_mean * 1000:.0f} ms ÷ {p99 * 1000:.1f} ms = {ratio:.0f}×",
                f"≥ {MIN_POLL_TO_PUSH}×",
                verdict(pushed_all and ratio >= MIN_POLL_TO_PUSH),
            )
        )

    with ServerProcess(stage_delay=0.3, workers=4) as server:
        jobs, per_job = (20, 50) if not arguments.quick else (10, 25)
        baseline, peak, complete = asyncio.run(many_watchers(server, jobs, per_job))
        rows.append(
            (
                f"{jobs * per_job} watchers on {jobs} live jobs",
                f"RSS {baseline:.0f} → {peak:.0f} MB "
                f"(+{peak - baseline:.0f} MB); every watcher saw every event: {complete}",
                "≤ +100 MB, all events",
                verdict(peak - baseline <= 100 and complete),
            )
        )

    return rows


if __name__ == "__main__":
    main()
