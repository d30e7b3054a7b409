"""Cat printer destinations, as ``--deliver``, ``voxprint print --to`` and printer maps write them.

    catprinter://AA:BB:CC:DD:EE:FF?model=GB01               the printer, over Bluetooth LE
    catprinter://AA:BB:CC:DD:EE:FF?model=GB01&energy=17500&speed=40
    catprinter+file:///tmp/job.catprinter?model=GB03        the exact bytes it would receive

The address is the Bluetooth address (on macOS, the UUID CoreBluetooth gives the printer).
``model`` is required: models differ in their bytes. ``energy`` (0–65535, darker when higher;
decimal or 0x-hex) and ``speed`` (1–255, lower is faster) default to the model's own.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from voxprint.clients.catprinter import protocol
from voxprint.clients.printer_error import PrinterError

SCHEME = "catprinter"
FILE_SCHEME = "catprinter+file"
OPTIONS = ("model", "energy", "speed")
_MAC_ADDRESS = re.compile(r"[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}")
#: Model names as users type them: any case.
_MODELS_BY_NAME = {name.upper(): model for name, model in protocol.MODELS.items()}


def _query(settings: protocol.PrintSettings) -> str:
    """The options that say what ``settings`` are: the model, and what differs from its own."""
    model = settings.model
    options = {"model": model.name, "energy": settings.energy, "speed": settings.speed}
    defaults = {"energy": model.energy, "speed": model.speed}
    return urlencode({name: value for name, value in options.items() if defaults.get(name) != value})


@dataclass(frozen=True)
class CatPrinter:
    """A cat printer reached over Bluetooth LE."""

    address: str
    settings: protocol.PrintSettings
    language: ClassVar[str] = "cat printer commands"

    def __str__(self) -> str:
        return f"{SCHEME}://{self.address}?{_query(self.settings)}"


@dataclass(frozen=True)
class CatPrinterFile:
    """A file that gets the bytes a cat printer would receive (for debugging, and for tests)."""

    path: Path
    settings: protocol.PrintSettings
    language: ClassVar[str] = "cat printer commands"

    def __str__(self) -> str:
        root = "//" if self.path.is_absolute() else ""
        return f"{FILE_SCHEME}:{root}{quote(str(self.path))}?{_query(self.settings)}"


def parse(text: str) -> CatPrinter | CatPrinterFile:
    """A ``catprinter://`` or ``catprinter+file://`` destination; :class:`PrinterError` says
    what is wrong with any other."""
    url = urlsplit(text)
    settings = _settings(text, url.query)
    if url.scheme == SCHEME:
        return CatPrinter(_address(text, url.netloc, url.path), settings)
    if url.scheme == FILE_SCHEME and not url.netloc and url.path:
        return CatPrinterFile(Path(unquote(url.path)), settings)
    raise PrinterError(
        f"bad cat printer address {text!r}: expected {SCHEME}://AA:BB:CC:DD:EE:FF?model=MODEL "
        f"or {FILE_SCHEME}:///PATH?model=MODEL",
        "bad_destination",
    )


def _address(text: str, netloc: str, path: str) -> str:
    if path in ("", "/"):
        if _MAC_ADDRESS.fullmatch(netloc):
            return netloc.upper()
        try:
            return str(uuid.UUID(netloc)).upper()
        except ValueError:
            pass
    raise PrinterError(
        f"bad cat printer address {text!r}: expected a Bluetooth address AA:BB:CC:DD:EE:FF "
        "(or, on macOS, the printer's UUID); `voxprint printers scan` lists them",
        "bad_destination",
    )


def _settings(text: str, query: str) -> protocol.PrintSettings:
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        pairs = [("", "")]  # not key=value pairs: refused below like an unknown option
    options = dict(pairs)
    if set(options) - set(OPTIONS) or len(options) != len(pairs):
        raise PrinterError(
            f"bad options in {text!r}: each of {', '.join(OPTIONS)} at most once, nothing else", "bad_destination"
        )
    model = _MODELS_BY_NAME.get(options.get("model", "").upper())
    if model is None:
        raise PrinterError(
            f"{text!r} needs ?model= one of {', '.join(protocol.MODELS)} (`voxprint printers scan` says which)",
            "bad_destination",
        )
    try:
        return protocol.PrintSettings.for_model(model, _number(options, "energy"), _number(options, "speed"))
    except ValueError as error:
        raise PrinterError(f"bad options in {text!r}: {error}", "bad_destination") from None


def _number(options: dict[str, str], name: str) -> int | None:
    if name not in options:
        return None
    try:
        return int(options[name], 0)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, not {options[name]!r}") from None
