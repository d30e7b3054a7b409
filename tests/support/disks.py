"""A disk that fills up for real: a small tmpfs, for the disk-full tests of the media and the server."""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """``small_tmpfs("64k")`` mounts a tmpfs of that size: writing past it fails with the kernel's own
    ENOSPC. Mounting needs root, which CI has: there a mount that fails is a failure, and only a
    developer's unprivileged run skips these tests."""
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        mount_point = tmp_path / f"tmpfs-{len(mounted)}"
        mount_point.mkdir()
        result = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount_point)], capture_output=True
        )
        if result.returncode != 0:
            reason = f"cannot mount a tmpfs: {result.stderr.decode(errors='replace').strip()}"
            if os.geteuid() == 0:
                pytest.fail(reason)
            pytest.skip(f"{reason} (needs root)")
        mounted.append(mount_point)
        return mount_point

    yield mount
    for mount_point in mounted:
        subprocess.run(["umount", "--lazy", str(mount_point)], check=True)


def fill_disk(folder: Path) -> Callable[[], None]:
    """Take every free byte of the disk ``folder`` is on; returns the function that gives them back."""
    filler = folder / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        for block in (64 * 1024, 4096, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(descriptor, bytes(block))
    finally:
        os.close(descriptor)
    with pytest.raises(OSError) as full:
        (folder / "one-more-byte").write_bytes(b"x")
    assert full.value.errno == errno.ENOSPC
    return filler.unlink
