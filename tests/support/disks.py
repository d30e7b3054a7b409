"""A disk that fills up for real: a small tmpfs, for the disk-full tests of the media and the server."""

from __future__ import annotations

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
