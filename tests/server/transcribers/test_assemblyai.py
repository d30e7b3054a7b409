"""The AssemblyAI backend, through the real ``assemblyai`` SDK, against the local fake."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.support.fakes.assemblyai import SCENARIOS, UPLOAD_PATH, FakeAssemblyAI
from tests.support.fakes.fixtures import FAST_RETRIES, unique_key
from voxprint.server.config import Settings
from voxprint.server.retry import Backoff
from voxprint.server.transcribers import TranscriptionError, create_transcriber
from voxprint.server.transcribers.assemblyai import AssemblyAITranscriber

# The assemblyai SDK still calls pydantic's v1 API; its deprecation warnings are not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::pydantic.warnings.PydanticDeprecatedSince20")

TRANSCRIPT_PATH = "/v2/transcript"
MakeTranscriber = Callable[..., AssemblyAITranscriber]


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    # The fake does not listen to audio, so any bytes stand for a recording.
    path = tmp_path / "recording.wav"
    path.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(64)))
    return path


@pytest.fixture
def make_transcriber(assemblyai_fake: FakeAssemblyAI, keys_never_logged: list[str]) -> MakeTranscriber:
    """Builds transcribers aimed at the fake, with fast retries, whose keys must never be logged."""

    def make(**overrides: object) -> AssemblyAITranscriber:
        options: dict = {
            "api_key": assemblyai_fake.api_key,
            "base_url": assemblyai_fake.url,
            "poll_interval": 0.01,
            "timeout": 10.0,
            "backoff": FAST_RETRIES,
            **overrides,
        }
        keys_never_logged.append(options["api_key"])
        return AssemblyAITranscriber(options.pop("api_key"), **options)

    return make


def failure(transcriber: AssemblyAITranscriber, recording: Path) -> str:
    """The message of the TranscriptionError the transcriber raises (tests compare it whole, or
    check it for the key when they compare only part of it)."""
    with pytest.raises(TranscriptionError) as raised:
        transcriber.transcribe(recording)
    return str(raised.value)


def test_uploads_the_recording_creates_a_transcript_and_polls_it_to_its_text(
    make_transcriber: MakeTranscriber, assemblyai_fake: FakeAssemblyAI, recording: Path
) -> None:
    assemblyai_fake.text = "Two penguins on the beach."
    assemblyai_fake.processing_polls = 2

    assert make_transcriber().transcribe(recording) == "Two penguins on the beach."
    assert list(assemblyai_fake.uploads.values()) == [recording.read_bytes()]
    created = assemblyai_fake.requests("POST", TRANSCRIPT_PATH)
    assert [request.json() for request in created] == [{"audio_url": next(iter(assemblyai_fake.uploads))}]
    assert len(assemblyai_fake.requests("GET", TRANSCRIPT_PATH + "/")) == 3  # processing ×2, completed


def test_sends_the_key_as_the_authorization_header(
    make_transcriber: MakeTranscriber, assemblyai_fake: FakeAssemblyAI, recording: Path
) -> None:
    make_transcriber().transcribe(recording)

    keys_sent = {request.headers["authorization"] for request in assemblyai_fake.requests()}
    assert keys_sent == {assemblyai_fake.api_key}


def test_a_wrong_key_fails_at_once_with_a_clear_message(
    make_transcriber: MakeTranscriber, assemblyai_fake: FakeAssemblyAI, recording: Path
) -> None:
    message = failure(make_transcriber(api_key=unique_key("wrong")), recording)

    assert message == "AssemblyAI rejected the API key (401)"
    assert len(assemblyai_fake.requests()) == 1


def test_forbidden_is_not_retried_and_quotes_the_service(
    make_transcriber: MakeTranscriber, assemblyai_fake: FakeAssemblyAI, recording: Path
) -> None:
    SCENARIOS["forbidden"](assemblyai_fake)

    message = failure(make_transcriber(), recording)

    assert message.startswith("AssemblyAI refused access (403): ")
    assert "does not have access" in message
    assert assemblyai_fake.api_key not in message
    assert len(assemblyai_fake.requests()) == 1


def test_rate_limiting_is_retried_until_the_upload_succeeds(
    make_transcriber: MakeTranscriber, assemblyai_fake: FakeAssemblyAI, recording: Path
) -> None:
    SCENARIOS["rate-limited-then-success"](assemblyai_fake)  # two 429s

    assert make_transcriber().transcribe(recording) == assemblyai_fake.text
    assert len(assemblyai_fake.requests("POST", UPLOAD_PATH)) == 3


def test_server_errors_are_retried_until_the_attempts_run_out(
    make_transcriber: MakeTranscriber, assemblyai_fake: FakeAssemblyAI, recording: Path
) -> None:
    SCENARIOS["server-error"](assemblyai_fake)

    message = failure(make_transcriber(backoff=FAST_RETRIES), recording)

    assert message == "AssemblyAI had a server error (500); try again later"
    assert len(assemblyai_fake.requests()) == FAST_RETRIES.attempts


def test_a_failed_poll_is_retried_without_uploading_again(
    make_transcriber: MakeTranscriber, assemblyai_fake: FakeAssemblyAI, recording: Path
) -> None:
    assemblyai_fake.fail_next(503, times=2, path=TRANSCRIPT_PATH + "/")

    assert make_transcriber().transcribe(recording) == assemblyai_fake.text
    assert len(assemblyai_fake.requests("POST", UPLOAD_PATH)) == 1
    assert len(assemblyai_fake.requests("POST", TRANSCRIPT_PATH)) == 1


def test_retries_stop_at_the_overall_timeout(
    make_transcriber: MakeTranscriber, assemblyai_fake: FakeAssemblyAI, recording: Path
) -> None:
    assemblyai_fake.fail_always(503)
    patient = Backoff(attempts=5, initial_delay=1.0, jitter=0.0)

    started = time.monotonic()
    message = failure(make_transcriber(timeout=0.5, backoff=patient), recording)

    assert message == "AssemblyAI had a server error (503); try again later"
    assert len(assemblyai_fake.requests()) == 1  # the first wait would have ended past the deadline
    assert time.monotonic() - started < patient.initial_delay


def test_a_transcript_in_error_fails_with_the_services_reason_and_is_not_retried(
    make_transcriber: MakeTranscriber, assemblyai_fake: FakeAssemblyAI, recording: Path
) -> None:
    SCENARIOS["transcript-error"](assemblyai_fake)

    message = failure(make_transcriber(), recording)

    assert message == (
        "AssemblyAI could not transcribe the recording: Transcoding failed. File does not appear to contain audio."
    )
    assert len(assemblyai_fake.requests("POST", TRANSCRIPT_PATH)) == 1


def test_polling_gives_up_at_the_timeout(
    make_transcriber: MakeTranscriber, assemblyai_fake: FakeAssemblyAI, recording: Path
) -> None:
    SCENARIOS["slow"](assemblyai_fake)

    started = time.monotonic()
    message = failure(make_transcriber(timeout=0.3, poll_interval=0.05), recording)

    assert message == "AssemblyAI did not finish within 0.3 s"
    assert 0.3 <= time.monotonic() - started < 2.0
    assert len(assemblyai_fake.requests("GET", TRANSCRIPT_PATH + "/")) >= 3


def test_an_unreachable_service_is_retried_then_named(
    make_transcriber: MakeTranscriber,
    assemblyai_fake: FakeAssemblyAI,
    refused_url: str,
    recording: Path,
    all_logs: pytest.LogCaptureFixture,
) -> None:
    message = failure(make_transcriber(base_url=refused_url), recording)

    assert message.startswith(f"could not reach AssemblyAI at {refused_url} (")
    assert "Connection refused" in message
    assert assemblyai_fake.api_key not in message
    retries = [record for record in all_logs.records if record.name == "voxprint.server.retry"]
    assert len(retries) == FAST_RETRIES.attempts - 1


def test_silence_is_a_clear_failure(
    make_transcriber: MakeTranscriber, assemblyai_fake: FakeAssemblyAI, recording: Path
) -> None:
    SCENARIOS["silence"](assemblyai_fake)

    assert failure(make_transcriber(), recording) == "no speech found in the recording"


def test_worker_threads_can_share_one_transcriber(
    make_transcriber: MakeTranscriber, assemblyai_fake: FakeAssemblyAI, tmp_path: Path
) -> None:
    transcriber = make_transcriber()
    recordings = [tmp_path / f"recording-{index}.wav" for index in range(4)]
    for index, path in enumerate(recordings):
        path.write_bytes(b"RIFF" + bytes([index]) * 100)

    with ThreadPoolExecutor(len(recordings)) as pool:
        texts = list(pool.map(transcriber.transcribe, recordings))

    assert texts == [assemblyai_fake.text] * len(recordings)
    assert sorted(assemblyai_fake.uploads.values()) == sorted(path.read_bytes() for path in recordings)
    assert len(assemblyai_fake.requests("POST", TRANSCRIPT_PATH)) == len(recordings)


def test_auto_picks_assemblyai_when_its_key_is_set_and_uses_the_configured_service(
    assemblyai_fake: FakeAssemblyAI, speech_wav: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSEMBLYAI_API_KEY", assemblyai_fake.api_key)
    settings = Settings(transcriber="auto", assemblyai_base_url=assemblyai_fake.url, assemblyai_poll_interval=0.01)

    transcriber = create_transcriber(settings)

    assert transcriber.name == "assemblyai"
    assert transcriber.transcribe(speech_wav) == assemblyai_fake.text


def test_choosing_assemblyai_without_a_key_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ASSEMBLYAI_API_KEY", raising=False)

    with pytest.raises(ValueError, match="ASSEMBLYAI_API_KEY"):
        create_transcriber(Settings(transcriber="assemblyai"))


def test_behind_the_speech_gate_the_service_receives_the_recording_exactly_as_uploaded(
    assemblyai_fake: FakeAssemblyAI, speech_wav: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ASSEMBLYAI_API_KEY", assemblyai_fake.api_key)
    settings = Settings(
        transcriber="assemblyai", assemblyai_base_url=assemblyai_fake.url, assemblyai_poll_interval=0.01
    )

    # The gate decodes the recording and hands the decoded speech on; the cloud is sent the file.
    assert create_transcriber(settings).transcribe(speech_wav) == assemblyai_fake.text
    assert list(assemblyai_fake.uploads.values()) == [speech_wav.read_bytes()]
