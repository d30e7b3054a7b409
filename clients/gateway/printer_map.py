"""The `--printer-map` file: which printer each voice satellite's pictures go to.

One entry a line, a satellite or device id and a destination, separated by white space (a
destination may hold spaces: it is the rest of the line); `#` starts a comment; `default` names
the printer for everyone else. An id listed on several lines prints at each of its destinations:

    # satellite or device id              destination (as --deliver takes it)
    default                               tcp://printer.lan:9100
    assist_satellite.kids_room            tcp://192.168.1.40:9100
    assist_satellite.kids_room            /var/spool/voxprint/kids
    4d9c2e7f0a1b4c3d8e6f5a4b3c2d1e0f      /dev/usb/lp0

Destinations are read by the gateway's own `destinations()`, so everything `--deliver` takes (and
only that) is a printer here. `udp` is refused: it sends a printout back to the UDP device that
recorded it, and a Wyoming satellite is none. Satellites with no entry and no `default` print at
the gateway's `--deliver` printers.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from voxprint.clients.gateway.delivery import Delivery
from voxprint.clients.printers import PrinterError

DEFAULT = "default"


class PrinterMapError(ValueError):
    """The file is not a printer map; the message names the line."""


@dataclass(frozen=True)
class PrinterMapFile:
    """The file as written: each id's destinations, with the line that named each (for messages)."""

    path: Path
    entries: dict[str, tuple[tuple[str, str], ...]]


def read_printer_map(path: Path) -> PrinterMapFile:
    """The entries of `path`; only the layout is checked here, destinations when they are built."""
    entries: dict[str, list[tuple[str, str]]] = defaultdict(list)
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise PrinterMapError(f"cannot read {path}: {getattr(error, 'strerror', None) or error}") from None
    for number, line in enumerate(lines, start=1):
        fields = line.split("#", 1)[0].split(maxsplit=1)
        if not fields:
            continue
        where = f"{path}, line {number}"
        if len(fields) != 2:
            raise PrinterMapError(f"{where}: expected a satellite or device id and a destination")
        name, destination = fields
        entries[name].append((where, destination.strip()))
    if not entries:
        raise PrinterMapError(f"{path} maps no satellite and has no default")
    return PrinterMapFile(path, {name: tuple(found) for name, found in entries.items()})


#: Turns destination texts into deliveries: the gateway's `destinations()` with its UDP delivery.
BuildDeliveries = Callable[[list[str]], list[Delivery]]


class PrinterMap:
    """Satellite or device id → the deliveries its pictures go to."""

    def __init__(self, routes: dict[str, list[Delivery]], fallback: list[Delivery]) -> None:
        self._routes = routes
        self._default = routes.get(DEFAULT, fallback)

    @classmethod
    def build(
        cls, mapped: PrinterMapFile | None, build: BuildDeliveries, fallback: list[Delivery], udp: Delivery
    ) -> PrinterMap:
        """Every destination of `mapped` made a delivery now, so a bad one stops the gateway at
        start, named by its line; `fallback` (the --deliver printers) serves ids with no entry."""
        routes: dict[str, list[Delivery]] = {}
        for name, found in (mapped.entries if mapped else {}).items():
            routes[name] = []
            for where, destination in found:
                try:
                    deliveries = build([destination])
                except PrinterError as error:
                    raise PrinterError(f"{where}: {error}") from None
                if udp in deliveries:
                    raise PrinterError(f"{where}: 'udp' sends printouts back to UDP devices; a satellite is none")
                routes[name] += deliveries
        return cls(routes, fallback)

    def deliveries_for(self, *ids: str | None) -> tuple[str, list[Delivery]]:
        """The first of `ids` (most specific first: satellite, then device) with an entry, else the
        default; with the name of the entry that decided."""
        for name in ids:
            if name and name != DEFAULT and name in self._routes:
                return name, self._routes[name]
        return DEFAULT, self._default
