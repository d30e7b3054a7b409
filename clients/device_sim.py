"""A simulated voxprint device: what a maker runs before flashing firmware.

    python -m voxprint.clients.device_sim rec.wav --gateway 127.0.0.1:6384 --preview out.png

It plays a WAV to the gateway exactly as firmware would (docs/udp-protocol.md): paced AUDIO
datagrams announcing the WAV's own format (or `--rate`/`--mono` to resample/downmix first;
μ-law, A-law, float and other encodings a device would not send become 16-bit PCM), then waits for its job's notices and the raster, asking again (QUERY, RESEND) for whatever got
lost, checks the raster's CRC, ACKs it and writes a preview PNG. `--loss` and `--reorder`
impair the link in both directions with a seeded random generator, so tests are repeatable.
`--raw` sends headerless 16 kHz 16-bit mono PCM instead (ESPHome style; no reply comes).
`--device-key` tags every datagram with the device's secret and a replay counter, as a gateway
with `--device-keys` requires, and accepts only replies tagged with it. Like firmware, it echoes
the cookie of the latest notice in its requests, which proves its address to the gateway.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import uuid
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import av
import click
import numpy as np

from voxprint import rasterizer
from voxprint.clients.gateway import protocol
from voxprint.clients.gateway.assembler import RAW_FORMAT, AudioFormat
from voxprint.clients.gateway.protocol import (
    NO_COOKIE,
    Ack,
    Audio,
    AudioFlag,
    JobFlag,
    JobNotice,
    ProtocolError,
    Query,
    RasterChunk,
    Resend,
    SampleFormat,
    Signing,
)
from voxprint.clients.gateway.replay import SendCounter
from voxprint.common.addresses import split_host_port
from voxprint.common.enums import TERMINAL_STATES, enum_label
from voxprint.v1 import voxprint_pb2

Address = tuple[str, int]
_FORMAT_FOR_WIDTH = {1: SampleFormat.U8, 2: SampleFormat.S16LE, 3: SampleFormat.S24LE, 4: SampleFormat.S32LE}


@dataclass(frozen=True)
class Pcm:
    """Interleaved little-endian samples in `format`, as a device's microphone would give."""

    format: AudioFormat
    data: bytes


class UnsupportedAudio(ValueError):
    """A file the simulator cannot play; the message is one line naming the file and why."""


def read_wav(path: Path) -> Pcm:
    """The WAV's samples in its own format if it is integer PCM; anything else FFmpeg decodes
    (μ-law, A-law, float, ADPCM, …) as 16-bit PCM at its own rate and channel count."""
    try:
        with wave.open(str(path), "rb") as wav:
            fmt = AudioFormat(wav.getframerate(), wav.getnchannels(), _FORMAT_FOR_WIDTH[wav.getsampwidth()])
            return Pcm(fmt, wav.readframes(wav.getnframes()))
    except (wave.Error, EOFError) as refused:
        return _decoded(path, str(refused) or "truncated")


def _decoded(path: Path, why_not_pcm: str) -> Pcm:
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio or container.streams.audio[0].codec_context is None:
                raise UnsupportedAudio(f"{path.name}: unsupported audio format ({why_not_pcm})")
            stream = container.streams.audio[0]
            to_s16 = av.AudioResampler(format="s16", layout=stream.layout, rate=stream.rate)
            frames = [*container.decode(stream), None]  # None flushes the resampler
            data = b"".join(s16.to_ndarray().tobytes() for frame in frames for s16 in to_s16.resample(frame))
            return Pcm(AudioFormat(stream.rate, stream.channels, SampleFormat.S16LE), data)
    except av.FFmpegError:
        raise UnsupportedAudio(f"{path.name}: not a readable recording ({why_not_pcm})") from None


def check_sendable(pcm: Pcm) -> None:
    """Raise UnsupportedAudio if the protocol cannot announce `pcm`'s format, saying what helps."""
    fmt = pcm.format
    if not protocol.MIN_SAMPLE_RATE <= fmt.sample_rate <= protocol.MAX_SAMPLE_RATE:
        raise UnsupportedAudio(
            f"{fmt.sample_rate} Hz is outside the protocol's {protocol.MIN_SAMPLE_RATE}-{protocol.MAX_SAMPLE_RATE} Hz"
            " (pass --rate 16000)"
        )
    if fmt.channels > protocol.MAX_CHANNELS:
        raise UnsupportedAudio(
            f"{fmt.channels} channels: the protocol carries at most {protocol.MAX_CHANNELS} (pass --mono)"
        )


