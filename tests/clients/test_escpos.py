"""ESC/POS encoding and parsing, and delivery to a loopback "network printer"."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from tests.support.clients import free_port
from voxprint import rasterizer
from voxprint.clients import escpos, printers
from voxprint.clients.escpos import EscPosError
from voxprint.clients.printers import PathPrinter, PrinterError, TcpPrinter


def drawing_png(width: int = 300, height: int = 130) -> bytes:
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    draw.ellipse((20, 10, 160, 120), outline=0, width=6)
    draw.rectangle((180, 30, 280, 100), fill=90)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


rasters = st.builds(
    lambda bytes_per_row, height, data: rasterizer.Raster(
        data.ljust(bytes_per_row * height, b"\0")[: bytes_per_row * height],
        bytes_per_row * 8,
        height,
        bytes_per_row,
    ),
    st.integers(1, 80),
    st.integers(1, 100),
    st.binary(max_size=8000),
)


@given(rasters, st.integers(1, 64))
def test_parsing_the_encoding_gives_back_the_raster(raster, band_rows):
    printed = escpos.parse(escpos.encode(raster, band_rows=band_rows))
    assert (printed.data, printed.bytes_per_row, printed.height) == (
        raster.data,
        raster.bytes_per_row,
        raster.height,
    )


def test_the_leftmost_dot_is_the_most_significant_bit_on_the_wire():
    # Row of 16 dots, only dot 0 and dot 9 black: LSB-first bytes 0b00000001, 0b00000010.
    raster = rasterizer.Raster(bytes([0b0000_0001, 0b0000_0010]), 16, 1, 2)
    stream = escpos.encode(raster)
    header = stream.index(escpos.RASTER_IMAGE)
    assert stream[header + 8 : header + 10] == bytes([0b1000_0000, 0b0100_0000])


def test_an_msb_first_raster_is_sent_as_is():
    raster = rasterizer.Raster(bytes([0b1000_0000]), 8, 1, 1, bit_order="msb")
    printed = escpos.parse(escpos.encode(raster))
    assert printed.data == bytes([0b0000_0001])


def test_bands_carry_bytes_per_row_and_at_most_band_rows_rows():
    raster = rasterizer.rasterize(drawing_png(), width=384)
    printed = escpos.parse(escpos.encode(raster, band_rows=24))
    assert raster.height > 24
    assert printed.bands == (24,) * (raster.height // 24) + ((raster.height % 24,) if raster.height % 24 else ())
    assert printed.width == 384


def test_default_bands_fit_a_2_kib_printer_buffer_even_at_80_mm():
    raster = rasterizer.rasterize(drawing_png(), width=576)
    printed = escpos.parse(escpos.encode(raster))
    assert max(printed.bands) * printed.bytes_per_row <= 2048


def test_the_stream_resets_first_and_feeds_after_the_picture():
    raster = rasterizer.rasterize(drawing_png())
    stream = escpos.encode(raster, feed_lines=5)
    assert stream.startswith(escpos.INITIALIZE)
    assert stream.endswith(escpos.FEED_LINES + bytes([5]))
    printed = escpos.parse(stream)
    assert (printed.initialized, printed.feed_lines, printed.cut) == (True, 5, False)


def test_cut_is_added_only_when_asked():
    raster = rasterizer.rasterize(drawing_png())
    assert escpos.encode(raster, cut=True).endswith(escpos.FEED_AND_CUT + b"\0")
    assert escpos.parse(escpos.encode(raster, cut=True)).cut


def test_encoding_a_fetch_raw_response_works_like_a_raster():
    from voxprint.v1 import voxprint_pb2

    raster = rasterizer.rasterize(drawing_png())
    response = voxprint_pb2.FetchResponse(
        data=raster.data, width=raster.width, height=raster.height, bytes_per_row=raster.bytes_per_row
    )
    assert escpos.encode(response) == escpos.encode(raster)


@pytest.mark.parametrize(
    ("stream", "message"),
    [
        (b"\x1b@\x1bZ", "unsupported command 1b 5a at offset 2"),
        (b"\x1b@\x1dv0\x00\x02\x00\x02\x00\xff\xff\xff", "image data at offset 10 is truncated"),
        (b"\x1dv0\x00\x02", "header at offset 2 is truncated"),
        (b"\x1dv0\x01\x01\x00\x01\x00\xff", "scaling mode 1"),
        (b"\x1dv0\x00\x01\x00\x01\x00\xff\x1dv0\x00\x02\x00\x01\x00\xff\xff", "2 bytes wide, earlier bands 1"),
    ],
)
def test_the_parser_rejects_what_it_does_not_understand(stream, message):
    with pytest.raises(EscPosError, match=message):
        escpos.parse(stream)


def test_reverse_bits_is_its_own_inverse():
    everything = bytes(range(256))
    assert escpos.reverse_bits(escpos.reverse_bits(everything)) == everything
    assert escpos.reverse_bits(b"\x01\x0f") == b"\x80\xf0"


def test_a_network_printer_receives_the_stream_that_rebuilds_the_raster(tcp_sink):
    raster = rasterizer.rasterize(drawing_png())
    printers.send(escpos.encode(raster), tcp_sink.address)
    printed = escpos.parse(tcp_sink.received())
    assert (printed.data, printed.height, printed.bytes_per_row) == (raster.data, raster.height, raster.bytes_per_row)


def test_a_file_destination_gets_the_exact_bytes(tmp_path):
    stream = escpos.encode(rasterizer.rasterize(drawing_png()))
    printers.send(stream, str(tmp_path / "job.escpos"))
    assert (tmp_path / "job.escpos").read_bytes() == stream


def test_a_refused_connection_is_one_clear_printer_error():
    port = free_port()
    with pytest.raises(PrinterError, match=f"cannot print to tcp://127.0.0.1:{port}: Connection refused"):
        printers.send(b"\x1b@", f"tcp://127.0.0.1:{port}", timeout=2)


def test_an_unwritable_path_is_one_clear_printer_error(tmp_path):
    with pytest.raises(PrinterError, match="No such file or directory"):
        printers.send(b"\x1b@", str(tmp_path / "missing-dir" / "lp0"))


@pytest.mark.parametrize(
    ("text", "destination"),
    [
        ("tcp://printer.local", TcpPrinter("printer.local", 9100)),
        ("tcp://10.0.0.7:9101", TcpPrinter("10.0.0.7", 9101)),
        ("tcp://[::1]:9100", TcpPrinter("::1", 9100)),
        ("/dev/usb/lp0", PathPrinter(Path("/dev/usb/lp0"))),
    ],
)
def test_destinations_parse_from_their_text_form(text, destination):
    assert printers.parse_destination(text) == destination


@pytest.mark.parametrize("text", ["http://printer:9100", "tcp://", "tcp://host:notaport", "tcp://host/queue"])
def test_bad_destinations_are_refused(text):
    with pytest.raises(PrinterError):
        printers.parse_destination(text)


def test_bit_reversal_table_matches_numpy_unpackbits():
    bits = np.unpackbits(np.arange(256, dtype=np.uint8)[:, None], axis=1, bitorder="little")
    assert np.array_equal(escpos.BIT_REVERSAL, np.packbits(bits, axis=1, bitorder="big")[:, 0])
