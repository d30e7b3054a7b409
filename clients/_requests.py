"""Request messages for the unary calls, built the same way by the sync and the asyncio client."""

from __future__ import annotations

from voxprint.common.enums import parse_dither, parse_format, parse_state
from voxprint.v1 import voxprint_pb2

#: Default page size when iterating over every job: the server's maximum, fewest round trips.
ALL_JOBS_PAGE_SIZE = 500


def get_request(job_id: str) -> voxprint_pb2.GetJobRequest:
    return voxprint_pb2.GetJobRequest(job_id=job_id)


def fetch_request(job_id: str, format: str | int) -> voxprint_pb2.FetchRequest:
    return voxprint_pb2.FetchRequest(job_id=job_id, format=parse_format(format))


def list_request(
    page_size: int = 0, page_token: str = "", state: str | int | None = None
) -> voxprint_pb2.ListJobsRequest:
    return voxprint_pb2.ListJobsRequest(
        page_size=page_size,
        page_token=page_token,
        state=parse_state(state) if state is not None else voxprint_pb2.JOB_STATE_UNSPECIFIED,
    )


def print_options(width: int | None = None, dither: str | int | None = None) -> voxprint_pb2.PrintOptions:
    """Unset (None) options take the server's defaults."""
    return voxprint_pb2.PrintOptions(
        width=width or 0,
        dither=parse_dither(dither) if dither is not None else voxprint_pb2.DITHER_UNSPECIFIED,
    )


def draw_request(
    phrase: str, request_id: str | None = None, width: int | None = None, dither: str | int | None = None
) -> voxprint_pb2.DrawRequest:
    return voxprint_pb2.DrawRequest(phrase=phrase, request_id=request_id or "", options=print_options(width, dither))
