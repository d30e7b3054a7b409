"""Human names for the API's enums ("png", "floyd-steinberg", "generating-image") and back.

The CLI, JSON output and the client's keyword arguments all speak these names; the wire speaks
the generated enum values. A name is the enum value's own name without its prefix, lower-case,
with hyphens: ``FORMAT_PREVIEW`` is "preview", ``DITHER_FLOYD_STEINBERG`` is "floyd-steinberg"
(the same spelling as ``rasterizer.DITHERS``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

from voxprint.v1 import voxprint_pb2

if TYPE_CHECKING:
    from google.protobuf.internal.enum_type_wrapper import _EnumTypeWrapper

Format = voxprint_pb2.Format
Dither = voxprint_pb2.Dither
JobState = voxprint_pb2.JobState
Stage = voxprint_pb2.Stage

FormatValue: TypeAlias = voxprint_pb2.Format.ValueType
DitherValue: TypeAlias = voxprint_pb2.Dither.ValueType
JobStateValue: TypeAlias = voxprint_pb2.JobState.ValueType

TERMINAL_STATES: frozenset[JobStateValue] = frozenset({voxprint_pb2.JOB_STATE_COMPLETED, voxprint_pb2.JOB_STATE_FAILED})
#: What Fetch can answer with: every format the contract names.
FETCH_FORMATS: tuple[FormatValue, ...] = tuple(FormatValue(number) for number in Format.values() if number != 0)

# Any generated enum (the class, e.g. Format): the functions below read them by number.
AnyEnum: TypeAlias = "_EnumTypeWrapper[Any]"


def _prefix(enum: AnyEnum) -> str:
    # Every enum's zero value is <PREFIX>_UNSPECIFIED.
    return enum.Name(0).removesuffix("UNSPECIFIED")


def enum_label(enum: AnyEnum, value: int) -> str:
    """``enum_label(Format, FORMAT_PNG) == "png"``; unknown numbers come back as their digits."""
    try:
        name = enum.Name(value)
    except ValueError:
        return str(value)
    return name.removeprefix(_prefix(enum)).lower().replace("_", "-")


def enum_labels(enum: AnyEnum) -> list[str]:
    """The labels a user may choose from (every value but the zero ``_UNSPECIFIED`` one)."""
    return [enum_label(enum, number) for number in enum.values() if number != 0]


def _parse(enum: AnyEnum, value: str | int, what: str) -> int:
    if isinstance(value, int):
        if value != 0 and value in enum.values():
            return value
    else:
        prefix = _prefix(enum)
        name = value.strip().upper().replace("-", "_")
        name = name if name.startswith(prefix) else prefix + name
        if name in enum.keys() and enum.Value(name) != 0:
            return enum.Value(name)
    raise ValueError(f"unknown {what} {value!r}; choose from {', '.join(enum_labels(enum))}")


def parse_format(value: str | int) -> FormatValue:
    """ "png" / "raw" / "preview" (or ``Format.FORMAT_PNG`` ...) → the enum value."""
    return FormatValue(_parse(Format, value, "format"))


def parse_dither(value: str | int) -> DitherValue:
    """ "floyd-steinberg" / "atkinson" / "bayer" / "threshold" (or the enum) → the enum value."""
    return DitherValue(_parse(Dither, value, "dither"))


def parse_state(value: str | int) -> JobStateValue:
    """ "pending", "completed", "generating-image" ... (or the enum) → the enum value."""
    return JobStateValue(_parse(JobState, value, "job state"))


def is_terminal(job: voxprint_pb2.Job) -> bool:
    """True once the job will never change again (COMPLETED or FAILED)."""
    return job.state in TERMINAL_STATES


def has_picture(job: voxprint_pb2.Job) -> bool:
    """True when the picture and raster exist: COMPLETED without an image error."""
    return job.state == voxprint_pb2.JOB_STATE_COMPLETED and not job.error
