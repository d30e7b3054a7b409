"""Printouts spooled to a directory: one ESC/POS file per job, with the permissions the umask
gives any new file (not the owner-only ones of a temporary file)."""

from __future__ import annotations

import os
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from voxprint.clients import escpos
from voxprint.clients.gateway.counters import Counters
from voxprint.clients.gateway.delivery import DirectoryDelivery
from voxprint.v1 import voxprint_pb2

JOB = voxprint_pb2.Job(id=str(uuid.uuid4()), state=voxprint_pb2.JOB_STATE_COMPLETED)
RASTER = voxprint_pb2.FetchResponse(data=bytes(range(48)) * 4, width=384, height=4, bytes_per_row=48)


@pytest.fixture
def umask() -> Iterator[None]:
    """Restores the process umask a test sets."""
    previous = os.umask(0o022)
    os.umask(previous)
    yield
    os.umask(previous)


async def spool(directory: Path) -> Path:
    await DirectoryDelivery(directory, Counters()).deliver(None, JOB, RASTER)
    return directory / f"{JOB.id}.escpos"


async def test_a_spooled_printout_is_the_jobs_escpos(tmp_path: Path) -> None:
    printed = escpos.parse((await spool(tmp_path)).read_bytes())
    assert (printed.data, printed.height) == (RASTER.data, RASTER.height)


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o077, 0o600)])
async def test_a_spooled_printout_gets_the_permissions_the_umask_gives(
    tmp_path: Path, umask: None, mask: int, mode: int
) -> None:
    os.umask(mask)
    assert stat.S_IMODE((await spool(tmp_path)).stat().st_mode) == mode
