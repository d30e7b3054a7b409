"""Wyoming latency: what voxprint's Home Assistant front adds to the work it fronts.

    python -m benchmarks.wyoming_latency [--rounds 5]

A real server on the offline defaults (Whisper tiny.en, the pictogram illustrator) runs in this
process, with a gateway serving Wyoming in front of it and printing to an ESC/POS "printer" on
loopback (a TCP listener here that notes when each printout has arrived whole). Spoken phrases
(flite) go through Home Assistant's own request sequences (tests/support/wyoming.py), each timed
next to the bare work it stands for, interleaved, one at a time:

* asr — `audio-stop` → `transcript` event, beside the bare transcriber (the server's own speech
  gate and Whisper, called directly on the same WAV);
* handle — `transcript` event → the raster at the printer, beside the bare job (Draw, Watch until
  COMPLETED, Fetch RAW, over gRPC with no gateway); and `transcript` → `handled`, the answer the
  satellite speaks.

Every median a ratio is made of is printed beside it. Each round adds a few milliseconds of
silence to the recordings, so no recording repeats (a repeated one is the same job, by design).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.handle import Handled, NotHandled

from tests.support.audio import wav_of, wav_samples
from tests.support.servers import RunningServer, offline_settings
from tests.support.speech import speak
from tests.support.wyoming import HA_CHANNELS, HA_CHUNK_BYTES, HA_RATE, HA_WIDTH, read_until
from voxprint.clients import AsyncVoxprintClient
from voxprint.clients.gateway.assembler import Address
from voxprint.clients.gateway.main import Gateway, GatewayConfig
from voxprint.clients.gateway.wyoming import WyomingConfig
from voxprint.server.transcribers import Transcriber, create_transcriber

PHRASES = (
    "two penguins on the beach",
    "a red dragon",
    "a cat in a boat",
    "a rocket flies to the moon",
    "a house with a tree",
)
TIMEOUT = 120.0


class Printer:
    """A loopback ESC/POS printer: the time each printout finished arriving."""

    def __init__(self) -> None:
        self.arrivals: asyncio.Queue[float] = asyncio.Queue()
        self._server: asyncio.Server | None = None

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._receive, "127.0.0.1", 0)
        return f"tcp://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def _receive(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the sender half-closes: the printout is whole
        await self.arrivals.put(time.perf_counter())
        writer.close()

    async def next_printout(self) -> float:
        return await asyncio.wait_for(self.arrivals.get(), TIMEOUT)

    def close(self) -> None:
        if self._server is not None:
            self._server.close()


@dataclass
class Samples:
    asr: list[float] = field(default_factory=list)
    transcriber: list[float] = field(default_factory=list)
    handle_to_print: list[float] = field(default_factory=list)
    job: list[float] = field(default_factory=list)
    handled_answer: list[float] = field(default_factory=list)


async def wyoming_asr(address: Address, pcm: bytes) -> tuple[str, float]:
    """Home Assistant's stt.py sequence; the transcript and the seconds from `audio-stop` to it."""
    async with AsyncTcpClient(*address) as client:
        await client.write_event(Transcribe(language="en").event())
        await client.write_event(AudioStart(rate=HA_RATE, width=HA_WIDTH, channels=HA_CHANNELS).event())
        for start in range(0, len(pcm), HA_CHUNK_BYTES):
            chunk = pcm[start : start + HA_CHUNK_BYTES]
            await client.write_event(
                AudioChunk(rate=HA_RATE, width=HA_WIDTH, channels=HA_CHANNELS, audio=chunk).event()
            )
        started = time.perf_counter()
        await client.write_event(AudioStop().event())
        event = await read_until(client, Transcript.is_type, TIMEOUT)
        elapsed = time.perf_counter() - started
    assert event is not None, "no transcript"
    return Transcript.from_event(event).text, elapsed


