"""The UDP gateway on loopback: simulated devices in, gRPC jobs on a real server, printouts back.

The fast tests need no server: they check what the gateway does with datagrams alone. The slow
ones run the whole path with the offline speech model.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from pathlib import Path

import numpy as np
import pytest

from tests.support.audio import wav_bytes, wav_of, wav_samples
from tests.support.gateway import part, running_gateway
from voxprint.clients import AsyncVoxprintClient, escpos
from voxprint.clients.device_sim import (
    Impairment,
    SimulatedDevice,
    converted,
    read_wav,
    send_raw,
)
from voxprint.clients.gateway import protocol
from voxprint.clients.gateway.assembler import AudioFormat
from voxprint.clients.gateway.main import Gateway
from voxprint.clients.gateway.protocol import Audio, Query, SampleFormat
from voxprint.v1 import voxprint_pb2

LOSSY = Impairment(loss=0.1, reorder=True, seed=7)
PLAYBACK_SPEED = 8.0  # faster than real time: the gateway does not care
DEVICE_TIMEOUT = 120.0


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def send_datagrams(datagrams: list[bytes], gateway: Gateway) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        for datagram in datagrams:
            sender.sendto(datagram, gateway.address)


async def until(condition, timeout: float = 5.0) -> None:
    """Wait (bounded) for the event loop to have processed what `condition` looks for."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out waiting"
        await asyncio.sleep(0.01)


def garbage() -> dict[str, bytes]:
    valid = protocol.encode(Audio(1, 1, 0, 16_000, 1, SampleFormat.S16LE, bytes(64)))
    return {
        "bad_magic": os.urandom(300),
        "truncated": valid[:30],
        "oversized": valid + bytes(protocol.MAX_DATAGRAM_SIZE),
        "bad_version": valid[:4] + b"\x09" + valid[5:],
        "wrong_direction": protocol.encode(protocol.JobNotice(1, 1, uuid.uuid4(), 6)),
    }


async def test_garbage_datagrams_are_counted_by_reason_and_open_no_recording() -> None:
    async with running_gateway("127.0.0.1:1") as gateway:
        send_datagrams(list(garbage().values()), gateway)
        await until(lambda: gateway.counters["datagrams.received"] == len(garbage()))
        for reason in garbage():
            assert gateway.counters[f"datagrams.dropped.{reason}"] == 1, reason
        assert gateway.counters["recordings.assembled"] == 0


async def test_counters_are_logged_periodically(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="voxprint.gateway")
    async with running_gateway("127.0.0.1:1", counters_interval=0.05) as gateway:
        send_datagrams([b"junk"], gateway)
        await until(lambda: any("datagrams.dropped.bad_magic=1" in r.message for r in caplog.records))


async def test_query_for_an_unknown_session_is_counted_and_unanswered() -> None:
    async with running_gateway("127.0.0.1:1") as gateway:
        send_datagrams([protocol.encode(Query(5, 5))], gateway)
        await until(lambda: gateway.counters["queries.unknown_session"] == 1)


async def test_a_datagram_the_gateway_fails_on_is_counted_and_the_next_one_served(monkeypatch) -> None:
    async with running_gateway("127.0.0.1:1") as gateway:

        def broken(*args: object) -> None:
            raise RuntimeError("a bug")

        monkeypatch.setattr(gateway, "_answer", broken)
        send_datagrams([protocol.encode(Query(5, 5))], gateway)
        await until(lambda: gateway.counters["datagrams.dropped.internal_error"] == 1)
        monkeypatch.undo()
        send_datagrams([protocol.encode(Query(5, 5))], gateway)
        await until(lambda: gateway.counters["queries.unknown_session"] == 1)


async def test_a_recording_beyond_the_backlog_byte_limit_is_dropped_and_counted() -> None:
    recording = [protocol.encode(part(i, device=1, last=3, frames=256)) for i in range(4)]  # 2048 bytes of PCM
    another = [protocol.encode(part(i, device=2, last=3, frames=256)) for i in range(4)]
    async with running_gateway("127.0.0.1:1", max_backlog_bytes=3000) as gateway:
        send_datagrams(recording + another, gateway)
        await until(lambda: gateway.counters["recordings.assembled"] == 2)
        await until(lambda: gateway.counters["recordings.dropped.backlog"] == 1)


async def test_device_learns_its_recording_arrived_while_the_server_is_unreachable(tmp_path: Path) -> None:
    tone = tmp_path / "tone.wav"
    tone.write_bytes(wav_bytes(0.3))
    async with running_gateway(f"127.0.0.1:{unused_port()}") as gateway:
        device = SimulatedDevice(gateway.address, speed=50.0)
        result = await device.run(read_wav(tone), timeout=1.5)
        assert result.notices > 0 and not result.finished
        assert result.job_id is None and result.state == voxprint_pb2.JOB_STATE_UNSPECIFIED
        assert gateway.counters["retries.submit"] >= 1


