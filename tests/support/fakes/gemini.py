"""A fake Gemini Developer API (``generateContent``) for the real ``google-genai`` SDK.

Wire facts it reproduces, checked against google-genai 3.4 and the service:
- ``POST /{api_version}/models/{model}:generateContent`` (the SDK uses ``v1``), key in the
  ``x-goog-api-key`` header (or ``?key=``); no key gets ``403 PERMISSION_DENIED``, a wrong one
  ``400 INVALID_ARGUMENT`` with an ``ErrorInfo`` whose reason is ``API_KEY_INVALID``;
- the request is ``{"contents": [...], "generationConfig": {"responseModalities": ["IMAGE"],
  "imageConfig": {"aspectRatio": "3:4"}}}``;
- an image comes back as ``{"candidates": [{"content": {"parts": [{"inlineData": {"mimeType":
  "image/png", "data": "<base64>"}}], "role": "model"}, "finishReason": "STOP"}], ...}`` at the
  model's size for the aspect ratio;
- errors are ``{"error": {"code", "message", "status"}}``.

The picture is always the same little line drawing; :attr:`FakeGemini.reply` picks what comes
back instead of it (see ``REPLIES``).

    python -m tests.support.fakes.gemini --port 8102 --scenario success
"""

from __future__ import annotations

import base64
import functools
import io
import re
import uuid
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from PIL import Image, ImageDraw

from tests.support.fakes import FakeService, Reply, Request, serve_from_command_line

DEFAULT_KEY = "fake-gemini-key"
GENERATE_CONTENT = re.compile(r"^/(?P<version>v1|v1beta|v1alpha)/models/(?P<model>[^/:]+):generateContent$")
# gemini-2.5-flash-image's output size for each aspect ratio it accepts.
IMAGE_SIZES = {
    "1:1": (1024, 1024),
    "2:3": (832, 1248),
    "3:2": (1248, 832),
    "3:4": (864, 1184),
    "4:3": (1184, 864),
    "4:5": (896, 1152),
    "5:4": (1152, 896),
    "9:16": (768, 1344),
    "16:9": (1344, 768),
    "21:9": (1536, 672),
}
HUGE_SIZE = (10_000, 7_000)  # 70 megapixels, above voxprint's 8192² (67-megapixel) limit

_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_ERROR_MESSAGES = {
    403: "The caller does not have permission",
    429: "You exceeded your current quota, please check your plan and billing details.",
    500: "An internal error has occurred. Please retry or report in "
    "https://developers.generativeai.google/guide/troubleshooting",
    503: "The model is overloaded. Please try again later.",
}


class FakeGemini(FakeService):
    vendor = "Gemini"

    def __init__(self, *, api_key: str = DEFAULT_KEY, port: int = 0) -> None:
        super().__init__(api_key=api_key, port=port)
        # The script: which of REPLIES a successful call gets, and how long it takes.
        self.reply = "png"
        self.delay = 0.0

    def key_problem(self, request: Request) -> Reply | None:
        presented = request.headers.get("x-goog-api-key") or _query_key(request.query)
        if presented == self.api_key:
            return None
        if not presented:
            return _error_reply(
                403,
                "Method doesn't allow unregistered callers (callers without established identity). "
                "Please use API Key or other form of API consumer identity to call this API.",
            )
        return _error_reply(
            400,
            "API key not valid. Please pass a valid API key.",
            details=[
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "API_KEY_INVALID",
                    "domain": "googleapis.com",
                    "metadata": {"service": "generativelanguage.googleapis.com"},
                }
            ],
        )

    def error_body(self, status: int) -> Any:
        return _error_payload(status, _ERROR_MESSAGES.get(status, HTTPStatus(status).phrase))

    def route(self, request: Request) -> Reply:
        match = GENERATE_CONTENT.match(request.path)
        if request.method != "POST" or match is None:
            return _error_reply(404, f"Method not found: {request.method} {request.path}")
        model = match["model"]
        if "image" not in model:
            return _error_reply(400, "Model does not support the requested response modalities: image")
        try:
            body = request.json()
            contents = body["contents"]
            aspect_ratio = body.get("generationConfig", {}).get("imageConfig", {}).get("aspectRatio", "1:1")
        except (ValueError, KeyError, TypeError, AttributeError):
            return _error_reply(400, "* GenerateContentRequest.contents: contents is not specified")
        if aspect_ratio not in IMAGE_SIZES:
            return _error_reply(400, f"Unsupported aspect ratio: {aspect_ratio}")
        payload = {
            **REPLIES[self.reply](IMAGE_SIZES[aspect_ratio]),
            "usageMetadata": {"promptTokenCount": len(str(contents).split()), "totalTokenCount": 1290},
            "modelVersion": model,
            "responseId": uuid.uuid4().hex[:22],
        }
        return Reply.json(200, payload, delay=self.delay)


