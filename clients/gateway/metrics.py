"""Prometheus `/metrics` for the gateway (`--metrics-listen`), read from its counters per scrape.

The gateway keeps one set of counters (clients/gateway/counters.py) and logs them; this module
only presents the same numbers in Prometheus' text format:

    voxprint_gateway_datagrams_received_total{port="framed"|"raw"}
    voxprint_gateway_datagrams_dropped_total{reason="bad_magic"|"rate_limited"|...}
    voxprint_gateway_sessions_open                        (gauge: recordings being assembled)
    voxprint_gateway_sessions_opened_total, voxprint_gateway_sessions_evicted_total
    voxprint_gateway_recordings_assembled_total
    voxprint_gateway_recordings_dropped_total{reason="overlong"|"empty"|"backlog"}
    voxprint_gateway_recordings_submitted_total
    voxprint_gateway_printouts_total{printer="escpos"|"catprinter"}
    voxprint_gateway_printout_failures_total{printer="escpos"|"catprinter", reason="no_paper"|...}
    voxprint_gateway_delivery_failures_total               (every kind of destination)
    voxprint_gateway_events_total{event="<counter name>"}   (every counter, for anything else)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from prometheus_client import start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from voxprint.clients.gateway.assembler import Address

PREFIX = "voxprint_gateway"
#: The printer kinds `PrinterDelivery` counts under `deliveries.<kind>.sent|failed.<reason>`.
PRINTER_KINDS = ("escpos", "catprinter")


@dataclass(frozen=True)
class Stats:
    counts: dict[str, int]
    open_sessions: int


class _GatewayCollector(Collector):
    def __init__(self, read: Callable[[], Stats]) -> None:
        self._read = read

    def collect(self) -> Iterator[Metric]:
        stats = self._read()
        counts = stats.counts
        received = CounterMetricFamily(f"{PREFIX}_datagrams_received", "Datagrams received, by port.", labels=["port"])
        received.add_metric(["framed"], counts.get("datagrams.received", 0))
        received.add_metric(["raw"], counts.get("datagrams.received_raw", 0))
        yield received
        yield _by_suffix(counts, "datagrams.dropped", "datagrams_dropped", "Datagrams dropped, by reason.", "reason")
        yield GaugeMetricFamily(f"{PREFIX}_sessions_open", "Recordings being assembled.", stats.open_sessions)
        yield _single(counts, "sessions.opened", "sessions_opened", "Recordings started.")
        yield _single(counts, "sessions.evicted", "sessions_evicted", "Unfinished recordings evicted to admit another.")
        yield _single(counts, "recordings.assembled", "recordings_assembled", "Recordings assembled whole.")
        yield _by_suffix(counts, "recordings.dropped", "recordings_dropped", "Recordings dropped, by reason.", "reason")
        yield _single(counts, "submits.accepted", "recordings_submitted", "Recordings the server accepted as jobs.")
        yield from _printouts(counts)
        yield _single(counts, "deliveries.failed", "delivery_failures", "Printouts a destination failed to take.")
        yield _by_suffix(counts, "", "events", "Every gateway counter, by name.", "event")


def _single(counts: dict[str, int], counter: str, metric: str, documentation: str) -> CounterMetricFamily:
    return CounterMetricFamily(f"{PREFIX}_{metric}", documentation, value=counts.get(counter, 0))


def _printouts(counts: dict[str, int]) -> Iterator[Metric]:
    printed = CounterMetricFamily(f"{PREFIX}_printouts", "Printouts a printer took, by kind.", labels=["printer"])
    failed = CounterMetricFamily(
        f"{PREFIX}_printout_failures", "Printouts a printer failed, by kind and reason.", labels=["printer", "reason"]
    )
    for kind in PRINTER_KINDS:
        printed.add_metric([kind], counts.get(f"deliveries.{kind}.sent", 0))
        failures = f"deliveries.{kind}.failed."
        for name, value in counts.items():
            if name.startswith(failures):
                failed.add_metric([kind, name[len(failures) :]], value)
    yield printed
    yield failed


def _by_suffix(counts: dict[str, int], prefix: str, metric: str, documentation: str, label: str) -> CounterMetricFamily:
    """One labelled series per counter named `prefix.<label value>` (every counter if no prefix)."""
    family = CounterMetricFamily(f"{PREFIX}_{metric}", documentation, labels=[label])
    start = f"{prefix}." if prefix else ""
    for name, value in counts.items():
        if name.startswith(start):
            family.add_metric([name[len(start) :]], value)
    return family


class MetricsServer:
    """An HTTP server on its own thread answering `/metrics`; `read` is called once a scrape."""

    def __init__(self, listen: Address, read: Callable[[], Stats]) -> None:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(_GatewayCollector(read))
        self._server, self._thread = start_http_server(listen[1], listen[0], registry=registry)

    @property
    def address(self) -> Address:
        host, port = self._server.server_address[:2]
        return str(host), port

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
