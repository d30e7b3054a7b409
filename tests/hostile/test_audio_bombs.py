"""Audio bombs sent to a real server: each is refused with INVALID_ARGUMENT naming the limit, and
neither Submit nor a worker's speech-to-text grows the server's memory past the 300 MiB target."""

from __future__ import annotations

import grpc
import pytest

from tests.support.hostile_audio import BOMBS, RSS_GROWTH_TARGET, peak_rss, reset_peak_rss, write
from tests.support.servers import submit_requests
from voxprint.server.config import Settings
from voxprint.server.transcribers import TranscriptionError, create_transcriber

pytestmark = pytest.mark.slow

# What Submit answers for each bomb: the duration when the header states it, else the limit.
REFUSALS = {
    "wav-header-1-hz": "the recording is 5000.0 s long; the server's limit is 60 s",
    "flac-repeated-frame-48-min": "the recording is longer than the server's limit of 60 s",
    "flac-repeated-frame-48-min-honest-header": "the recording is 2880.0 s long; the server's limit is 60 s",
    "wav-list-chunk-4-gib": "the upload is not a readable recording",
}


@pytest.fixture(params=sorted(BOMBS))
def bomb(request: pytest.FixtureRequest) -> tuple[str, bytes]:
    return request.param, BOMBS[request.param]()


def submit(server, data: bytes) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as refused:
        server.stub.Submit(submit_requests(data, filename="bomb"), timeout=60)
    return refused.value


def test_submit_refuses_the_bomb_with_invalid_argument_and_the_reason(server_factory, bomb):
    name, data = bomb
    error = submit(server_factory(), data)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert REFUSALS[name] in error.details()


def test_submit_of_the_bomb_grows_server_memory_less_than_the_target(server_factory, bomb):
    server = server_factory()
    _, data = bomb
    before = reset_peak_rss()
    submit(server, data)
    assert peak_rss() - before < RSS_GROWTH_TARGET


def test_speech_to_text_of_a_stored_bomb_fails_within_the_memory_target(bomb, tmp_path):
    # A job stored before the limit existed, or under a higher one, reaches a worker as a file.
    transcriber = create_transcriber(Settings(transcriber="whisper", max_audio_seconds=60))
    path = write(bomb[1], tmp_path / "stored-recording")
    before = reset_peak_rss()
    with pytest.raises(TranscriptionError):
        transcriber.transcribe(path)
    assert peak_rss() - before < RSS_GROWTH_TARGET