async def wyoming_handle(address: Address, phrase: str, printer: Printer) -> tuple[float, float]:
    """Home Assistant's conversation.py sequence: seconds to `handled`, and to the printout."""
    async with AsyncTcpClient(*address) as client:
        started = time.perf_counter()
        await client.write_event(Transcript(phrase, context={"conversation_id": uuid.uuid4().hex}).event())
        event = await read_until(client, lambda kind: Handled.is_type(kind) or NotHandled.is_type(kind), TIMEOUT)
        answered = time.perf_counter() - started
    assert event is not None and Handled.is_type(event.type), event
    return answered, await printer.next_printout() - started


def bare_transcriber(transcriber: Transcriber, wav: Path) -> float:
    started = time.perf_counter()
    transcriber.transcribe(wav)
    return time.perf_counter() - started


async def bare_job(client: AsyncVoxprintClient, phrase: str) -> float:
    started = time.perf_counter()
    job = await client.draw(phrase)
    await client.wait(job.id, timeout=TIMEOUT)
    await client.fetch(job.id, "raw")
    return time.perf_counter() - started


async def measure(rounds: int, directory: Path) -> Samples:
    recordings = {phrase: speak(phrase, directory / f"{index}.wav") for index, phrase in enumerate(PHRASES)}
    server = RunningServer(offline_settings(directory / "data"))
    transcriber = create_transcriber(server.settings)
    printer = Printer()
    samples = Samples()
    try:
        destination = await printer.start()
        async with AsyncVoxprintClient(server.target) as client:
            config = GatewayConfig(
                listen=None,
                deliver=(destination,),
                # Both programs hear each phrase here, measured apart: the memory that makes one
                # utterance through both one job would make the second measurement measure nothing.
                wyoming=WyomingConfig(listen=("127.0.0.1", 0), repeat_window=0.0),
                counters_interval=3600.0,
            )
            gateway = Gateway(config, client)
            await gateway.start()
            address = gateway.wyoming_address
            assert address is not None
            try:
                for round_ in range(rounds):
                    for phrase, recording in recordings.items():
                        spoken, rate = wav_samples(recording)
                        # A round's own bit of trailing silence: no two recordings are the same bytes.
                        wav = wav_of(np.concatenate([spoken, np.zeros(rate // 100 * (round_ + 1))]), rate)
                        path = directory / "this-round.wav"
                        path.write_bytes(wav)
                        samples.transcriber.append(bare_transcriber(transcriber, path))
                        heard, seconds = await wyoming_asr(address, wav[44:])
                        samples.asr.append(seconds)
                        await printer.next_printout()  # the asr job prints too: let it finish first
                        samples.job.append(await bare_job(client, phrase))
                        answered, printed = await wyoming_handle(address, phrase, printer)
                        samples.handled_answer.append(answered)
                        samples.handle_to_print.append(printed)
                        print(f"round {round_ + 1}: {phrase!r} heard as {heard!r}", flush=True)
            finally:
                await gateway.close()
    finally:
        printer.close()
        server.stop()
    return samples


def report(samples: Samples) -> None:
    def ms(values: list[float]) -> float:
        return statistics.median(values) * 1000

    rows = [
        ("asr: audio-stop → transcript event", ms(samples.asr), ""),
        ("bare transcriber (speech gate + Whisper tiny.en)", ms(samples.transcriber), ""),
        ("asr ÷ bare transcriber", None, f"{ms(samples.asr) / ms(samples.transcriber):.2f}×"),
        ("handle: transcript event → raster at the printer", ms(samples.handle_to_print), ""),
        ("bare job (Draw → COMPLETED → Fetch RAW)", ms(samples.job), ""),
        ("handle ÷ bare job", None, f"{ms(samples.handle_to_print) / ms(samples.job):.2f}×"),
        ("handle: transcript event → handled answer", ms(samples.handled_answer), ""),
    ]
    width = max(len(name) for name, _, _ in rows)
    print(f"\n{'measure (medians of ' + str(len(samples.asr)) + ')':<{width}}  {'median':>10}  {'ratio':>7}")
    for name, median, ratio in rows:
        shown = f"{median:8.1f} ms" if median is not None else ""
        print(f"{name:<{width}}  {shown:>10}  {ratio:>7}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="times each phrase is measured")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        samples = asyncio.run(measure(args.rounds, Path(directory)))
    report(samples)


if __name__ == "__main__":
    main()