def _error_payload(status: int, message: str, details: list[dict[str, Any]] | None = None) -> Any:
    """A google.rpc error body, as the Gemini API sends it."""
    error: dict[str, Any] = {"code": status, "message": message, "status": _STATUS_NAMES.get(status, "UNKNOWN")}
    if details:
        error["details"] = details
    return {"error": error}


def _error_reply(status: int, message: str, details: list[dict[str, Any]] | None = None) -> Reply:
    return Reply.json(status, _error_payload(status, message, details))


def _query_key(query: str) -> str | None:
    for pair in query.split("&"):
        name, _, value = pair.partition("=")
        if name == "key":
            return value
    return None


# -- replies ---------------------------------------------------------------------------------------


@functools.cache
def _drawing(size: tuple[int, int], image_format: str) -> bytes:
    """Two penguins on a beach, in bold black line art (what a good reply looks like)."""
    width, height = size
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    line = max(4, width // 100)
    draw.line([(0, height * 3 // 4), (width, height * 3 // 4)], fill="black", width=line)
    for centre_x in (width // 3, 2 * width // 3):
        top, bottom = height // 3, height * 3 // 4
        draw.ellipse([centre_x - width // 8, top, centre_x + width // 8, bottom], outline="black", width=line)
        draw.ellipse([centre_x - width // 16, top - width // 8, centre_x + width // 16, top], fill="black")
    encoded = io.BytesIO()
    image.save(encoded, format=image_format)
    return encoded.getvalue()


@functools.cache
def _huge_png() -> bytes:
    encoded = io.BytesIO()
    Image.new("1", HUGE_SIZE, 1).save(encoded, format="PNG")
    return encoded.getvalue()


def _image_reply(mime_type: str, data: str) -> dict[str, Any]:
    return _candidate([{"inlineData": {"mimeType": mime_type, "data": data}}], "STOP")


def _candidate(parts: list[dict[str, Any]] | None, finish_reason: str) -> dict[str, Any]:
    candidate: dict[str, Any] = {"finishReason": finish_reason, "index": 0}
    if parts is not None:
        candidate["content"] = {"parts": parts, "role": "model"}
    return {"candidates": [candidate]}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


REPLIES: dict[str, Callable[[tuple[int, int]], dict[str, Any]]] = {
    "png": lambda size: _image_reply("image/png", _b64(_drawing(size, "PNG"))),
    "jpeg": lambda size: _image_reply("image/jpeg", _b64(_drawing(size, "JPEG"))),
    "huge": lambda size: _image_reply("image/png", _b64(_huge_png())),
    "malformed-base64": lambda size: _image_reply("image/png", "iVBORw0KGgo!!not*base64!!"),
    "not-an-image": lambda size: _image_reply("image/png", _b64(b"these bytes are no picture at all")),
    "text-only": lambda size: _candidate([{"text": "I can't draw that, but here is a description."}], "STOP"),
    "image-safety": lambda size: _candidate(None, "IMAGE_SAFETY"),
    "prompt-blocked": lambda size: {"promptFeedback": {"blockReason": "SAFETY"}},
    "no-candidates": lambda size: {"candidates": []},
}


def _replying(kind: str) -> Callable[[FakeGemini], None]:
    def script(fake: FakeGemini) -> None:
        fake.reply = kind

    return script


SCENARIOS: dict[str, Callable[[FakeGemini], None]] = {
    "success": _replying("png"),
    "forbidden": lambda fake: fake.fail_always(403),
    "rate-limited-then-success": lambda fake: fake.fail_next(429, times=2),
    "server-error": lambda fake: fake.fail_always(500),
    **{kind: _replying(kind) for kind in REPLIES if kind != "png"},
}


if __name__ == "__main__":
    serve_from_command_line(
        lambda key, port: FakeGemini(api_key=key, port=port),
        SCENARIOS,
        default_key=DEFAULT_KEY,
        base_url_variable="VOXPRINT_GEMINI_BASE_URL",
        key_variable="GOOGLE_API_KEY",
    )
