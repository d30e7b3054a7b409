"""The one error every printer destination raises, ESC/POS or Bluetooth cat printer.

It lives in a module of its own because both `printers` (which parses every destination) and the
`catprinter` package (which `printers` hands cat printers to) raise it.
"""

from __future__ import annotations


class PrinterError(Exception):
    """The printout could not be delivered; the message says where and why, in one line.

    ``reason`` names the kind of failure in a word (``unreachable``, ``no_paper``, ...) for the
    gateway's counters, which count failures by it.
    """

    def __init__(self, message: str, reason: str = "other") -> None:
        super().__init__(message)
        self.reason = reason
