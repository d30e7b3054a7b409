"""A fake AssemblyAI (v2 REST API) for the real ``assemblyai`` SDK.

Wire facts it reproduces, checked against SDK 1.8.2 and the service:
- every request carries the key in ``authorization`` (no scheme); a missing or wrong key gets
  ``401 {"error": "Authentication error, API token missing/invalid"}``;
- ``POST /v2/upload`` takes the raw audio bytes, answers ``{"upload_url": ...}``;
- ``POST /v2/transcript`` takes ``{"audio_url": ...}``, answers the transcript (``id``,
  ``status: "queued"``, ``audio_url``, ...);
- ``GET /v2/transcript/{id}`` answers the transcript, ``processing`` until it is ``completed``
  (with ``text`` and ``words``) or ``error`` (with ``error``);
- errors are ``{"error": "<message>"}``.

The fake does not listen to the audio: a completed transcript says :attr:`text`.

    python -m tests.support.fakes.assemblyai --port 8101 --scenario success
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from tests.support.fakes import FakeService, Reply, Request, serve_from_command_line

DEFAULT_KEY = "fake-assemblyai-key"
DEFAULT_TEXT = "Two penguins on the beach."
UPLOAD_URL_PREFIX = "https://cdn.assemblyai.com/upload/"
TRANSCRIPT_PATH = "/v2/transcript"
UPLOAD_PATH = "/v2/upload"

_ERROR_MESSAGES = {
    400: "Bad request",
    403: "Your account does not have access to this resource.",
    404: "Not found",
    429: "Too many requests. Please slow down and try again.",
    500: "Internal server error. Please try again later.",
    503: "Service temporarily unavailable. Please try again later.",
}


@dataclass
class _Transcript:
    id: str
    audio_url: str
    polls: int = 0


class FakeAssemblyAI(FakeService):
    vendor = "AssemblyAI"

    def __init__(self, *, api_key: str = DEFAULT_KEY, port: int = 0) -> None:
        super().__init__(api_key=api_key, port=port)
        # The script: what finished transcripts say, how many polls answer "processing" first
        # (None: forever), and whether the transcription fails.
        self.text = DEFAULT_TEXT
        self.processing_polls: int | None = 1
        self.transcript_error: str | None = None
        self.uploads: dict[str, bytes] = {}
        self._transcripts: dict[str, _Transcript] = {}
        self._state_lock = threading.Lock()

    def key_problem(self, request: Request) -> Reply | None:
        if request.headers.get("authorization") == self.api_key:
            return None
        return Reply.json(401, {"error": "Authentication error, API token missing/invalid"})

    def error_body(self, status: int) -> Any:
        return {"error": _ERROR_MESSAGES.get(status, HTTPStatus(status).phrase)}

    def route(self, request: Request) -> Reply:
        if (request.method, request.path) == ("POST", UPLOAD_PATH):
            return self._upload(request)
        if (request.method, request.path) == ("POST", TRANSCRIPT_PATH):
            return self._create(request)
        if request.method == "GET" and request.path.startswith(TRANSCRIPT_PATH + "/"):
            return self._poll(request.path.removeprefix(TRANSCRIPT_PATH + "/"))
        return self.error(404)

    def _upload(self, request: Request) -> Reply:
        if not request.body:
            return Reply.json(400, {"error": "Upload failed, please try again. The file is empty."})
        upload_url = UPLOAD_URL_PREFIX + str(uuid.uuid4())
        with self._state_lock:
            self.uploads[upload_url] = request.body
        return Reply.json(200, {"upload_url": upload_url})

    def _create(self, request: Request) -> Reply:
        try:
            audio_url = request.json()["audio_url"]
        except (ValueError, KeyError, TypeError):
            return Reply.json(400, {"error": "audio_url is required"})
        with self._state_lock:
            if audio_url not in self.uploads:
                return Reply.json(400, {"error": f"Download error, unable to download {audio_url}"})
            transcript = _Transcript(id=str(uuid.uuid4()), audio_url=audio_url)
            self._transcripts[transcript.id] = transcript
        return Reply.json(200, self._body(transcript, "queued"))

    def _poll(self, transcript_id: str) -> Reply:
        with self._state_lock:
            transcript = self._transcripts.get(transcript_id)
            if transcript is None:
                return Reply.json(400, {"error": "Transcript lookup error, transcript id not found"})
            transcript.polls += 1
            still_processing = self.processing_polls is None or transcript.polls <= self.processing_polls
        if still_processing:
            return Reply.json(200, self._body(transcript, "processing"))
        if self.transcript_error is not None:
            return Reply.json(200, self._body(transcript, "error", error=self.transcript_error))
        return Reply.json(200, self._body(transcript, "completed", text=self.text))

    @staticmethod
    def _body(transcript: _Transcript, status: str, *, text: str | None = None, error: str | None = None) -> Any:
        words = [
            {"text": word, "start": 400 * index, "end": 400 * index + 350, "confidence": 0.98, "speaker": None}
            for index, word in enumerate((text or "").split())
        ]
        return {
            "id": transcript.id,
            "status": status,
            "audio_url": transcript.audio_url,
            "language_code": "en_us",
            "text": text,
            "words": words if status == "completed" else None,
            "utterances": None,
            "confidence": 0.98 if status == "completed" else None,
            "audio_duration": 2 if status == "completed" else None,
            "punctuate": True,
            "format_text": True,
            "webhook_url": None,
            "error": error,
        }


def _silence(fake: FakeAssemblyAI) -> None:
    fake.text = ""


def _transcript_error(fake: FakeAssemblyAI) -> None:
    fake.transcript_error = "Transcoding failed. File does not appear to contain audio."


def _slow(fake: FakeAssemblyAI) -> None:
    fake.processing_polls = None


SCENARIOS: dict[str, Callable[[FakeAssemblyAI], None]] = {
    "success": lambda fake: None,
    "forbidden": lambda fake: fake.fail_always(403),
    "rate-limited-then-success": lambda fake: fake.fail_next(429, times=2),
    "server-error": lambda fake: fake.fail_always(500),
    "transcript-error": _transcript_error,
    "slow": _slow,
    "silence": _silence,
}


if __name__ == "__main__":
    serve_from_command_line(
        lambda key, port: FakeAssemblyAI(api_key=key, port=port),
        SCENARIOS,
        default_key=DEFAULT_KEY,
        base_url_variable="VOXPRINT_ASSEMBLYAI_BASE_URL",
        key_variable="ASSEMBLYAI_API_KEY",
    )
