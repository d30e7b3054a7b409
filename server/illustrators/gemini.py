"""Pictures from Gemini's image model, through Google's official SDK (``google-genai``).

One ``genai.Client`` lives as long as the backend (a client that goes out of scope closes its
connections). It sends ``POST /{api_version}/models/{model}:generateContent`` with the key in
``x-goog-api-key``, asking for an image only, in the configured aspect ratio (portrait suits a
receipt roll).

Retries are the SDK's own ``HttpRetryOptions``, set from the same :class:`~server.retry.Backoff`
as AssemblyAI's: 408, 429 and 5xx answers and connection errors are retried with exponential
backoff and jitter; 400/401/403 are not. What can still go wrong reaches us as
``errors.ClientError``/``ServerError`` (with ``.code`` and ``.status``), a raw ``httpx`` or
``httpx2`` transport error, a pydantic ``ValidationError`` when the reply does not parse (e.g.
the image's base64 is malformed), or a well-formed reply without an image; each becomes an
:class:`IllustrationError` that says what came back. The image itself must decode, within
``server.images``' size limit, before it is returned.
"""

from __future__ import annotations

from typing import Any

import httpx
import pydantic
from google import genai
from google.genai import errors, types

from voxprint.server.config import Settings
from voxprint.server.illustrators import IllustrationError, google_api_key
from voxprint.server.illustrators.prompt import PromptTemplate
from voxprint.server.images import BadImage, Picture, as_png
from voxprint.server.retry import Backoff
from voxprint.server.vendor_text import quote_vendor_text

# Where the SDK sends requests when no base URL is configured; named in errors.
SDK_DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com"


def _transport_errors() -> tuple[type[Exception], ...]:
    # The SDK sends with httpx2, its fork of httpx, when that is installed (google-genai 3.x
    # depends on it), with httpx otherwise; their exceptions are unrelated classes.
    try:
        import httpx2
    except ImportError:
        return (httpx.TransportError,)
    return (httpx.TransportError, httpx2.TransportError)


TRANSPORT_ERRORS = _transport_errors()


class GeminiIllustrator:
    def __init__(
        self,
        api_key: str,
        *,
        # No defaults here: they are stated once, in server.config.Settings.
        model: str,
        base_url: str | None,
        aspect_ratio: str,
        timeout: float,
        backoff: Backoff = Backoff(),
        prompt: PromptTemplate = PromptTemplate(),
    ) -> None:
        if not api_key:
            raise ValueError("the gemini illustrator needs GOOGLE_API_KEY or GEMINI_API_KEY to be set")
        self.name = f"gemini:{model}"
        self._model = model
        self._api_key = api_key
        self._where = base_url or SDK_DEFAULT_BASE_URL
        self._prompt = prompt
        self._client = genai.Client(
            vertexai=False,  # the Gemini Developer API, whatever GOOGLE_GENAI_USE_VERTEXAI says
            api_key=api_key,
            http_options=types.HttpOptions(
                base_url=base_url,
                timeout=round(timeout * 1000),  # milliseconds, per request
                retry_options=types.HttpRetryOptions(
                    attempts=backoff.attempts,
                    initial_delay=backoff.initial_delay,
                    max_delay=backoff.max_delay,
                    exp_base=backoff.multiplier,
                    jitter=backoff.jitter,
                ),
            ),
        )
        self._config = types.GenerateContentConfig(
            response_modalities=["IMAGE"],
            image_config=types.ImageConfig(aspect_ratio=aspect_ratio),
            # No tools, so nothing to call automatically (and no log line about it per request).
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> GeminiIllustrator:
        return cls(
            google_api_key() or "",
            model=settings.gemini_model,
            base_url=settings.gemini_base_url,
            aspect_ratio=settings.gemini_aspect_ratio,
            timeout=settings.gemini_timeout,
            backoff=Backoff.for_cloud(settings),
            prompt=PromptTemplate.from_setting(settings.image_prompt),
        )

    def illustrate(self, transcript: str) -> Picture:
        try:
            response = self._client.models.generate_content(
                model=self._model, contents=self._prompt.render(transcript), config=self._config
            )
        except errors.APIError as error:
            raise IllustrationError(self._explain(error)) from error
        except TRANSPORT_ERRORS as error:
            raise IllustrationError(
                f"could not reach Gemini at {self._where} ({self._quote(str(error) or type(error).__name__)})"
            ) from error
        except (pydantic.ValidationError, errors.UnknownApiResponseError) as error:
            raise IllustrationError(f"Gemini's reply is malformed ({_malformation(error)})") from error
        try:
            # Decoded here too, so garbage fails as this backend's error, not later.
            return as_png(self._first_image(response))
        except BadImage as error:
            raise IllustrationError(f"Gemini's image is unusable: {error}") from error

    def _explain(self, error: errors.APIError) -> str:
        code, status = error.code, error.status or "no status"
        message = self._quote(error.message or "no message")
        if code == 401 or _error_reasons(error) & {"API_KEY_INVALID", "API_KEY_EXPIRED"}:
            return f"Gemini rejected the API key ({code} {status}): {message}"
        if code == 403:
            return f"Gemini refused access ({code} {status}): {message}"
        if code == 429:
            return f"Gemini is rate-limiting requests ({code} {status}); try again later"
        if code >= 500:
            return f"Gemini had a server error ({code} {status}); try again later"
        return f"Gemini rejected the request ({code} {status}): {message}"

    def _first_image(self, response: types.GenerateContentResponse) -> bytes:
        """The bytes of the first inline image of the first candidate; otherwise an error that
        names what came back instead."""
        if not response.candidates:
            feedback = response.prompt_feedback
            if feedback is not None and feedback.block_reason is not None:
                reason = _name(feedback.block_reason)
                raise IllustrationError(f"Gemini blocked the prompt ({reason})")
            raise IllustrationError("Gemini returned no image (no candidates)")
        candidate = response.candidates[0]
        parts = candidate.content.parts if candidate.content and candidate.content.parts else []
        for part in parts:
            if part.inline_data is not None and part.inline_data.data:
                return part.inline_data.data
        text = " ".join(part.text for part in parts if part.text)
        said = f'; it said: "{self._quote(text)}"' if text else ""
        finish = candidate.finish_reason
        if finish is not None and finish != types.FinishReason.STOP:
            raise IllustrationError(f"Gemini returned no image (finish reason {_name(finish)}){said}")
        if text:
            raise IllustrationError(f"Gemini returned text instead of an image{said}")
        raise IllustrationError("Gemini returned no image (the reply was empty)")

    def _quote(self, vendor_text: str) -> str:
        return quote_vendor_text(vendor_text, secret=self._api_key)


def _error_reasons(error: errors.APIError) -> set[str]:
    """The ``google.rpc.ErrorInfo`` reasons in an error reply (e.g. ``API_KEY_INVALID``)."""
    details: Any = error.details
    body = details.get("error", details) if isinstance(details, dict) else {}
    entries = body.get("details") if isinstance(body, dict) else None
    return {entry["reason"] for entry in entries or [] if isinstance(entry, dict) and "reason" in entry}


def _malformation(error: Exception) -> str:
    if isinstance(error, pydantic.ValidationError):
        # The location and rule of the first problem; the offending value is left out.
        first = error.errors()[0]
        return f"{'.'.join(str(step) for step in first['loc'])}: {first['msg']}"
    return "not JSON"


def _name(value: object) -> str:
    # Enum members for known reasons; the SDK keeps reasons newer than itself as plain strings.
    return str(getattr(value, "value", value))
