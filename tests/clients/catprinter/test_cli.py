"""`voxprint print --to catprinter://…` and `voxprint printers scan`, in this process, with the
fake airspace as the machine's Bluetooth and a real server on scripted backends."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner, Result

from tests.support.audio import wav_bytes
from tests.support.backends import ScriptedIllustrator, ScriptedTranscriber
from tests.support.catprinter import Airspace, FakeCatPrinter, OtherDevice
from tests.support.servers import RunningServer, submit_requests, watch_events
from voxprint.clients.catprinter import protocol
from voxprint.clients.cli import EXIT_LOCAL, EXIT_USAGE, cli
from voxprint.v1 import voxprint_pb2

ADDRESS = "C0:FF:EE:00:00:01"
CLEAN_ENV = {"VOXPRINT_SERVER": None, "VOXPRINT_TOKEN": None, "VOXPRINT_TLS_CA": None, "VOXPRINT_DEBUG": None}


def voxprint(*args: object) -> Result:
    return CliRunner(env=CLEAN_ENV).invoke(cli, [str(arg) for arg in args])


@pytest.fixture
def server(server_factory) -> RunningServer:
    return server_factory(transcriber=ScriptedTranscriber(), illustrator=ScriptedIllustrator())


@pytest.fixture
def job_id(server: RunningServer) -> str:
    """A completed job with a picture."""
    job = server.stub.Submit(submit_requests(wav_bytes()))
    assert watch_events(server.stub, job.id)[-1].job.state == voxprint_pb2.JOB_STATE_COMPLETED
    return job.id


def raster_of(server: RunningServer, job_id: str) -> voxprint_pb2.FetchResponse:
    return server.stub.Fetch(voxprint_pb2.FetchRequest(job_id=job_id, format=voxprint_pb2.FORMAT_RAW))


def test_print_to_a_cat_printer_puts_the_jobs_raster_on_its_paper(bluetooth: Airspace, server, job_id) -> None:
    # A BLE 5 sized link, so the references' pause between writes adds up to well under a second.
    printer = bluetooth.add(FakeCatPrinter(address=ADDRESS, max_write=509))
    result = voxprint("print", job_id, "--to", f"catprinter://{ADDRESS}?model=GB01", "--server", server.target)
    assert result.exit_code == 0, result.output
    assert printer.image == raster_of(server, job_id).data
    assert f"bytes of cat printer commands) → catprinter://{ADDRESS}?model=GB01" in result.stderr


def test_print_to_a_cat_printer_file_keeps_the_bytes_that_print_the_raster(server, job_id, tmp_path) -> None:
    path = tmp_path / "job.catprinter"
    destination = f"catprinter+file://{path}?model=GB03&energy=20000"
    result = voxprint("print", job_id, "--to", destination, "--server", server.target)
    assert result.exit_code == 0, result.output
    printer = FakeCatPrinter(name="GB03")
    printer.take(path.read_bytes())
    assert (printer.image, printer.energy) == (raster_of(server, job_id).data, 20000)


def test_print_to_a_cat_printer_out_of_paper_exits_6_with_one_line(bluetooth: Airspace, server, job_id) -> None:
    bluetooth.add(FakeCatPrinter(address=ADDRESS, status=protocol.Status.NO_PAPER))
    result = voxprint("print", job_id, "--to", f"catprinter://{ADDRESS}?model=GB01", "--server", server.target)
    assert result.exit_code == EXIT_LOCAL
    assert result.stderr.strip() == f"voxprint: error: cat printer {ADDRESS} is out of paper"


def test_print_to_a_cat_printer_nobody_answers_says_it_was_not_found(bluetooth: Airspace, server, job_id) -> None:
    result = voxprint("print", job_id, "--to", f"catprinter://{ADDRESS}?model=GB01", "--server", server.target)
    assert result.exit_code == EXIT_LOCAL
    assert f"cat printer {ADDRESS} not found" in result.stderr


def test_print_to_a_cat_printer_without_a_model_is_refused_before_fetching(fake_voxprint) -> None:
    result = voxprint("print", "any-id", "--to", f"catprinter://{ADDRESS}", "--server", fake_voxprint.target)
    assert result.exit_code == EXIT_LOCAL
    assert "needs ?model=" in result.stderr
    assert fake_voxprint.servicer.fetch_requests == []


def test_printers_scan_lists_each_printer_with_its_destination(bluetooth: Airspace) -> None:
    bluetooth.add(FakeCatPrinter(address=ADDRESS, name="GB01", rssi=-58))
    bluetooth.add(OtherDevice("11:22:33:44:55:66", "Pixel 8"))
    result = voxprint("printers", "scan", "--seconds", "0.01")
    assert result.exit_code == 0, result.output
    assert result.stdout.split() == ["GB01", ADDRESS, "-58", "dBm", f"catprinter://{ADDRESS}?model=GB01"]


def test_printers_scan_shows_a_devices_control_characters_as_escapes(bluetooth: Airspace) -> None:
    bluetooth.add(FakeCatPrinter(address=ADDRESS, name="\x1b[2JGB01"))
    result = voxprint("printers", "scan", "--seconds", "0.01")
    assert "\x1b" not in result.stdout
    assert "\\x1b[2JGB01" in result.stdout


def test_printers_scan_json_gives_each_printers_destination(bluetooth: Airspace) -> None:
    bluetooth.add(FakeCatPrinter(address=ADDRESS, name="MX06", rssi=-70))
    result = voxprint("printers", "scan", "--seconds", "0.01", "--json")
    assert json.loads(result.stdout) == [
        {
            "name": "MX06",
            "address": ADDRESS,
            "model": "MX06",
            "rssi": -70,
            "destination": f"catprinter://{ADDRESS}?model=MX06",
        }
    ]


def test_printers_scan_that_hears_no_printer_says_what_to_check(bluetooth: Airspace) -> None:
    result = voxprint("printers", "scan", "--seconds", "0.01")
    assert (result.exit_code, result.stdout) == (0, "")
    assert "no cat printers heard in 0.01 s: is one switched on, near, and not connected to a phone?" in result.stderr


def test_printers_scan_help_teaches_with_examples() -> None:
    assert "Examples:" in voxprint("printers", "scan", "--help").stdout


def test_a_bad_seconds_value_is_a_usage_error() -> None:
    assert voxprint("printers", "scan", "--seconds", "0").exit_code == EXIT_USAGE
