"""Whether a device receives where it says it is, and what an address without that proof may get.

A UDP source address is whatever a datagram says. Answering every request at its face value makes
the gateway a weapon: a 22-byte RESEND in a victim's name brought the victim a whole raster, hundreds of
times its size, and a rate limit keyed on the forged address does nothing. So, as QUIC treats a path it has not
validated:

* every JOB notice carries a cookie: a MAC of the session and of the address the notice is sent
  to, under a secret of this gateway process. Only a device that receives at that address can
  echo it back, so a request (RESEND, QUERY, ACK) carrying the cookie of its own source address
  proves that address, and the session's replies move there;
* everything sent to an address that has not proven itself is charged to that address's budget:
  the bytes of the datagrams the gateway received from it. Whoever forges a victim's address
  gets the victim sent at most what the forger sent.

Budgets are kept for the most recently heard addresses only; a forgotten one starts at zero, which
can only mean less is sent, never more.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import OrderedDict
from dataclasses import dataclass

from voxprint.clients.gateway.assembler import Address, SessionKey
from voxprint.clients.gateway.protocol import COOKIE_SIZE


@dataclass
class ReplyPath:
    """Where a session's replies go, and whether the device has proven it receives there. One
    object per session, shared by its notices and its raster, so a proof moves both."""

    address: Address
    proven: bool = False

    def move(self, proven_address: Address) -> None:
        self.address, self.proven = proven_address, True


class PathValidation:
    def __init__(self, max_addresses: int = 4096) -> None:
        # Cookies need to outlive only the rasters and notices they ask about, which a restart
        # forgets anyway: a fresh secret per process.
        self._secret = secrets.token_bytes(32)
        self._max_addresses = max_addresses
        # Address → bytes it may still be sent before it proves itself.
        self._budgets: OrderedDict[Address, int] = OrderedDict()

    def cookie(self, session: SessionKey, address: Address) -> bytes:
        """What a notice for `session` sent to `address` carries, and requests from there echo."""
        message = f"{session.device}/{session.session:x}/{address[0]}/{address[1]}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).digest()[:COOKIE_SIZE]

    def request_path(self, session: SessionKey, address: Address, cookie: bytes) -> ReplyPath:
        """The path a request from `address` is answered on: proven if `cookie` is its own."""
        return ReplyPath(address, hmac.compare_digest(cookie, self.cookie(session, address)))

    def received(self, address: Address, size: int) -> None:
        """A datagram of `size` bytes came from `address`: that much more may go back unproven."""
        self._budgets[address] = self._budgets.pop(address, 0) + size
        if len(self._budgets) > self._max_addresses:
            self._budgets.popitem(last=False)

    def may_send(self, path: ReplyPath, size: int) -> bool:
        """Whether `size` bytes may go to `path` now; charged to its budget if it is unproven."""
        if path.proven:
            return True
        budget = self._budgets.get(path.address, 0)
        if budget < size:
            return False
        self._budgets[path.address] = budget - size
        return True
