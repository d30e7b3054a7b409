"""The --printer-map file: ids to destinations with a default, read by the gateway's own
`destinations()`; mistakes are named by line, and what a satellite cannot use is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from voxprint.clients.gateway.counters import Counters
from voxprint.clients.gateway.delivery import Delivery, UdpDelivery, destinations
from voxprint.clients.gateway.printer_map import PrinterMap, PrinterMapError, read_printer_map
from voxprint.clients.printers import PrinterError


def udp() -> UdpDelivery:
    return UdpDelivery(lambda datagram, address: None, Counters(), lambda: 0.0)


def build(text: str, tmp_path: Path, fallback: list[Delivery] | None = None) -> PrinterMap:
    path = tmp_path / "printers"
    path.write_text(text)
    sender = udp()
    return PrinterMap.build(
        read_printer_map(path), lambda specs: destinations(specs, sender, Counters()), fallback or [], sender
    )


def names(deliveries: list[Delivery]) -> list[str]:
    return [delivery.name for delivery in deliveries]


def test_satellites_devices_and_the_default_get_their_printers_with_comments_and_spaces(tmp_path: Path) -> None:
    (tmp_path / "kids spool").mkdir()
    printers = build(
        "# id  destination\n\n"
        "default tcp://printer.lan\n"
        f"assist_satellite.kids_room   tcp://10.0.0.7:9101   # by the bed\n"
        f"assist_satellite.kids_room   {tmp_path / 'kids spool'}\n"
        "4d9c2e7f0a1b4c3d  /dev/usb/lp0\n",
        tmp_path,
    )
    assert printers.deliveries_for("assist_satellite.kids_room", "4d9c2e7f0a1b4c3d") == (
        "assist_satellite.kids_room",
        printers.deliveries_for("assist_satellite.kids_room")[1],
    )
    assert names(printers.deliveries_for("assist_satellite.kids_room")[1]) == [
        "tcp://10.0.0.7:9101",
        str(tmp_path / "kids spool"),
    ]
    assert names(printers.deliveries_for("assist_satellite.hall", "4d9c2e7f0a1b4c3d")[1]) == ["/dev/usb/lp0"]
    assert printers.deliveries_for(None, None)[0] == "default"
    assert names(printers.deliveries_for("someone else")[1]) == ["tcp://printer.lan:9100"]


def test_without_a_default_unmapped_satellites_print_at_the_fallback(tmp_path: Path) -> None:
    fallback = build("default tcp://spare.lan\n", tmp_path).deliveries_for(None)[1]
    printers = build("assist_satellite.kids_room tcp://kids.lan\n", tmp_path, fallback)
    assert names(printers.deliveries_for("assist_satellite.hall")[1]) == ["tcp://spare.lan:9100"]


def test_a_line_without_a_destination_is_named(tmp_path: Path) -> None:
    path = tmp_path / "printers"
    path.write_text("default tcp://printer.lan\nassist_satellite.kids_room\n")
    with pytest.raises(PrinterMapError, match=r"printers, line 2: expected a satellite or device id and a destination"):
        read_printer_map(path)


def test_an_empty_map_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "printers"
    path.write_text("# nothing yet\n")
    with pytest.raises(PrinterMapError, match="maps no satellite"):
        read_printer_map(path)


def test_a_destination_the_gateway_cannot_print_to_is_named_by_its_line(tmp_path: Path) -> None:
    with pytest.raises(PrinterError, match=r"line 2: unsupported printer address 'ftp://printer'"):
        build("default tcp://printer.lan\nassist_satellite.kids_room ftp://printer\n", tmp_path)


def test_udp_is_refused_since_a_satellite_is_no_udp_device(tmp_path: Path) -> None:
    with pytest.raises(PrinterError, match="line 1: 'udp' sends printouts back to UDP devices"):
        build("default udp\n", tmp_path)
