"""The `asr` program: Home Assistant's speech-to-text request becomes a voxprint job, its transcript
is returned as soon as the job has one, and the job is printed like any other — once, even when the
same pipeline then hands the phrase to the `handle` program.

Requests are replayed as homeassistant/components/wyoming/stt.py sends them (`transcribe`,
`audio-start` 16 kHz/16-bit/mono, `audio-chunk`…, `audio-stop`, then read until `transcript`),
through tests/support/wyoming.py's `ha_stt`; the conversation requests as conversation.py sends them.
"""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import numpy as np
import pytest
from wyoming.handle import Handled

from tests.support.audio import tone, wav_of
from tests.support.backends import ScriptedIllustrator, ScriptedTranscriber
from tests.support.speech import SPOKEN_PHRASE
from tests.support.wyoming import (
    GatedIllustrator,
    ha_conversation,
    ha_stt,
    jobs,
    pcm_of,
    raw_raster,
    spool,
    until,
    wyoming_address,
    wyoming_gateway,
)
from voxprint.clients.gateway.printer_map import read_printer_map
from voxprint.clients.gateway.wyoming_phrases import WakePhrase
from voxprint.v1 import voxprint_pb2

KIDS_ROOM = "assist_satellite.kids_room"
HEARD = "Draw a dragon."


def recording(seconds: float = 1.0, frequency: float = 440.0) -> bytes:
    """16 kHz mono 16-bit PCM, as Home Assistant streams it (a tone: the transcriber is scripted)."""
    return wav_of(tone(seconds, frequency=frequency))[44:]


@pytest.mark.slow
async def test_a_spoken_phrase_becomes_its_transcript_and_a_completed_job_printed_at_the_mapped_printer(
    server_factory, speech_wav: Path, tmp_path: Path
) -> None:
    server = server_factory()
    printer = spool(tmp_path / "printer")
    mapping = tmp_path / "printers"
    mapping.write_text(f"default {printer.destination}\n")
    async with wyoming_gateway(server.target, printer_map=read_printer_map(mapping)) as gateway:
        text = await ha_stt(wyoming_address(gateway), pcm_of(speech_wav))
        [job] = jobs(server)
        printed = await printer.printed(job.id)
    assert text is not None and "penguin" in text.lower(), text
    job = server.stub.GetJob(voxprint_pb2.GetJobRequest(job_id=job.id))
    assert job.state == voxprint_pb2.JOB_STATE_COMPLETED and job.transcript == text
    raster = raw_raster(server, job.id)
    assert (printed.data, printed.height) == (raster.data, raster.height)
    assert SPOKEN_PHRASE.split()[-1] in job.transcript.lower()


async def test_the_transcript_comes_back_while_the_picture_is_still_being_made(server_factory, tmp_path: Path) -> None:
    gate = threading.Event()
    server = server_factory(transcriber=ScriptedTranscriber(HEARD), illustrator=GatedIllustrator(gate))
    printer = spool(tmp_path / "printer")
    try:
        async with wyoming_gateway(server.target, deliver=(printer.destination,)) as gateway:
            text = await ha_stt(wyoming_address(gateway), recording())
            [job] = jobs(server)
            assert job.state != voxprint_pb2.JOB_STATE_COMPLETED
            gate.set()
            await printer.printed(job.id)
    finally:
        gate.set()
    assert text == HEARD


async def test_a_phrase_heard_by_asr_and_then_handled_is_one_job_printed_once(server_factory, tmp_path: Path) -> None:
    server = server_factory(transcriber=ScriptedTranscriber(HEARD), illustrator=ScriptedIllustrator())
    printer = spool(tmp_path / "printer")
    async with wyoming_gateway(server.target, deliver=(printer.destination,)) as gateway:
        text = await ha_stt(wyoming_address(gateway), recording())
        assert text is not None
        answer = await ha_conversation(wyoming_address(gateway), text, uuid.uuid4().hex)
        [job] = jobs(server)
        await printer.printed(job.id)
        assert gateway.counters["wyoming.printed"] == 1
    assert Handled.is_type(answer.type) and answer.data["text"] == "Printing Draw a dragon"
    assert printer.jobs() == [job.id]


