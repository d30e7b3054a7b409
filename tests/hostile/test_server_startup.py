"""``voxprint-server`` processes that cannot serve stop at once, saying why in one line: a port or a
data dir another server holds, TLS files that do not fit together or are not PEM, a broken tokens file."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import peewee
import pytest

from tests.support.backends import ScriptedIllustrator, ScriptedTranscriber
from tests.support.clients import self_signed_certificate
from tests.support.servers import offline_settings
from voxprint.server.app import VoxprintServer
from voxprint.server.replica import DataDirInUse, Replica

pytestmark = pytest.mark.slow

SECRET = "secret-token-that-must-not-show"
START_SECONDS = 30


def server_command(data_dir: Path, *arguments: str) -> list[str]:
    return [sys.executable, "-m", "voxprint.server.main", "--data-dir", str(data_dir), *arguments]


def offline_environment(**extra: str) -> dict[str, str]:
    """The environment without API keys or tokens, so the offline backends start with no token."""
    secrets = ("ASSEMBLYAI_API_KEY", "GOOGLE_API_KEY", "GEMINI_API_KEY", "VOXPRINT_AUTH_TOKEN")
    environment = {name: value for name, value in os.environ.items() if name not in secrets}
    return {**environment, **extra}


def refusal(command: list[str], environment: dict[str, str] | None = None) -> str:
    """The stderr of a server that must exit with an error, checked to be one line."""
    finished = subprocess.run(
        command, env=environment or offline_environment(), capture_output=True, text=True, timeout=START_SECONDS
    )
    assert finished.returncode != 0
    lines = finished.stderr.strip().splitlines()
    assert len(lines) == 1, finished.stderr
    return lines[0]


@pytest.fixture
def first_data_dir(tmp_path: Path) -> Path:
    return tmp_path / "first"


@pytest.fixture
def running_server(first_data_dir: Path) -> Iterator[str]:
    """A voxprint-server process serving on a free port from ``first_data_dir``; yields its HOST:PORT."""
    process = subprocess.Popen(
        server_command(first_data_dir, "--listen", "127.0.0.1:0"),
        env=offline_environment(),
        stderr=subprocess.PIPE,
        text=True,
    )
    for line in process.stderr:
        if match := re.search(r"listening on (127\.0\.0\.1:\d+)", line):
            break
    else:
        pytest.fail("the first server never said it was listening")
    yield match.group(1)
    process.kill()
    process.wait()


def openssl_key_and_certificate(directory: Path, name: str) -> tuple[Path, Path]:
    cert, key = self_signed_certificate(directory / name)
    return key, cert


def test_a_second_server_on_a_taken_port_says_address_already_in_use(running_server, tmp_path):
    line = refusal(server_command(tmp_path / "second", "--listen", running_server))

    assert line == f"Error: cannot start: cannot listen on {running_server}: address already in use"


def test_a_second_server_on_a_data_dir_in_use_says_so_and_exits(running_server, first_data_dir):
    finished = subprocess.run(
        server_command(first_data_dir, "--listen", "127.0.0.1:0"),
        env=offline_environment(),
        capture_output=True,
        text=True,
        timeout=START_SECONDS,
    )

    assert finished.returncode == 1
    assert finished.stderr.strip().splitlines()[-1] == (
        f"Error: cannot start: another voxprint-server is already using the data dir {first_data_dir}"
    )


def test_a_certificate_with_another_certificates_key_is_refused_naming_both(tmp_path):
    _, cert = openssl_key_and_certificate(tmp_path, "server")
    other_key, _ = openssl_key_and_certificate(tmp_path, "other")
    tls = ["--tls-cert", str(cert), "--tls-key", str(other_key)]

    line = refusal(server_command(tmp_path / "data", "--listen", "127.0.0.1:0", *tls))

    assert line.endswith(f"TLS key {other_key} does not belong to the certificate {cert}")


def test_a_certificate_that_is_not_pem_is_refused_naming_it(tmp_path):
    key, _ = openssl_key_and_certificate(tmp_path, "server")
    not_pem = tmp_path / "cert.pem"
    not_pem.write_text("this is not a certificate\n")
    tls = ["--tls-cert", str(not_pem), "--tls-key", str(key)]

    line = refusal(server_command(tmp_path / "data", "--listen", "127.0.0.1:0", *tls))

    assert line.endswith(f"TLS certificate {not_pem} is not a PEM certificate")


def test_a_key_that_is_not_pem_is_refused_naming_it(tmp_path):
    _, cert = openssl_key_and_certificate(tmp_path, "server")
    not_pem = tmp_path / "server.key"
    not_pem.write_text("this is not a key\n")
    tls = ["--tls-cert", str(cert), "--tls-key", str(not_pem)]

    line = refusal(server_command(tmp_path / "data", "--listen", "127.0.0.1:0", *tls))

    assert line.endswith(f"TLS key {not_pem} is not a PEM private key without a passphrase")


def test_a_broken_tokens_file_is_refused_naming_the_line_and_never_the_token(tmp_path):
    tokens = tmp_path / "tokens"
    tokens.write_text(f"kitchen {SECRET}\nworkshop {SECRET}\n")
    tokens.chmod(0o600)  # private, as a secrets file should be: the refusal is the only thing said
    environment = offline_environment(VOXPRINT_AUTH_TOKENS_FILE=str(tokens))

    line = refusal(server_command(tmp_path / "data", "--listen", "127.0.0.1:0"), environment)

    assert f"{tokens}, line 2" in line and SECRET not in line


def test_a_start_that_fails_half_way_leaves_the_data_dir_free(tmp_path: Path) -> None:
    unreachable = "postgresql://nobody@127.0.0.1:1/voxprint"
    settings = offline_settings(tmp_path / "data", database_url=unreachable)
    server = VoxprintServer(settings, transcriber=ScriptedTranscriber(), illustrator=ScriptedIllustrator())
    with pytest.raises(peewee.OperationalError):
        asyncio.run(server.start())
    # The failed start took the data dir's lock; had it kept it, this would raise DataDirInUse.
    again = Replica(tmp_path / "data")
    # ...as it does while the lock is held.
    with pytest.raises(DataDirInUse):
        Replica(tmp_path / "data")
    again.close()