def converted(pcm: Pcm, *, rate: int | None = None, mono: bool = False) -> Pcm:
    """`pcm` resampled to `rate` and/or downmixed, as 16-bit; unchanged if nothing is asked."""
    native = pcm.format
    target = AudioFormat(rate or native.sample_rate, 1 if mono else native.channels, SampleFormat.S16LE)
    if not (rate or mono) or target == native:
        return pcm
    signal = _to_float(pcm.data, native).reshape(-1, native.channels)
    if mono:
        signal = signal.mean(axis=1, keepdims=True)
    if target.sample_rate != native.sample_rate:
        # Linear interpolation: plenty for speech headed to a speech recognizer.
        times = np.arange(int(len(signal) * target.sample_rate / native.sample_rate))
        positions = times * native.sample_rate / target.sample_rate
        signal = np.stack(
            [np.interp(positions, np.arange(len(signal)), signal[:, channel]) for channel in range(signal.shape[1])],
            axis=1,
        )
    samples = (np.clip(signal, -1.0, 32766 / 32767) * 32767).astype("<i2").tobytes()
    return Pcm(target, samples)


def _to_float(data: bytes, fmt: AudioFormat) -> np.ndarray:
    width = fmt.sample_format.width
    if fmt.sample_format is SampleFormat.U8:
        return (np.frombuffer(data, np.uint8).astype(np.float64) - 128) / 128
    padded = np.zeros((len(data) // width, 4), np.uint8)
    padded[:, 4 - width :] = np.frombuffer(data, np.uint8).reshape(-1, width)
    return padded.view("<i4")[:, 0].astype(np.float64) / 2**31


class LossyLink:
    """A one-way link that drops datagrams with probability `loss` and, with `reorder`, holds
    one back now and then until the next one has passed.

    Seeded, with one random stream per message kind: how many QUERY or JOB datagrams flow
    depends on timing, and must not shift which AUDIO or RASTER datagrams are lost, so a seed
    gives the same loss pattern on every run.
    """

    HOLD_PROBABILITY = 0.2
    # A held datagram with nothing behind it is let through after this long.
    HOLD_LIMIT = 0.02

    def __init__(
        self, deliver: Callable[[bytes], None], *, loss: float = 0.0, reorder: bool = False, seed: int | str = 0
    ) -> None:
        self._deliver = deliver
        self._loss = loss
        self._reorder = reorder
        self._seed = seed
        self._streams: dict[int, random.Random] = {}
        self._held: bytes | None = None
        self._release: asyncio.TimerHandle | None = None
        self.dropped = 0
        self.reordered = 0

    def _random(self, datagram: bytes) -> random.Random:
        kind = datagram[5] if datagram[:4] == protocol.MAGIC and len(datagram) > 5 else 0
        if kind not in self._streams:
            self._streams[kind] = random.Random(f"{self._seed}-{kind}")
        return self._streams[kind]

    def send(self, datagram: bytes) -> None:
        chance = self._random(datagram)
        # Both draws every time, so the pattern does not depend on what happens to be held.
        lost, held = chance.random() < self._loss, chance.random() < self.HOLD_PROBABILITY
        if lost:
            self.dropped += 1
            return
        if self._held is None and self._reorder and held:
            self._held = datagram
            self._release = asyncio.get_running_loop().call_later(self.HOLD_LIMIT, self._flush)
            return
        self._deliver(datagram)
        if self._held is not None:
            self.reordered += 1
            self._flush()

    def close(self) -> None:
        """Drop a datagram still held back; the socket behind the link is going away."""
        if self._release is not None:
            self._release.cancel()
        self._held = self._release = None

    def _flush(self) -> None:
        if self._release is not None:
            self._release.cancel()
        held, self._held, self._release = self._held, None, None
        if held is not None:
            self._deliver(held)


@dataclass(frozen=True)
class Impairment:
    loss: float = 0.0
    reorder: bool = False
    seed: int = 0


@dataclass
class DeviceResult:
    job_id: uuid.UUID | None = None
    state: int = voxprint_pb2.JOB_STATE_UNSPECIFIED
    transcript: str = ""
    error: str = ""
    raster: rasterizer.Raster | None = None
    raster_expected: bool = False
    notices: int = 0
    resends: int = 0

    @property
    def finished(self) -> bool:
        return self.state in TERMINAL_STATES and (self.raster is not None or not self.raster_expected)


@dataclass
class _Reception:
    """Raster chunks collected so far."""

    first: RasterChunk
    chunks: dict[int, bytes] = field(default_factory=dict)

    @property
    def missing(self) -> list[int]:
        return [i for i in range(self.first.chunk_count) if i not in self.chunks]

    def raster(self) -> rasterizer.Raster | None:
        """The rebuilt raster, or None if it fails its CRC (then it is fetched again)."""
        first = self.first
        data = b"".join(self.chunks[i] for i in range(first.chunk_count))
        if protocol.raster_crc32(data) != first.crc32:
            return None
        return rasterizer.Raster(data, first.width, first.height, first.bytes_per_row)


class _Socket(asyncio.DatagramProtocol):
    def __init__(self, receive: Callable[[bytes], None]) -> None:
        self._receive = receive

    def datagram_received(self, data: bytes, addr: Address) -> None:
        self._receive(data)

    def error_received(self, exc: Exception) -> None:
        # The gateway is not up (ICMP port unreachable): the retry timers cover that.
        pass


class SimulatedDevice:
    """One device: `run(pcm)` plays a recording and waits for what the gateway sends back."""

    # Requests in a row without any reply after which the device takes its cookie for stale (its
    # address may have changed under a NAT) and pays for a fresh one with a padded QUERY.
    UNANSWERED_LIMIT = 2

    def __init__(
        self,
        gateway: Address,
        *,
        device_id: int | None = None,
        session_id: int | None = None,
        impairment: Impairment = Impairment(),
        datagram_bytes: int = 1024,
        speed: float = 1.0,
        retry_interval: float = 0.3,
        end_repeats: int = 3,
        key: bytes | None = None,
    ) -> None:
        self.gateway = gateway
        self.device_id = device_id if device_id is not None else int.from_bytes(os.urandom(8), "big")
        # The secret shared with the gateway: datagrams are tagged with it, replies must be.
        self.key = key
        self._counter = SendCounter()
        # From the latest notice: echoed in every request, it proves this device's address.
        self._cookie = NO_COOKIE
        self._unanswered = 0
        # A fresh random session id per recording: the gateway's idempotency key includes it.
        self.session_id = session_id if session_id is not None else int.from_bytes(os.urandom(4), "big")
        self.impairment = impairment
        self.datagram_bytes = datagram_bytes
        self.speed = speed
        self.retry_interval = retry_interval
        self.end_repeats = end_repeats
        self.result = DeviceResult()
        self.outbound = LossyLink(
            self._transmit, loss=impairment.loss, reorder=impairment.reorder, seed=f"{impairment.seed}-out"
        )
        self.inbound = LossyLink(
            self._receive, loss=impairment.loss, reorder=impairment.reorder, seed=f"{impairment.seed}-in"
        )
        self._transport: asyncio.DatagramTransport | None = None
        self._reception: _Reception | None = None
        self._progress = asyncio.Event()

    async def run(self, pcm: Pcm, timeout: float = 120.0) -> DeviceResult:
        """Send `pcm`, then collect the job's outcome (and raster) until done or `timeout`."""
        loop = asyncio.get_running_loop()
        self._transport, _ = await loop.create_datagram_endpoint(
            lambda: _Socket(self.inbound.send), remote_addr=self.gateway
        )
        try:
            await asyncio.wait_for(self._conversation(pcm), timeout)
        except asyncio.TimeoutError:
            pass
        finally:
            self.outbound.close()
            self.inbound.close()
            self._transport.close()
        return self.result

    async def _conversation(self, pcm: Pcm) -> None:
        await self._play(pcm)
        while not self.result.finished:
            self._progress.clear()
            try:
                await asyncio.wait_for(self._progress.wait(), self.retry_interval)
            except asyncio.TimeoutError:
                self._ask_again()
        self._send(Ack(self.device_id, self.session_id, self._cookie))

    async def _play(self, pcm: Pcm) -> None:
        fmt = pcm.format
        step = max(fmt.frame_size, self.datagram_bytes - self.datagram_bytes % fmt.frame_size)
        slices = [pcm.data[i : i + step] for i in range(0, len(pcm.data), step)] or [b""]
        interval = step / fmt.frame_size / fmt.sample_rate / self.speed
        for sequence, payload in enumerate(slices):
            flags = AudioFlag.NONE
            if sequence == 0:
                flags |= AudioFlag.START
            if sequence == len(slices) - 1:
                flags |= AudioFlag.END
            audio = Audio(
                self.device_id,
                self.session_id,
                sequence,
                fmt.sample_rate,
                fmt.channels,
                fmt.sample_format,
                payload,
                flags,
            )
            # The END datagram is repeated: losing it would cost the silence timeout.
            for _ in range(self.end_repeats if AudioFlag.END in flags else 1):
                self._send(audio)
            await asyncio.sleep(interval)

    def _ask_again(self) -> None:
        if self._unanswered >= self.UNANSWERED_LIMIT:
            self._cookie = NO_COOKIE
        self._unanswered += 1
        reception = self._reception
        if self._cookie == NO_COOKIE:
            # Nothing proves this address yet: the gateway answers it only with as many bytes as
            # it brought, so the QUERY is as large as any notice can be.
            filler = (
                protocol.MAX_DATAGRAM_SIZE
                - protocol.QUERY_SIZE
                - (protocol.TRAILER_SIZE if self.key is not None else 0)
            )
            self._send(Query(self.device_id, self.session_id, padding=filler))
        elif reception is not None and reception.missing:
            self.result.resends += 1
            missing = reception.missing[: protocol.MAX_RESEND_INDICES]
            self._send(Resend(self.device_id, self.session_id, tuple(missing), self._cookie))
        elif self.result.state in TERMINAL_STATES and self.result.raster_expected and reception is None:
            self.result.resends += 1
            self._send(Resend(self.device_id, self.session_id, cookie=self._cookie))
        else:
            self._send(Query(self.device_id, self.session_id, self._cookie))

    def _send(self, message: protocol.Message) -> None:
        signing = Signing(self.key, self._counter.next()) if self.key is not None else None
        self.outbound.send(protocol.encode(message, signing))

    def _transmit(self, datagram: bytes) -> None:
        assert self._transport is not None, "sending happens only within run()"
        self._transport.sendto(datagram)

    def _receive(self, datagram: bytes) -> None:
        try:
            message = protocol.decode(datagram, {self.device_id: self.key} if self.key is not None else None)
        except ProtocolError:
            return
        if (message.device_id, message.session_id) != (self.device_id, self.session_id):
            return
        self._unanswered = 0
        if isinstance(message, JobNotice):
            self._note(message)
        elif isinstance(message, RasterChunk):
            self._collect(message)

    def _note(self, notice: JobNotice) -> None:
        if notice.cookie != self._cookie:
            # Echoed at once: the gateway sends the raster in full only to a proven address.
            self._cookie = notice.cookie
            self._send(Query(self.device_id, self.session_id, self._cookie))
        result = self.result
        result.notices += 1
        if notice.state < result.state:
            return  # overtaken by a later notice on the way (job states only move forward)
        if notice.job_id.int:
            result.job_id = notice.job_id
        result.state = notice.state
        if JobFlag.TEXT_IS_ERROR in notice.flags:
            result.error = notice.text
        else:
            result.transcript = notice.text
        result.raster_expected = (
            JobFlag.RASTER_FOLLOWS in notice.flags and notice.state != voxprint_pb2.JOB_STATE_FAILED
        )
        self._progress.set()

    def _collect(self, chunk: RasterChunk) -> None:
        if self._reception is None or self._reception.first.crc32 != chunk.crc32:
            self._reception = _Reception(chunk)
        self._reception.chunks[chunk.chunk_index] = chunk.payload
        self.result.job_id = chunk.job_id
        if not self._reception.missing:
            self.result.raster = self._reception.raster()
            if self.result.raster is None:
                self._reception = None
        self._progress.set()


async def send_raw(
    pcm: Pcm, gateway: Address, *, datagram_bytes: int = 1024, speed: float = 1.0, impairment: Impairment = Impairment()
) -> int:
    """ESPHome-style: bare RAW_FORMAT PCM datagrams, paced in real time / `speed`.
    Returns how many were sent."""
    if pcm.format != RAW_FORMAT:
        raise ValueError(f"raw mode is {RAW_FORMAT}, not {pcm.format}")
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(asyncio.DatagramProtocol, remote_addr=gateway)
    link = LossyLink(transport.sendto, loss=impairment.loss, reorder=impairment.reorder, seed=impairment.seed)
    slices = [pcm.data[i : i + datagram_bytes] for i in range(0, len(pcm.data), datagram_bytes)]
    interval = datagram_bytes / RAW_FORMAT.frame_size / RAW_FORMAT.sample_rate / speed
    try:
        for payload in slices:
            link.send(payload)
            await asyncio.sleep(interval)
        await asyncio.sleep(LossyLink.HOLD_LIMIT * 2)  # let a held-back datagram go
    finally:
        link.close()
        transport.close()
    return len(slices)


class _Hex(click.ParamType):
    """A hexadecimal command-line value, as an integer or as bytes."""

    def __init__(self, as_bytes: bool) -> None:
        self.name = "hex"
        self._as_bytes = as_bytes

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> int | bytes:
        if isinstance(value, (int, bytes)):
            return value  # a default, already converted
        text = str(value)
        try:
            return bytes.fromhex(text) if self._as_bytes else int(text, 16)
        except ValueError:
            self.fail(f"{value!r} is not hexadecimal", param, ctx)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("wav", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--gateway", default="127.0.0.1:6384", show_default=True, help="The gateway's UDP HOST:PORT.")
@click.option("--rate", type=int, help="Resample to this rate before sending (default: the WAV's).")
@click.option("--mono", is_flag=True, help="Downmix to one channel before sending.")
@click.option("--raw", is_flag=True, help="Headerless 16 kHz 16-bit mono PCM for the gateway's --raw-listen port.")
@click.option("--device-id", type=_Hex(as_bytes=False), help="64-bit device id in hex (default: random).")
@click.option(
    "--device-key",
    type=_Hex(as_bytes=True),
    help="This device's secret in hex, as listed in the gateway's --device-keys file (needs --device-id).",
)
@click.option(
    "--loss",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Drop this fraction of datagrams in each direction.",
)
@click.option("--reorder", is_flag=True, help="Also reorder datagrams in each direction.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for --loss/--reorder.")
@click.option("--speed", type=float, default=1.0, show_default=True, help="Play faster than real time.")
@click.option(
    "--timeout",
    type=float,
    default=120.0,
    show_default=True,
    help="Give up waiting for the printout after this many seconds.",
)
@click.option(
    "--preview", type=click.Path(dir_okay=False, path_type=Path), help="Write the received raster as a PNG here."
)
@click.option(
    "--raster-out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the received raster bytes (LSB-first, as Fetch RAW) here.",
)
def main(
    wav: Path,
    gateway: str,
    rate: int | None,
    mono: bool,
    raw: bool,
    device_id: int | None,
    device_key: bytes | None,
    loss: float,
    reorder: bool,
    seed: int,
    speed: float,
    timeout: float,
    preview: Path | None,
    raster_out: Path | None,
) -> None:
    """Play WAV to a voxprint gateway as a device would, and receive the printout."""
    if device_key is not None and device_id is None:
        raise click.UsageError("--device-key needs --device-id: the gateway looks the key up by device id")
    try:
        address = split_host_port(gateway)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--gateway") from None
    impairment = Impairment(loss, reorder, seed)
    try:
        if raw:
            pcm = converted(read_wav(wav), rate=RAW_FORMAT.sample_rate, mono=True)
        else:
            pcm = converted(read_wav(wav), rate=rate, mono=mono)
            check_sendable(pcm)
    except UnsupportedAudio as error:
        raise click.ClickException(str(error)) from None
    if raw:
        count = asyncio.run(send_raw(pcm, address, speed=speed, impairment=impairment))
        click.echo(f"sent {count} raw datagrams; raw devices get no reply (see the gateway's --deliver)")
        return
    device = SimulatedDevice(address, device_id=device_id, impairment=impairment, speed=speed, key=device_key)
    click.echo(f"device {device.device_id:016x} session {device.session_id:08x} → {gateway}")
    result = asyncio.run(device.run(pcm, timeout))
    # The state is a number off the wire: a newer gateway's state prints as its digits, not a crash.
    click.echo(f"job {result.job_id or '-'}: {enum_label(voxprint_pb2.JobState, result.state)}")
    if result.transcript:
        click.echo(f"transcript: {result.transcript}")
    if result.error:
        click.echo(f"error: {result.error}", err=True)
    if result.raster is not None:
        click.echo(
            f"raster: {result.raster.width}x{result.raster.height} "
            f"({len(result.raster.data)} bytes, {result.resends} resend requests)"
        )
        if preview:
            preview.write_bytes(rasterizer.preview(result.raster))
            click.echo(f"wrote preview → {preview}")  # as `voxprint submit --preview` says it
        if raster_out:
            raster_out.write_bytes(result.raster.data)
            click.echo(f"wrote raster → {raster_out}")
    if not result.finished:
        click.echo(f"gave up after {timeout:g} s", err=True)
        sys.exit(2)
    sys.exit(0 if result.state == voxprint_pb2.JOB_STATE_COMPLETED and not result.error else 1)


if __name__ == "__main__":
    main()
