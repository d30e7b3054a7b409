"""Speech-to-text with AssemblyAI, through its official SDK (``assemblyai``).

A transcription is three SDK calls — upload the recording (``POST /v2/upload``), create the
transcript (``POST /v2/transcript``), poll it (``GET /v2/transcript/{id}``) until it is
``completed`` or ``error`` — and each is retried on its own after a transient failure, so a hiccup
while polling does not upload the audio again. All three share one deadline
(``assemblyai_timeout``).

The SDK never retries, and it reports failure in three shapes, all handled here:
``aai.TranscriptError`` with the HTTP status (no status when the poll deadline passed), a raw
``httpx`` transport error when the service cannot be reached, and a transcript whose ``status``
is ``error`` (no exception at all).

The client is built per backend from explicit SDK settings, never from the SDK's global ones, and
the key is read from ``ASSEMBLYAI_API_KEY`` only.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import assemblyai as aai
import httpx

from voxprint.server.config import Settings
from voxprint.server.retry import Backoff, call_with_retries
from voxprint.server.transcribers import Samples, TranscriptionError
from voxprint.server.vendor_text import quote_vendor_text

API_KEY_VARIABLE = "ASSEMBLYAI_API_KEY"

T = TypeVar("T")


class AssemblyAITranscriber:
    name = "assemblyai"

    def __init__(
        self,
        api_key: str,
        *,
        # No defaults here: they are stated once, in server.config.Settings.
        base_url: str,
        poll_interval: float,
        timeout: float,
        backoff: Backoff = Backoff(),
    ) -> None:
        if not api_key:
            raise ValueError(f"the assemblyai transcriber needs {API_KEY_VARIABLE} to be set")
        self._api_key = api_key
        self._base_url = base_url
        self._timeout = timeout
        self._backoff = backoff
        sdk_settings = aai.Settings(
            api_key=api_key,
            base_url=base_url,
            polling_interval=poll_interval,
            # Bounds each socket operation; the deadline bounds the whole transcription.
            http_timeout=min(timeout, 60.0),
        )
        # One worker: voxprint calls the blocking methods from its own threads.
        self._transcriber = aai.Transcriber(client=aai.Client(settings=sdk_settings), max_workers=1)

    @classmethod
    def from_settings(cls, settings: Settings) -> AssemblyAITranscriber:
        return cls(
            os.environ.get(API_KEY_VARIABLE, ""),
            base_url=settings.assemblyai_base_url,
            poll_interval=settings.assemblyai_poll_interval,
            timeout=settings.assemblyai_timeout,
            backoff=Backoff.for_cloud(settings),
        )

    def transcribe(self, audio_path: Path, samples: Samples | None = None) -> str:
        # The service hears the recording exactly as uploaded; the decoded samples are not sent.
        deadline = time.monotonic() + self._timeout
        try:
            upload_url = self._retrying(
                lambda: self._transcriber.upload_file(audio_path), "AssemblyAI upload", deadline
            )
            transcript = self._retrying(
                lambda: self._transcriber.submit(upload_url), "AssemblyAI transcript request", deadline
            )
            self._retrying(
                lambda: transcript.wait_for_completion(poll_timeout=max(0.0, deadline - time.monotonic())),
                "AssemblyAI transcript poll",
                deadline,
            )
        except aai.TranscriptError as error:
            raise TranscriptionError(self._explain(error)) from error
        except httpx.TransportError as error:
            raise TranscriptionError(
                f"could not reach AssemblyAI at {self._base_url} ({self._quote(str(error) or type(error).__name__)})"
            ) from error

        if transcript.status == aai.TranscriptStatus.error:
            reason = self._quote(transcript.error or "no reason given")
            raise TranscriptionError(f"AssemblyAI could not transcribe the recording: {reason}")
        text = (transcript.text or "").strip()
        if not text:
            raise TranscriptionError("no speech found in the recording")
        return text

    def _retrying(self, operation: Callable[[], T], describe: str, deadline: float) -> T:
        return call_with_retries(
            operation,
            backoff=self._backoff,
            is_transient=_is_transient,
            deadline=deadline,
            describe=describe,
        )

    def _explain(self, error: aai.TranscriptError) -> str:
        status = error.status_code
        if status is None:  # the SDK's poll timeout, the only TranscriptError without a status
            return f"AssemblyAI did not finish within {self._timeout:g} s"
        if status == 401:
            return "AssemblyAI rejected the API key (401)"
        if status == 429:
            return "AssemblyAI is rate-limiting requests (429); try again later"
        if status >= 500:
            return f"AssemblyAI had a server error ({status}); try again later"
        if status == 403:
            return f"AssemblyAI refused access (403): {self._quote(str(error))}"
        return f"AssemblyAI rejected the request ({status}): {self._quote(str(error))}"

    def _quote(self, vendor_text: str) -> str:
        return quote_vendor_text(vendor_text, secret=self._api_key)


def _is_transient(error: Exception) -> bool:
    if isinstance(error, httpx.TransportError):
        return True
    if isinstance(error, aai.TranscriptError) and error.status_code is not None:
        return error.status_code in (408, 429) or error.status_code >= 500
    return False