def test_simulator_resamples_and_downmixes_to_16_bit_when_asked(tmp_path: Path) -> None:
    stereo = tmp_path / "stereo.wav"
    stereo.write_bytes(wav_bytes(0.5, rate=48_000, channels=2, sample_width=3))
    pcm = converted(read_wav(stereo), rate=16_000, mono=True)
    assert pcm.format == AudioFormat(16_000, 1, SampleFormat.S16LE)
    assert len(pcm.data) == 2 * 8_000


def test_simulator_sends_a_wav_in_its_own_format_unless_asked(tmp_path: Path) -> None:
    stereo = tmp_path / "stereo.wav"
    stereo.write_bytes(wav_bytes(0.5, rate=22_050, channels=2, sample_width=1))
    native = read_wav(stereo)
    assert native.format == AudioFormat(22_050, 2, SampleFormat.U8)
    assert converted(native) is native


def stereo_24_bit_copy(source: Path, destination: Path) -> Path:
    """`source` (16-bit mono) as 24-bit stereo: what an I2S microphone pair delivers."""
    samples, rate = wav_samples(source)
    destination.write_bytes(wav_of(np.repeat(samples[:, None], 2, axis=1), rate, sample_width=3))
    return destination


async def fetch_raw(target: str, job_id: uuid.UUID) -> voxprint_pb2.FetchResponse:
    async with AsyncVoxprintClient(target) as client:
        return await client.fetch(str(job_id), "raw")


async def get_job(target: str, job_id: uuid.UUID) -> voxprint_pb2.Job:
    async with AsyncVoxprintClient(target) as client:
        return await client.get(str(job_id))


@pytest.mark.slow
async def test_lossy_reordering_link_both_ways_still_gives_the_right_job_and_exact_raster(
    server_factory, speech_wav: Path
) -> None:
    server = server_factory()
    async with running_gateway(server.target) as gateway:
        device = SimulatedDevice(gateway.address, impairment=LOSSY, speed=PLAYBACK_SPEED)
        result = await device.run(read_wav(speech_wav), timeout=DEVICE_TIMEOUT)

        assert result.state == voxprint_pb2.JOB_STATE_COMPLETED and result.raster is not None
        assert "penguin" in result.transcript.lower()
        job = await get_job(server.target, result.job_id)
        assert job.transcript == result.transcript
        fetched = await fetch_raw(server.target, result.job_id)
        assert result.raster.data == fetched.data
        assert (result.raster.width, result.raster.height, result.raster.bytes_per_row) == (
            fetched.width,
            fetched.height,
            fetched.bytes_per_row,
        )
        # The impairment really happened, both ways, and was repaired.
        assert device.outbound.dropped > 0 and device.inbound.dropped > 0
        assert device.outbound.reordered > 0 and device.inbound.reordered > 0
        assert gateway.counters["datagrams.gap_filled"] > 0
        assert gateway.counters["resends.chunks"] > 0
        assert gateway.counters["deliveries.udp.acknowledged"] == 1


@pytest.mark.slow
async def test_a_device_may_announce_any_pcm_format_it_records_in(
    server_factory, speech_wav: Path, tmp_path: Path
) -> None:
    server = server_factory()
    recording = read_wav(stereo_24_bit_copy(speech_wav, tmp_path / "s24-stereo.wav"))
    assert recording.format == AudioFormat(16_000, 2, SampleFormat.S24LE)
    async with running_gateway(server.target) as gateway:
        device = SimulatedDevice(gateway.address, speed=PLAYBACK_SPEED)
        result = await device.run(recording, timeout=DEVICE_TIMEOUT)
    assert "penguin" in result.transcript.lower() and result.raster is not None


@pytest.mark.slow
async def test_two_devices_at_once_do_not_mix(server_factory, speech_wav: Path, second_speech_wav: Path) -> None:  # noqa: F811
    server = server_factory()
    async with running_gateway(server.target) as gateway:
        # The same session id on purpose: only the device id tells the recordings apart.
        penguins = SimulatedDevice(gateway.address, device_id=0xA, session_id=1, impairment=LOSSY, speed=PLAYBACK_SPEED)
        fruit = SimulatedDevice(
            gateway.address, device_id=0xB, session_id=1, impairment=Impairment(0.1, True, seed=8), speed=PLAYBACK_SPEED
        )
        first, second = await asyncio.gather(
            penguins.run(read_wav(speech_wav), timeout=DEVICE_TIMEOUT),
            fruit.run(read_wav(second_speech_wav), timeout=DEVICE_TIMEOUT),
        )

        assert first.job_id != second.job_id
        assert "penguin" in first.transcript.lower() and "penguin" not in second.transcript.lower()
        assert "banana" in second.transcript.lower() and "banana" not in first.transcript.lower()
        for result in (first, second):
            assert result.raster is not None
            assert result.raster.data == (await fetch_raw(server.target, result.job_id)).data
        assert gateway.counters["recordings.assembled"] == 2


