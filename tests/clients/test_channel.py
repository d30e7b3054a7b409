"""Specification of the connection settings: where a token may go, and where it is read from."""

from __future__ import annotations

import pytest

from voxprint.clients import ChannelConfig, TokenWouldLeak

TOKEN = "s3cret-token-0123456789"
REMOTE = "voxprint.example:50051"  # never contacted: channels connect on their first call


@pytest.mark.parametrize("build", [ChannelConfig.channel, ChannelConfig.aio_channel], ids=["sync", "aio"])
def test_a_token_is_refused_without_tls_to_another_machine(build):
    with pytest.raises(TokenWouldLeak, match="unencrypted"):
        build(ChannelConfig(target=REMOTE, token=TOKEN))


@pytest.mark.parametrize(
    "config",
    [
        ChannelConfig(target="127.0.0.1:50051", token=TOKEN),
        ChannelConfig(target="localhost:50051", token=TOKEN),
        ChannelConfig(target="[::1]:50051", token=TOKEN),
        ChannelConfig(target=REMOTE, token=TOKEN, tls=True),
        ChannelConfig(target=REMOTE, token=TOKEN, allow_plaintext_token=True),
        ChannelConfig(target=REMOTE),
    ],
    ids=["loopback", "localhost", "ipv6-loopback", "tls", "allowed", "no-token"],
)
def test_a_channel_is_built_where_the_token_stays_safe_or_was_allowed(config):
    config.channel().close()


def test_the_token_file_variable_is_read_from_the_environment(monkeypatch, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(f"  {TOKEN}  \n# a comment nobody reads\n")
    monkeypatch.delenv("VOXPRINT_TOKEN", raising=False)
    monkeypatch.setenv("VOXPRINT_TOKEN_FILE", str(token_file))
    assert ChannelConfig.from_env().token == TOKEN


def test_an_empty_token_file_is_refused(monkeypatch, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("\n")
    monkeypatch.setenv("VOXPRINT_TOKEN_FILE", str(token_file))
    with pytest.raises(ValueError, match="is empty"):
        ChannelConfig.from_env()
