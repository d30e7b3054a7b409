"""What the CLI says when it cannot talk to the server: a client and a server that disagree
about TLS are told so, instead of gRPC's "Socket closed"; a server that never answers times out.

The CLI finds out about TLS by probing the server (``clients.channel.probe_transport``): these
tests run it against real voxprint servers on loopback, one serving TLS and one plaintext.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.clients.test_cli import one_error_line, voxprint
from tests.support.backends import ScriptedIllustrator, ScriptedTranscriber
from tests.support.clients import free_port, self_signed_certificate
from voxprint.clients.channel import probe_transport
from voxprint.clients.cli import EXIT_TIMEOUT, EXIT_UNAVAILABLE


@pytest.fixture
def certificate(tmp_path):
    return self_signed_certificate(tmp_path)


@pytest.fixture
def tls_server(server_factory, certificate):
    cert, key = certificate
    return server_factory(
        tls_cert=cert, tls_key=key, transcriber=ScriptedTranscriber(), illustrator=ScriptedIllustrator()
    )


@pytest.fixture
def plaintext_server(server_factory):
    return server_factory(transcriber=ScriptedTranscriber(), illustrator=ScriptedIllustrator())


@pytest.fixture
def silent_listener() -> Iterator[str]:
    """Accepts connections and never says a word."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        yield f"127.0.0.1:{listener.getsockname()[1]}"


def test_a_plaintext_client_is_told_the_server_speaks_tls(tls_server):
    result = voxprint("list", "--server", tls_server.target, "--timeout", "5")
    assert result.exit_code == EXIT_UNAVAILABLE
    line = one_error_line(result)
    assert "the server speaks TLS; pass --tls-ca" in line
    assert "Socket closed" not in line


def test_a_tls_client_is_told_the_server_speaks_plaintext(plaintext_server, certificate):
    cert, _ = certificate
    result = voxprint("list", "--tls-ca", cert, "--server", plaintext_server.target, "--timeout", "5")
    assert result.exit_code == EXIT_UNAVAILABLE
    assert "the server speaks plaintext; drop --tls-ca" in one_error_line(result)


@pytest.mark.slow
def test_the_voxprint_command_says_a_tls_mismatch_in_one_line_without_grpcs_own_log(plaintext_server, certificate):
    # A process of its own: grpc's C core logs the failed handshake unless told otherwise before
    # grpc is first imported, which in this test process happened long ago.
    cert, _ = certificate
    command = [sys.executable, "-m", "voxprint.clients.cli", "list", "--tls-ca", str(cert), "--timeout", "5"]
    ran = subprocess.run(
        [*command, "--server", plaintext_server.target],
        capture_output=True,
        text=True,
        env={key: value for key, value in os.environ.items() if key != "GRPC_VERBOSITY"},
    )
    assert ran.returncode == EXIT_UNAVAILABLE
    [line] = ran.stderr.splitlines()
    assert "the server speaks plaintext; drop --tls-ca" in line


def test_a_tls_client_distrusting_the_certificate_gets_the_handshake_error_not_a_mismatch(tls_server, tmp_path):
    (tmp_path / "other").mkdir()
    other_ca, _ = self_signed_certificate(tmp_path / "other")
    result = voxprint("list", "--tls-ca", other_ca, "--server", tls_server.target, "--timeout", "5")
    assert result.exit_code == EXIT_UNAVAILABLE
    line = one_error_line(result)
    assert "speaks" not in line
    assert "handshake" in line.lower()


def test_a_server_that_never_answers_exits_with_the_timeout_code(silent_listener):
    result = voxprint("get", "any-job", "--server", silent_listener, "--timeout", "1")
    assert result.exit_code == EXIT_TIMEOUT
    assert "(deadline exceeded)" in one_error_line(result)


@pytest.mark.parametrize("prefix", ["", "dns:///", "ipv4:"])
def test_the_probe_recognises_a_tls_server(tls_server, prefix):
    assert probe_transport(prefix + tls_server.target) == "tls"


def test_the_probe_recognises_a_plaintext_server(plaintext_server):
    assert probe_transport(plaintext_server.target) == "plaintext"


def test_the_probe_cannot_tell_when_nothing_listens():
    assert probe_transport(f"127.0.0.1:{free_port()}") is None


def test_the_probe_cannot_tell_when_the_server_stays_silent(silent_listener):
    assert probe_transport(silent_listener, timeout=0.5) is None


def test_the_probe_leaves_unix_socket_targets_alone(tmp_path):
    assert probe_transport(f"unix:{tmp_path / 'voxprint.sock'}") is None