@pytest.mark.slow
async def test_garbage_amid_a_recording_is_ignored(server_factory, speech_wav: Path) -> None:
    server = server_factory()
    async with running_gateway(server.target) as gateway:
        device = SimulatedDevice(gateway.address, speed=PLAYBACK_SPEED)
        playing = asyncio.create_task(device.run(read_wav(speech_wav), timeout=DEVICE_TIMEOUT))
        await until(lambda: gateway.counters["datagrams.received"] > 10)
        send_datagrams(list(garbage().values()), gateway)
        result = await playing

        assert "penguin" in result.transcript.lower() and result.raster is not None
        assert gateway.counters["datagrams.gap_filled"] == 0
        for reason in garbage():
            assert gateway.counters[f"datagrams.dropped.{reason}"] == 1, reason


@pytest.mark.slow
async def test_raw_pcm_from_esphome_style_firmware_becomes_a_job(server_factory, speech_wav: Path) -> None:
    server = server_factory()
    async with running_gateway(server.target, raw_listen=("127.0.0.1", 0)) as gateway:
        pcm = converted(read_wav(speech_wav), rate=16_000, mono=True)
        await send_raw(pcm, gateway.raw_address, speed=PLAYBACK_SPEED)
        await until(lambda: gateway.counters["submits.accepted"] == 1, timeout=5.0)
        async with AsyncVoxprintClient(server.target) as client:
            [job] = (await client.list()).jobs
            job = await client.wait(job.id, timeout=DEVICE_TIMEOUT)
        assert "penguin" in job.transcript.lower()
        assert job.filename.startswith("raw-127.0.0.1-")


@pytest.mark.slow
async def test_a_recording_made_while_the_server_is_down_is_submitted_once_it_is_up(
    server_factory, speech_wav: Path
) -> None:
    port = unused_port()
    async with running_gateway(f"127.0.0.1:{port}") as gateway:
        device = SimulatedDevice(gateway.address, speed=PLAYBACK_SPEED)
        playing = asyncio.create_task(device.run(read_wav(speech_wav), timeout=DEVICE_TIMEOUT))
        await until(lambda: gateway.counters["retries.submit"] >= 2, timeout=10.0)
        server = await asyncio.to_thread(server_factory, listen=f"127.0.0.1:{port}")
        result = await playing

        assert "penguin" in result.transcript.lower() and result.raster is not None
        assert len(server.stub.ListJobs(voxprint_pb2.ListJobsRequest()).jobs) == 1


@pytest.mark.slow
async def test_a_recording_replayed_to_a_restarted_gateway_maps_to_the_same_job(
    server_factory, speech_wav: Path, tmp_path: Path
) -> None:
    server = server_factory()
    results = []
    for _ in range(2):  # a fresh gateway each time: nothing remembered but its state dir's secret
        async with running_gateway(server.target, state_dir=tmp_path / "gateway-state") as gateway:
            device = SimulatedDevice(gateway.address, device_id=0xC, session_id=0x5EED, speed=PLAYBACK_SPEED)
            results.append(await device.run(read_wav(speech_wav), timeout=DEVICE_TIMEOUT))

    assert results[0].job_id is not None and results[0].job_id == results[1].job_id
    assert len(server.stub.ListJobs(voxprint_pb2.ListJobsRequest()).jobs) == 1


@pytest.mark.slow
async def test_printouts_reach_a_printer_and_a_spool_directory_too(
    server_factory, speech_wav: Path, tmp_path: Path
) -> None:
    server = server_factory()
    received = asyncio.Queue()

    async def printer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await received.put(await reader.read())
        writer.close()

    sink = await asyncio.start_server(printer, "127.0.0.1", 0)
    port = sink.sockets[0].getsockname()[1]
    spool = tmp_path / "spool"
    spool.mkdir()
    async with sink, running_gateway(server.target, deliver=("udp", f"tcp://127.0.0.1:{port}", str(spool))) as gateway:
        device = SimulatedDevice(gateway.address, speed=PLAYBACK_SPEED)
        result = await device.run(read_wav(speech_wav), timeout=DEVICE_TIMEOUT)
        printed = escpos.parse(await asyncio.wait_for(received.get(), 10.0))
        await until(lambda: gateway.counters["deliveries.directory.written"] == 1)

    spooled = escpos.parse((spool / f"{result.job_id}.escpos").read_bytes())
    assert result.raster is not None
    for image in (printed, spooled):
        assert (image.data, image.height) == (result.raster.data, result.raster.height)
