"""Chaos benchmark: three replicas on PostgreSQL and S3 work through a few hundred jobs while things break.

    python -m benchmarks.chaos [--quick] [--jobs N] [--seed N]

Everything runs on this machine, on loopback: a PostgreSQL cluster of its own (Debian's server, as
the tests start it), moto's S3 server behind a TCP proxy that can cut it off, and three real
``voxprint-server`` processes with the test suite's stand-in stages (each takes ``--stage-seconds``
and logs that it ran, so a stage run twice shows). Clients submit recordings at a steady rate
through a small health-checked balancer, as a load balancer would: a replica that does not answer
SERVING gets no uploads, a Submit that fails is retried with the same request id elsewhere.

Meanwhile, at random moments (``--seed``), one after another, it injects each of:

- ``kill -9`` of a replica, which is started again on its data dir a few seconds later;
- a PostgreSQL restart (fast shutdown, down for 3 s, start);
- an S3 outage of 20 s (every connection to it dropped and refused);
- a replica frozen (SIGSTOP) for 2.5 leases, then resumed (SIGCONT).

It then waits (bounded) for every accepted job and prints: jobs accepted, completed, failed (with
why), lost (accepted but never finished: must be 0), stages run twice and why (each one traced to a
replica killed or frozen in it, or to an outage; "no cause" must be 0), and the longest time a job
waited from its Submit to its end, each with its target.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import os
import random
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from moto.server import ThreadedMotoServer

from tests.support.outages import SERVING, RestartablePostgres, TcpProxy, freeze, health, thaw
from tests.support.replicas import ReplicaProcess, Replicas
from tests.support.servers import submit_requests
from tests.support.speech import SPOKEN_PHRASE, speak
from voxprint.common.enums import TERMINAL_STATES
from voxprint.v1 import voxprint_pb2 as pb

REPLICAS = "abc"
POSTGRES_DOWN_SECONDS = 3.0
S3_DOWN_SECONDS = 20.0
# A killed replica is started again this long after the kill (plus its own start-up).
KILLED_FOR_SECONDS = 3.0
FROZEN_FOR_LEASES = 2.5
# A Submit not accepted after this long is given up (and counted as not accepted).
SUBMIT_PATIENCE_SECONDS = 120.0
# Once the last fault is over and the last job submitted, every job has this long to finish.
SETTLE_SECONDS = 240.0
# The whole run stops here, whatever state it is in.
RUN_SECONDS = 900.0
# The longest a job may take from Submit to its end: the 20 s S3 outage, a lease or two, catching up.
MAX_WAIT_TARGET_SECONDS = 60.0


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


@dataclass
class Fault:
    kind: str
    target: str = ""
    started: float = 0.0
    ended: float = 0.0
    # The process a kill or a freeze hit.
    pid: int | None = None


class Balancer:
    """Which replicas take uploads: those that answered SERVING to the last health check (every 0.5 s)."""

    def __init__(self, group: Replicas) -> None:
        self.group = group
        self.serving: list[ReplicaProcess] = []
        self._turn = itertools.count()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._check, name="balancer", daemon=True)
        self._thread.start()

    def pick(self) -> ReplicaProcess | None:
        serving = self.serving
        return serving[next(self._turn) % len(serving)] if serving else None

    def any_answering(self) -> Iterator[ReplicaProcess]:
        return iter(list(self.serving) or self._alive())

    def _alive(self) -> list[ReplicaProcess]:
        return [r for r in self.group.started if r.process.poll() is None and hasattr(r, "stub")]

    def _check(self) -> None:
        while not self._stopping.wait(0.5):
            self.serving = [replica for replica in self._alive() if health(replica, timeout=0.5) == SERVING]

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join()


@dataclass
class Ledger:
    """What the clients did: accepted jobs by id with the moment, refusals by code, give-ups."""

    accepted: dict[str, float] = field(default_factory=dict)
    refused: Counter[str] = field(default_factory=Counter)
    given_up: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def submit_one(balancer: Balancer, recording: bytes, ledger: Ledger) -> None:
    """Submit until some replica accepts, retrying with the same request id (as the client library does)."""
    request_id = f"chaos-{uuid.uuid4().hex}"
    deadline = time.monotonic() + SUBMIT_PATIENCE_SECONDS
    while time.monotonic() < deadline:
        replica = balancer.pick()
        if replica is None:
            time.sleep(0.2)
            continue
        try:
            job = replica.stub.Submit(submit_requests(recording, request_id=request_id), timeout=10)
        except grpc.RpcError as refused:
            with ledger.lock:
                ledger.refused[refused.code().name] += 1
            time.sleep(0.2)
            continue
        with ledger.lock:
            ledger.accepted[job.id] = time.monotonic()
        return
    with ledger.lock:
        ledger.given_up += 1


def submit_all(balancer: Balancer, recording: bytes, ledger: Ledger, jobs: int, rate: float) -> None:
    """``jobs`` Submits, one every 1/``rate`` s, each on a thread of its own (so a slow one holds none back)."""
    started = time.monotonic()
    clients = []
    for number in range(jobs):
        time.sleep(max(0.0, started + number / rate - time.monotonic()))
        client = threading.Thread(target=submit_one, args=(balancer, recording, ledger), daemon=True)
        client.start()
        clients.append(client)
    for client in clients:
        client.join()


class StageClock:
    """When each line of the stage log was written, to within 0.2 s: the log itself has no times."""

    def __init__(self, group: Replicas) -> None:
        self.group = group
        self.samples: list[tuple[float, int]] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="stage-clock", daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stopping.wait(0.2):
            self.samples.append((time.monotonic(), len(self.group.stage_log.read_text().splitlines())))

    def time_of(self, line: int) -> float:
        return next((moment for moment, count in self.samples if count > line), time.monotonic())

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join()


@dataclass
class Chaos:
    group: Replicas
    postgres: RestartablePostgres
    proxy: TcpProxy
    lease: float
    faults: list[Fault] = field(default_factory=list)

    def run(self, moments: list[float], kinds: list[str], started: float) -> None:
        """Inject each of ``kinds`` at its moment (seconds after ``started``), one at a time."""
        for moment, kind in zip(moments, kinds, strict=True):
            time.sleep(max(0.0, started + moment - time.monotonic()))
            fault = Fault(kind, started=time.monotonic())
            self.faults.append(fault)
            self.injectors[kind](fault)
            fault.ended = time.monotonic()

    @property
    def injectors(self) -> dict[str, Callable[[Fault], None]]:
        return {
            "kill -9": self._kill,
            "PostgreSQL restart": self._restart,
            "S3 outage": self._cut_s3,
            "freeze": self._freeze,
        }

    def _victim(self, fault: Fault) -> ReplicaProcess:
        replica = random.choice([r for r in self.group.started if r.process.poll() is None])
        fault.target, fault.pid = replica.data_dir.name, replica.process.pid
        return replica

    def _kill(self, fault: Fault) -> None:
        replica = self._victim(fault)
        replica.kill()
        time.sleep(KILLED_FOR_SECONDS)
        self.group.start(replica.data_dir.name)

    def _restart(self, fault: Fault) -> None:
        with self.postgres.down():
            time.sleep(POSTGRES_DOWN_SECONDS)

    def _cut_s3(self, fault: Fault) -> None:
        with self.proxy.cut_off():
            time.sleep(S3_DOWN_SECONDS)

    def _freeze(self, fault: Fault) -> None:
        replica = self._victim(fault)
        freeze(replica)
        time.sleep(FROZEN_FOR_LEASES * self.lease)
        thaw(replica)


def final_jobs(balancer: Balancer, job_ids: set[str], seconds: float) -> dict[str, pb.Job]:
    """Every stored job as it stands once all of ``job_ids`` are final, or after ``seconds`` (read with
    ListJobs, from any replica that answers)."""
    deadline = time.monotonic() + seconds
    latest: dict[str, pb.Job] = {}
    while time.monotonic() < deadline:
        latest = listed(balancer) or latest
        if all(job_id in latest and latest[job_id].state in TERMINAL_STATES for job_id in job_ids):
            break
        time.sleep(1.0)
    return latest


def listed(balancer: Balancer) -> dict[str, pb.Job]:
    for replica in balancer.any_answering():
        try:
            jobs: dict[str, pb.Job] = {}
            token = ""
            while True:
                page = replica.stub.ListJobs(pb.ListJobsRequest(page_size=500, page_token=token), timeout=10)
                jobs.update((job.id, job) for job in page.jobs)
                if not (token := page.next_page_token):
                    return jobs
        except grpc.RpcError:
            continue
    return {}


def rerun_causes(group: Replicas, clock: StageClock, faults: list[Fault]) -> Counter[str]:
    """Why each stage that ran more than once for a job ran again, from the stage log."""
    runs: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for number, line in enumerate(group.stage_log.read_text().splitlines()):
        stage, job, process = line.split("\t")
        runs.setdefault((stage, job), []).append((number, int(process)))
    causes: Counter[str] = Counter()
    for (stage, _), tries in runs.items():
        for (first, pid), (again, _) in itertools.pairwise(tries):
            causes[f"{stage}: {cause(pid, clock.time_of(first), clock.time_of(again), faults)}"] += 1
    return causes


def cause(pid: int, first: float, again: float, faults: list[Fault]) -> str:
    """The fault that explains a stage started at ``first`` by ``pid`` being started again at ``again``."""
    # Within the 0.2 s the stage log's times are known to, give or take.
    between = [fault for fault in faults if fault.started <= again + 0.5 and fault.ended + 0.5 >= first]
    for fault in between:
        if fault.pid == pid:
            return {"kill -9": "its replica was killed (kill -9) in it"}.get(
                fault.kind, "its replica was frozen past its lease in it"
            )
    for fault in between:
        if fault.pid is None:
            return f"a {fault.kind} came between its runs"
    return "no cause found"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="120 jobs instead of 300")
    parser.add_argument("--jobs", type=int, help="jobs to submit (default 300, 120 with --quick)")
    parser.add_argument("--rate", type=float, default=2.5, help="Submits per second (default 2.5)")
    parser.add_argument("--lease-seconds", type=float, default=5.0, help="the replicas' --lease-seconds (default 5)")
    parser.add_argument("--stage-seconds", type=float, default=0.3, help="each stand-in stage takes this long")
    parser.add_argument("--seed", type=int, default=20, help="picks the fault order, moments and victims")
    arguments = parser.parse_args()
    jobs = arguments.jobs or (120 if arguments.quick else 300)
    random.seed(arguments.seed)
    print(
        f"voxprint chaos benchmark — {os.cpu_count()} CPUs, 3 replicas × 2 workers, {jobs} jobs at "
        f"{arguments.rate:g}/s, lease {arguments.lease_seconds:g} s, stages {arguments.stage_seconds:g} s, "
        f"seed {arguments.seed}\n",
        flush=True,
    )
    with ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="voxprint-chaos-")))
        group, postgres, proxy = stack.enter_context(deployment(root, arguments.lease_seconds, arguments.stage_seconds))
        recording = speak(SPOKEN_PHRASE, root / "speech.wav").read_bytes()
        balancer = Balancer(group)
        stack.callback(balancer.stop)
        clock = StageClock(group)
        stack.callback(clock.stop)
        chaos = Chaos(group, postgres, proxy, arguments.lease_seconds)
        kinds = list(chaos.injectors)
        random.shuffle(kinds)
        window = jobs / arguments.rate
        moments = sorted(random.uniform(0.1 * window, 0.6 * window) for _ in kinds)
        ledger = Ledger()
        started = time.monotonic()
        injector = threading.Thread(target=chaos.run, args=(moments, kinds, started), daemon=True)
        injector.start()
        submit_all(balancer, recording, ledger, jobs, arguments.rate)
        injector.join(max(0.0, started + RUN_SECONDS - time.monotonic()))
        final = final_jobs(
            balancer, set(ledger.accepted), min(SETTLE_SECONDS, started + RUN_SECONDS - time.monotonic())
        )
        report(jobs, ledger, final, chaos.faults, rerun_causes(group, clock, chaos.faults), started)


@contextmanager
def deployment(
    root: Path, lease: float, stage_seconds: float
) -> Iterator[tuple[Replicas, RestartablePostgres, TcpProxy]]:
    """Three replicas on a PostgreSQL cluster of their own and an S3 server behind a proxy (moto's,
    on a thread of this process: the replicas reach it over loopback HTTP all the same)."""
    credentials = {
        "AWS_ACCESS_KEY_ID": "voxprint-chaos",
        "AWS_SECRET_ACCESS_KEY": "voxprint-chaos-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    # moto's server logs every request it serves through werkzeug: thousands of lines.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    s3 = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    s3.start()
    host, port = s3.get_host_and_port()
    with ExitStack() as stack:
        stack.callback(s3.stop)
        postgres = stack.enter_context(RestartablePostgres())
        proxy = TcpProxy(f"http://{host}:{port}")
        stack.callback(proxy.cut)
        bucket = f"voxprint-chaos-{uuid.uuid4().hex[:8]}"
        session = boto3.session.Session(
            aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
            region_name=credentials["AWS_DEFAULT_REGION"],
        )
        session.client("s3", endpoint_url=f"http://{host}:{port}").create_bucket(Bucket=bucket)
        (root / "replicas").mkdir()
        group = Replicas(root / "replicas")
        stack.callback(group.stop_all)
        group.environment.update(credentials, AWS_ENDPOINT_URL=proxy.url)
        group.defaults = {
            "database": postgres.new_database(),
            "media_url": f"s3://{bucket}/media",
            "backends": "stand-in",
            "lease_seconds": f"{lease:g}",
            "stage_seconds": f"{stage_seconds:g}",
            "db_pool_size": "4",
        }
        for name in REPLICAS:
            group.start(name)
        yield group, postgres, proxy


def report(
    jobs: int,
    ledger: Ledger,
    stored: dict[str, pb.Job],
    faults: list[Fault],
    reruns: Counter[str],
    started: float,
) -> None:
    print("faults injected:")
    for fault in faults:
        target = f" of replica {fault.target}" if fault.target else ""
        print(f"  {fault.started - started:6.1f} s  {fault.kind}{target}, {fault.ended - fault.started:.1f} s")
    refusals = ", ".join(f"{count} {code}" for code, count in ledger.refused.most_common()) or "none"
    print(f"Submits refused on the way (each retried): {refusals}\n")

    accepted = set(ledger.accepted)
    final = {job_id: job for job_id, job in stored.items() if job_id in accepted}
    completed = [job for job in final.values() if job.state == pb.JOB_STATE_COMPLETED and not job.error]
    failed = Counter(job.error for job in final.values() if job.state in TERMINAL_STATES and job.error)
    lost = [job_id for job_id in accepted if job_id not in final or final[job_id].state not in TERMINAL_STATES]
    waits = [
        _seconds(job.updated_at) - _seconds(job.created_at) for job in final.values() if job.state in TERMINAL_STATES
    ]
    longest = max(waits, default=float("nan"))
    unexplained = sum(count for why, count in reruns.items() if why.endswith("no cause found"))

    rows: list[tuple[str, str, str, str]] = [
        ("jobs submitted", str(jobs), "", ""),
        ("jobs accepted", str(len(accepted)), f"{jobs}", verdict(len(accepted) == jobs)),
        # A Submit retried elsewhere with its request id finds the job its first try made.
        ("jobs stored", str(len(stored)), f"{len(accepted)}", verdict(len(stored) == len(accepted))),
        ("jobs completed", str(len(completed)), f"{len(accepted)}", verdict(len(completed) == len(accepted))),
        ("jobs failed", str(sum(failed.values())), "0", verdict(not failed)),
        ("jobs lost", str(len(lost)), "0", verdict(not lost)),
        ("stages run twice", str(sum(reruns.values())), "each with a cause", ""),
        ("stages run twice without a cause", str(unexplained), "0", verdict(unexplained == 0)),
        (
            "longest wait, Submit to end",
            f"{longest:.1f} s",
            f"≤ {MAX_WAIT_TARGET_SECONDS:.0f} s",
            verdict(longest <= MAX_WAIT_TARGET_SECONDS),
        ),
    ]
    width = max(len(row[0]) for row in rows)
    print(f"| {'measure':<{width}} | result | target | |")
    print(f"|{'-' * (width + 2)}|---|---|---|")
    for name, result, target, ok in rows:
        print(f"| {name:<{width}} | {result} | {target} | {ok} |")
    for why, count in sorted(failed.items()):
        print(f"failed ({count}): {why}")
    for why, count in sorted(reruns.items()):
        print(f"run twice ({count}): {why}")
    if lost:
        print("lost:", ", ".join(sorted(lost)))


def _seconds(stamp: Timestamp) -> float:
    return stamp.ToDatetime().timestamp()


if __name__ == "__main__":
    main()
