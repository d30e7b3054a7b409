"""Network addresses as people write them: ``HOST:PORT``, ``[IPv6]:PORT``, and the server's default."""

from __future__ import annotations

#: Where ``voxprint-server`` listens, and so where every client looks, unless told otherwise.
DEFAULT_SERVER_ADDRESS = "127.0.0.1:50051"


def split_host_port(text: str) -> tuple[str, int]:
    """ "HOST:PORT" or "[IPv6]:PORT" → (host, port); the host may be empty (":50051": every address).

    Raises ValueError when the port is missing or not 0–65535.
    """
    host, separator, port = text.rpartition(":")
    if not separator or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{text!r} is not HOST:PORT")
    return host.strip("[]"), int(port)
