"""Prometheus /metrics (--metrics-listen): the gateway's counters as a scraper sees them."""

from __future__ import annotations

import asyncio
import socket
import urllib.request

from tests.support.gateway import Metrics, parse_metrics, part, running_gateway
from voxprint.clients.gateway import protocol
from voxprint.clients.gateway.main import Gateway

UNREACHABLE_SERVER = "127.0.0.1:1"


async def scrape(gateway: Gateway) -> Metrics:
    # From another thread: the gateway reads its counters on this event loop.
    assert gateway.metrics_address is not None
    url = "http://{}:{}/metrics".format(*gateway.metrics_address)
    return parse_metrics(await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=5).read().decode()))


async def sent(gateway: Gateway, datagrams: list[bytes]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        for datagram in datagrams:
            sender.sendto(datagram, gateway.address)
    while gateway.counters["datagrams.received"] < len(datagrams):
        await asyncio.sleep(0.01)


async def test_metrics_are_off_unless_asked_for() -> None:
    async with running_gateway(UNREACHABLE_SERVER) as gateway:
        assert gateway.metrics_address is None


async def test_datagrams_drops_by_reason_and_open_sessions_are_scraped() -> None:
    async with running_gateway(UNREACHABLE_SERVER, metrics_listen=("127.0.0.1", 0)) as gateway:
        await sent(
            gateway, [b"junk", b"junk", protocol.encode(part(0, session=1)), protocol.encode(part(0, session=2))]
        )
        metrics = await scrape(gateway)
    assert metrics[("voxprint_gateway_datagrams_received_total", (("port", "framed"),))] == 4
    assert metrics[("voxprint_gateway_datagrams_dropped_total", (("reason", "bad_magic"),))] == 2
    assert metrics[("voxprint_gateway_sessions_open", ())] == 2
    assert metrics[("voxprint_gateway_sessions_opened_total", ())] == 2
    assert metrics[("voxprint_gateway_events_total", (("event", "datagrams.received"),))] == 4


async def test_recordings_submitted_is_scraped_from_the_submit_counter() -> None:
    async with running_gateway(UNREACHABLE_SERVER, metrics_listen=("127.0.0.1", 0)) as gateway:
        gateway.counters.incr("submits.accepted", 3)
        metrics = await scrape(gateway)
    assert metrics[("voxprint_gateway_recordings_submitted_total", ())] == 3


async def test_printouts_and_their_failures_are_scraped_by_printer_and_reason() -> None:
    async with running_gateway(UNREACHABLE_SERVER, metrics_listen=("127.0.0.1", 0)) as gateway:
        gateway.counters.incr("deliveries.catprinter.sent", 3)
        gateway.counters.incr("deliveries.catprinter.failed.no_paper")
        gateway.counters.incr("deliveries.escpos.failed.unreachable", 2)
        gateway.counters.incr("deliveries.failed", 3)
        metrics = await scrape(gateway)
    assert metrics[("voxprint_gateway_printouts_total", (("printer", "catprinter"),))] == 3
    assert metrics[("voxprint_gateway_printouts_total", (("printer", "escpos"),))] == 0
    failures = "voxprint_gateway_printout_failures_total"
    assert metrics[(failures, (("printer", "catprinter"), ("reason", "no_paper")))] == 1
    assert metrics[(failures, (("printer", "escpos"), ("reason", "unreachable")))] == 2
    assert metrics[("voxprint_gateway_delivery_failures_total", ())] == 3
