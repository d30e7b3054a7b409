"""The `handle` program: Home Assistant's conversation agent request (a `transcript` event) becomes
a job drawing the phrase, answered at once, printed at the satellite's printer when done.

Requests are replayed as homeassistant/components/wyoming/conversation.py sends them
(`Transcript(text, context={"conversation_id": ...})`, then read until `handled`/`not-handled`),
through tests/support/wyoming.py's `ha_conversation`.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from pathlib import Path

from wyoming.handle import Handled, NotHandled

from tests.support.backends import ScriptedIllustrator, ScriptedTranscriber
from tests.support.clients import TcpSink
from tests.support.wyoming import (
    GatedIllustrator,
    ha_conversation,
    jobs,
    raw_raster,
    spool,
    wyoming_address,
    wyoming_gateway,
)
from voxprint.clients import escpos
from voxprint.clients.gateway.printer_map import read_printer_map
from voxprint.clients.gateway.wyoming_phrases import WakePhrase
from voxprint.v1 import voxprint_pb2

KIDS_ROOM = "assist_satellite.kids_room"
KITCHEN_DEVICE = "4d9c2e7f0a1b4c3d8e6f5a4b3c2d1e0f"


def conversation() -> str:
    return uuid.uuid4().hex.upper()  # Home Assistant's are ULIDs: any unique text


async def test_home_assistants_request_is_answered_printing_the_phrase_before_the_picture_exists(
    server_factory, tmp_path: Path
) -> None:
    gate = threading.Event()
    server = server_factory(transcriber=ScriptedTranscriber(), illustrator=GatedIllustrator(gate))
    printer = spool(tmp_path / "printer")
    try:
        async with wyoming_gateway(server.target, deliver=(printer.destination,)) as gateway:
            answer = await ha_conversation(wyoming_address(gateway), "a dragon", conversation())

            assert Handled.is_type(answer.type) and answer.data["text"] == "Printing a dragon"
            [job] = jobs(server)
            assert job.transcript == "a dragon" and job.state != voxprint_pb2.JOB_STATE_COMPLETED
            gate.set()
            printed = await printer.printed(job.id)
    finally:
        gate.set()
    assert printed.data == raw_raster(server, job.id).data


async def test_a_request_naming_no_satellite_prints_at_the_default_printer(
    server_factory, tmp_path: Path, tcp_sink: TcpSink
) -> None:
    server = server_factory(transcriber=ScriptedTranscriber(), illustrator=ScriptedIllustrator())
    default = spool(tmp_path / "default")
    mapping = tmp_path / "printers"
    mapping.write_text(f"default {default.destination}\n{KIDS_ROOM} {tcp_sink.address}\n")
    async with wyoming_gateway(server.target, printer_map=read_printer_map(mapping)) as gateway:
        await ha_conversation(wyoming_address(gateway), "a dragon", conversation())
        [job] = jobs(server)
        printed = await default.printed(job.id)
    assert printed.data == raw_raster(server, job.id).data


async def test_a_transcript_with_a_satellite_id_prints_at_that_satellites_printer(
    server_factory, tmp_path: Path, tcp_sink: TcpSink
) -> None:
    server = server_factory(transcriber=ScriptedTranscriber(), illustrator=ScriptedIllustrator())
    default = spool(tmp_path / "default")
    mapping = tmp_path / "printers"
    mapping.write_text(f"default {default.destination}\n{KIDS_ROOM} {tcp_sink.address}\n")
    async with wyoming_gateway(server.target, printer_map=read_printer_map(mapping)) as gateway:
        await ha_conversation(
            wyoming_address(gateway), "a dragon", conversation(), satellite_id=KIDS_ROOM, device_id=KITCHEN_DEVICE
        )
        [job] = jobs(server)
        printed = escpos.parse(await asyncio.to_thread(tcp_sink.received, 30))
    assert printed.data == raw_raster(server, job.id).data
    assert default.jobs() == []


async def test_a_satellite_without_an_entry_prints_at_its_devices_printer(server_factory, tmp_path: Path) -> None:
    server = server_factory(transcriber=ScriptedTranscriber(), illustrator=ScriptedIllustrator())
    default, kitchen = spool(tmp_path / "default"), spool(tmp_path / "kitchen")
    mapping = tmp_path / "printers"
    mapping.write_text(f"default {default.destination}\n{KITCHEN_DEVICE} {kitchen.destination}\n")
    async with wyoming_gateway(server.target, printer_map=read_printer_map(mapping)) as gateway:
        await ha_conversation(
            wyoming_address(gateway), "a cat", conversation(), satellite_id=KIDS_ROOM, device_id=KITCHEN_DEVICE
        )
        [job] = jobs(server)
        await kitchen.printed(job.id)
    assert default.jobs() == []


async def test_with_a_wake_phrase_other_phrases_are_politely_not_handled_and_make_no_job(server_factory) -> None:
    server = server_factory(transcriber=ScriptedTranscriber(), illustrator=ScriptedIllustrator())
    async with wyoming_gateway(server.target, wake=WakePhrase.parse("draw,print")) as gateway:
        answer = await ha_conversation(wyoming_address(gateway), "Turn on the kitchen lights.", conversation())
    assert NotHandled.is_type(answer.type)
    assert "“draw” or “print”" in answer.data["text"]
    assert jobs(server) == []


async def test_the_wake_phrase_is_not_drawn(server_factory, tmp_path: Path) -> None:
    server = server_factory(transcriber=ScriptedTranscriber(), illustrator=ScriptedIllustrator())
    printer = spool(tmp_path / "printer")
    async with wyoming_gateway(
        server.target, deliver=(printer.destination,), wake=WakePhrase.parse("draw,print")
    ) as gateway:
        answer = await ha_conversation(wyoming_address(gateway), "Draw a dragon.", conversation())
        [job] = jobs(server)
        await printer.printed(job.id)
    assert answer.data["text"] == "Printing a dragon"
    assert job.transcript == "a dragon."


async def test_the_same_phrase_again_in_the_same_conversation_is_the_same_job_printed_once(
    server_factory, tmp_path: Path
) -> None:
    server = server_factory(transcriber=ScriptedTranscriber(), illustrator=ScriptedIllustrator())
    printer = spool(tmp_path / "printer")
    talk = conversation()
    async with wyoming_gateway(server.target, deliver=(printer.destination,)) as gateway:
        first = await ha_conversation(wyoming_address(gateway), "a dragon", talk)
        again = await ha_conversation(wyoming_address(gateway), "A dragon!", talk)
        [job] = jobs(server)
        await printer.printed(job.id)
        assert gateway.counters["wyoming.jobs.followed_already"] == 1
    assert first.data["text"] == "Printing a dragon" and again.data["text"] == "Printing A dragon"
    assert printer.jobs() == [job.id]


async def test_the_same_phrase_in_another_conversation_is_another_picture(server_factory, tmp_path: Path) -> None:
    server = server_factory(transcriber=ScriptedTranscriber(), illustrator=ScriptedIllustrator())
    printer = spool(tmp_path / "printer")
    async with wyoming_gateway(server.target, deliver=(printer.destination,)) as gateway:
        await ha_conversation(wyoming_address(gateway), "a dragon", conversation())
        await ha_conversation(wyoming_address(gateway), "a dragon", conversation())
        made = jobs(server)
        for job in made:
            await printer.printed(job.id)
    assert len(made) == 2


async def test_a_phrase_the_server_refuses_is_not_handled_with_the_reason(server_factory) -> None:
    server = server_factory(transcriber=ScriptedTranscriber(), illustrator=ScriptedIllustrator())
    async with wyoming_gateway(server.target) as gateway:
        answer = await ha_conversation(wyoming_address(gateway), "a very long dragon " * 40, conversation())
    assert NotHandled.is_type(answer.type)
    assert answer.data["text"].startswith("I cannot draw that: the phrase is longer than")


async def test_an_unreachable_server_is_answered_in_words_not_silence() -> None:
    async with wyoming_gateway("127.0.0.1:1") as gateway:
        answer = await ha_conversation(wyoming_address(gateway), "a dragon", conversation())
        assert gateway.counters["wyoming.not_handled.unreachable"] == 1
    assert NotHandled.is_type(answer.type)
    assert answer.data["text"] == "The picture printer cannot be reached right now."
