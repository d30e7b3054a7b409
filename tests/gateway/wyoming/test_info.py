"""`describe` → `info`: what Home Assistant reads when the Wyoming integration is added
(homeassistant/components/wyoming/data.py `load_wyoming_info`: `describe`, then read until `info`,
within 1 s) and what stt.py and conversation.py then look for in it (installed programs and models,
their languages)."""

from __future__ import annotations

from tests.support.wyoming import ha_describe, wyoming_address, wyoming_gateway
from voxprint.clients.gateway.wyoming_phrases import WakePhrase


async def test_describe_is_answered_within_home_assistants_second_without_a_server() -> None:
    async with wyoming_gateway("127.0.0.1:1") as gateway:
        info = await ha_describe(wyoming_address(gateway))
    assert [program.name for program in info.asr] == ["voxprint"]
    assert [program.name for program in info.handle] == ["voxprint"]


async def test_both_programs_are_installed_in_english_with_version_and_attribution() -> None:
    async with wyoming_gateway("127.0.0.1:1") as gateway:
        info = await ha_describe(wyoming_address(gateway))
    for program in (*info.asr, *info.handle):
        assert program.installed and program.version and program.attribution.name == "voxprint"
        [model] = program.models
        assert model.installed and model.languages == ["en"] and model.version == program.version


async def test_the_handle_program_says_which_phrases_it_draws() -> None:
    async with wyoming_gateway("127.0.0.1:1", wake=WakePhrase.parse("draw, print")) as gateway:
        info = await ha_describe(wyoming_address(gateway))
    assert "starting “draw” or “print”" in (info.handle[0].description or "")
