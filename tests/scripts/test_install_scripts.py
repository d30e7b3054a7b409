"""scripts/venv.sh, which every install, demo and test script sources: where voxprint gets installed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.support import REPOSITORY

SCRIPTS = REPOSITORY / "scripts"

pytestmark = pytest.mark.slow


def chosen_environment(checkout: Path, virtual_env: str | None = None) -> tuple[str, str, str]:
    """Source venv.sh as the scripts do; returns (VOXPRINT_VENV, the python then on PATH, stderr)."""
    environment = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
    environment["VOXPRINT_ROOT"] = str(checkout)
    if virtual_env is not None:
        environment["VIRTUAL_ENV"] = virtual_env
    shell = subprocess.run(
        ["bash", "-c", f'. {SCRIPTS / "venv.sh"} && echo "$VOXPRINT_VENV" && command -v python'],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    venv, python = shell.stdout.split()
    return venv, python, shell.stderr


def test_without_an_active_environment_the_checkout_gets_its_own_venv(tmp_path):
    venv, python, said = chosen_environment(tmp_path)
    assert venv == str(tmp_path / ".venv") and python == str(tmp_path / ".venv" / "bin" / "python")
    assert "creating the virtual environment" in said


def test_an_existing_checkout_venv_is_reused_not_recreated(tmp_path):
    chosen_environment(tmp_path)
    marker = tmp_path / ".venv" / "installed-before"
    marker.touch()
    venv, _, said = chosen_environment(tmp_path)
    assert venv == str(tmp_path / ".venv") and marker.exists() and "creating" not in said


def test_an_active_virtual_environment_is_respected(tmp_path):
    active = tmp_path / "active"
    venv, _, _ = chosen_environment(tmp_path, virtual_env=str(active))
    assert venv == str(active) and not (tmp_path / ".venv").exists()