async def test_handle_names_the_satellite_whose_printer_prints_the_job_asr_started(
    server_factory, tmp_path: Path
) -> None:
    gate = threading.Event()
    server = server_factory(transcriber=ScriptedTranscriber(HEARD), illustrator=GatedIllustrator(gate))
    default, kids = spool(tmp_path / "default"), spool(tmp_path / "kids")
    mapping = tmp_path / "printers"
    mapping.write_text(f"default {default.destination}\n{KIDS_ROOM} {kids.destination}\n")
    try:
        async with wyoming_gateway(server.target, printer_map=read_printer_map(mapping)) as gateway:
            text = await ha_stt(wyoming_address(gateway), recording())
            assert text is not None
            await ha_conversation(wyoming_address(gateway), text, uuid.uuid4().hex, satellite_id=KIDS_ROOM)
            gate.set()
            [job] = jobs(server)
            await kids.printed(job.id)
    finally:
        gate.set()
    assert default.jobs() == []


async def test_the_same_recording_sent_again_is_the_same_job_printed_once(server_factory, tmp_path: Path) -> None:
    server = server_factory(transcriber=ScriptedTranscriber(HEARD), illustrator=ScriptedIllustrator())
    printer = spool(tmp_path / "printer")
    async with wyoming_gateway(server.target, deliver=(printer.destination,)) as gateway:
        first = await ha_stt(wyoming_address(gateway), recording())
        again = await ha_stt(wyoming_address(gateway), recording())
        [job] = jobs(server)
        await printer.printed(job.id)
        assert gateway.counters["wyoming.printed"] == 1
    assert first == again == HEARD


async def test_another_recording_is_another_job(server_factory, tmp_path: Path) -> None:
    server = server_factory(transcriber=ScriptedTranscriber(HEARD), illustrator=ScriptedIllustrator())
    printer = spool(tmp_path / "printer")
    async with wyoming_gateway(server.target, deliver=(printer.destination,)) as gateway:
        await ha_stt(wyoming_address(gateway), recording(frequency=440.0))
        await ha_stt(wyoming_address(gateway), recording(frequency=660.0))
        made = jobs(server)
        for job in made:
            await printer.printed(job.id)
    assert len(made) == 2


async def test_a_recording_without_speech_gets_an_empty_transcript_and_no_printout(
    server_factory, tmp_path: Path
) -> None:
    server = server_factory(transcriber=ScriptedTranscriber(fail="no speech found"), illustrator=ScriptedIllustrator())
    printer = spool(tmp_path / "printer")
    async with wyoming_gateway(server.target, deliver=(printer.destination,)) as gateway:
        text = await ha_stt(wyoming_address(gateway), np.zeros(16_000, dtype="<i2").tobytes())
        [job] = jobs(server)
        await until(lambda: gateway.counters["wyoming.prints.skipped.no_picture"] == 1)
    assert text == ""
    assert job.state == voxprint_pb2.JOB_STATE_FAILED and printer.jobs() == []


async def test_with_a_wake_phrase_a_recording_without_it_is_transcribed_but_not_printed(
    server_factory, tmp_path: Path
) -> None:
    server = server_factory(transcriber=ScriptedTranscriber("Turn on the lights."), illustrator=ScriptedIllustrator())
    printer = spool(tmp_path / "printer")
    async with wyoming_gateway(
        server.target, deliver=(printer.destination,), wake=WakePhrase.parse("draw,print")
    ) as gateway:
        text = await ha_stt(wyoming_address(gateway), recording())
        await until(lambda: gateway.counters["wyoming.prints.skipped.wake_phrase"] == 1)
    assert text == "Turn on the lights."
    assert printer.jobs() == []
