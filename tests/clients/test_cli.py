"""The ``voxprint`` command line, end to end against a real server on loopback where it needs one."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from PIL import Image

from tests.support import REPOSITORY
from tests.support.audio import wav_bytes
from tests.support.backends import ScriptedIllustrator, ScriptedTranscriber, sample_png
from tests.support.clients import free_port, self_signed_certificate
from tests.support.servers import GUARD_TOKEN, submit_requests, watch_events
from voxprint import rasterizer
from voxprint.clients import Unavailable, escpos
from voxprint.clients.cli import (
    EXIT_AUTH,
    EXIT_CODES,
    EXIT_JOB_FAILED,
    EXIT_LOCAL,
    EXIT_NOT_FOUND,
    EXIT_NOT_READY,
    EXIT_TIMEOUT,
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
    cli,
)
from voxprint.v1 import voxprint_pb2

UNKNOWN_JOB = "00000000-0000-0000-0000-000000000000"
#: Keep the developer's own settings out of the tests.
CLEAN_ENV = {"VOXPRINT_SERVER": None, "VOXPRINT_TOKEN": None, "VOXPRINT_TLS_CA": None, "VOXPRINT_DEBUG": None}


def voxprint(*args: str | Path, stdin: bytes | None = None, env: dict[str, str] | None = None) -> Result:
    return CliRunner(env={**CLEAN_ENV, **(env or {})}).invoke(cli, [str(arg) for arg in args], input=stdin)


def one_error_line(result: Result) -> str:
    """The single error line a failing command prints (after any progress), and no traceback."""
    errors = [line for line in result.stderr.splitlines() if line.startswith("voxprint: error: ")]
    assert len(errors) == 1, result.stderr
    assert "Traceback" not in result.output
    return errors[0]


def finish_job(server) -> voxprint_pb2.Job:
    """Submits a short recording straight through the API and waits for the job to end."""
    job = server.stub.Submit(submit_requests(wav_bytes()))
    return watch_events(server.stub, job.id)[-1].job


@pytest.fixture
def server(server_factory):
    return server_factory()


@pytest.fixture
def scripted_server(server_factory):
    """A real server on scripted backends: no speech model to load."""
    return server_factory(transcriber=ScriptedTranscriber(), illustrator=ScriptedIllustrator())


@pytest.fixture
def recording(tmp_path) -> Path:
    path = tmp_path / "recording.wav"
    path.write_bytes(wav_bytes(0.5))
    return path


@pytest.fixture
def completed_job(server, speech_wav) -> voxprint_pb2.Job:
    result = voxprint("submit", speech_wav, "--json", "--server", server.target)
    assert result.exit_code == 0, result.output
    return server.stub.GetJob(voxprint_pb2.GetJobRequest(job_id=json.loads(result.stdout)["id"]))


def fetch_raw(server, job_id: str) -> voxprint_pb2.FetchResponse:
    return server.stub.Fetch(voxprint_pb2.FetchRequest(job_id=job_id, format=voxprint_pb2.FORMAT_RAW))


# --- submit -------------------------------------------------------------------------------------


@pytest.mark.slow
def test_submit_follows_the_job_live_and_writes_every_result(server, speech_wav, tmp_path):
    png, raw, preview = tmp_path / "pic.png", tmp_path / "pic.bin", tmp_path / "dots.png"

    result = voxprint("submit", speech_wav, "--png", png, "--raw", raw, "--preview", preview, "--server", server.target)

    assert result.exit_code == 0, result.output
    shown = result.stderr
    assert shown.index("transcribed") < shown.index("penguins") < shown.index("completed")
    stage_lines = [
        line
        for line in shown.splitlines()
        if line.strip().split(" s  ")[-1]
        in ("transcribing", "transcribed", "generating-image", "rasterizing", "completed")
    ]
    assert [float(line.split()[0]) for line in stage_lines] == sorted(float(line.split()[0]) for line in stage_lines)
    job_id = shown.split("job ")[1].split()[0]
    assert Image.open(png).format == "PNG"
    assert raw.read_bytes() == fetch_raw(server, job_id).data
    assert Image.open(preview).size == (384, len(raw.read_bytes()) // 48)


@pytest.mark.slow
def test_submit_json_prints_the_finished_job(server, speech_wav):
    result = voxprint(
        "submit", speech_wav, "--json", "--width", "576", "--dither", "atkinson", "--server", server.target
    )
    assert result.exit_code == 0, result.output
    job = json.loads(result.stdout)
    assert job["state"] == "JOB_STATE_COMPLETED"
    assert "penguins" in job["transcript"]
    assert job["options"] == {"width": 576, "dither": "DITHER_ATKINSON"}
    assert job["raster"]["bytesPerRow"] == 72


@pytest.mark.slow
def test_submit_no_wait_returns_the_queued_job_and_watch_follows_it(server, speech_wav):
    queued = voxprint("submit", speech_wav, "--no-wait", "--json", "--request-id", "cli-1", "--server", server.target)
    assert queued.exit_code == 0, queued.output
    job_id = json.loads(queued.stdout)["id"]

    watched = voxprint("watch", job_id, "--json", "--server", server.target)

    assert watched.exit_code == 0, watched.output
    events = [json.loads(line) for line in watched.stdout.splitlines()]
    assert events[0]["snapshot"] is True
    versions = [int(event["job"]["version"]) for event in events]
    assert versions == sorted(set(versions))
    assert events[-1]["job"]["state"] == "JOB_STATE_COMPLETED"


def test_submit_no_wait_prints_the_job_id_alone_on_stdout(scripted_server, recording):
    result = voxprint("submit", recording, "--no-wait", "--server", scripted_server.target)
    assert result.exit_code == 0, result.output
    (job,) = scripted_server.stub.ListJobs(voxprint_pb2.ListJobsRequest()).jobs
    assert result.stdout == f"{job.id}\n"


def test_the_job_id_of_submit_no_wait_can_be_captured_by_the_shell(scripted_server, recording):
    script = 'id=$("$@" submit "$RECORDING" --no-wait) && "$@" get "$id" --json'
    environment = {**os.environ, "RECORDING": str(recording), "VOXPRINT_SERVER": scripted_server.target}
    environment.pop("VOXPRINT_TOKEN", None)
    shell = subprocess.run(
        ["bash", "-c", script, "bash", sys.executable, "-m", "voxprint.clients.cli"],
        env=environment,
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shell.returncode == 0, shell.stderr
    (job,) = scripted_server.stub.ListJobs(voxprint_pb2.ListJobsRequest()).jobs
    assert json.loads(shell.stdout)["id"] == job.id


@pytest.mark.slow
def test_submit_from_stdin(server, speech_wav):
    result = voxprint("submit", "-", "--json", "--server", server.target, stdin=speech_wav.read_bytes())
    assert result.exit_code == 0, result.output
    assert "penguins" in json.loads(result.stdout)["transcript"]


@pytest.mark.slow
def test_a_failed_transcription_exits_1_with_the_reason(server_factory, tmp_path):
    server = server_factory(transcriber=ScriptedTranscriber(fail="speech was garbled"))
    wav = tmp_path / "noise.wav"
    wav.write_bytes(wav_bytes(0.5))
    result = voxprint("submit", wav, "--server", server.target)
    assert result.exit_code == EXIT_JOB_FAILED
    line = one_error_line(result)
    assert line.startswith("voxprint: error: job failed (transcribe): ")
    assert line.endswith("speech was garbled")


@pytest.mark.slow
def test_a_job_without_picture_fails_only_when_a_picture_was_asked_for(server_factory, tmp_path):
    server = server_factory(
        transcriber=ScriptedTranscriber("a cat"), illustrator=ScriptedIllustrator(fail="out of ink")
    )
    wav = tmp_path / "cat.wav"
    wav.write_bytes(wav_bytes(0.5))

    asked = voxprint("submit", wav, "--png", tmp_path / "cat.png", "--server", server.target)
    not_asked = voxprint("submit", wav, "--json", "--server", server.target)

    assert asked.exit_code == EXIT_JOB_FAILED
    assert "no picture" in one_error_line(asked) and "out of ink" in asked.stderr
    assert not (tmp_path / "cat.png").exists()
    assert not_asked.exit_code == 0
    assert json.loads(not_asked.stdout)["transcript"] == "a cat"
    assert "warning: no picture" in not_asked.stderr


@pytest.mark.slow
def test_submit_rejected_as_not_audio_exits_2(server, tmp_path):
    text = tmp_path / "notes.wav"
    text.write_text("this is not a recording\n" * 50)
    result = voxprint("submit", text, "--server", server.target)
    assert result.exit_code == EXIT_USAGE
    assert "invalid argument" in one_error_line(result)


@pytest.mark.slow
def test_waiting_past_the_timeout_exits_with_the_timeout_code(server_factory, tmp_path):
    gate = threading.Event()
    server = server_factory(transcriber=ScriptedTranscriber(gate=gate))
    wav = tmp_path / "slow.wav"
    wav.write_bytes(wav_bytes(0.5))
    try:
        result = voxprint("submit", wav, "--wait-timeout", "0.5", "--server", server.target)
    finally:
        gate.set()
    assert result.exit_code == EXIT_TIMEOUT
    assert "did not finish within 0.5 s" in one_error_line(result)


@pytest.mark.parametrize("no_wait", [True, False])
def test_submit_prints_no_empty_line_on_stderr(scripted_server, recording, tmp_path, no_wait):
    arguments = ["--no-wait"] if no_wait else ["--png", tmp_path / "pic.png"]
    result = voxprint("submit", recording, *arguments, "--server", scripted_server.target)
    assert result.exit_code == 0, result.output
    assert all(line.strip() for line in result.stderr.splitlines()), result.stderr


def test_watch_times_the_stages_from_the_jobs_own_timestamps(server_factory, recording):
    gate = threading.Event()
    server = server_factory(transcriber=ScriptedTranscriber(gate=gate), illustrator=ScriptedIllustrator())
    job_id = voxprint("submit", recording, "--no-wait", "--server", server.target).stdout.strip()
    time.sleep(0.5)  # the job sits at the gate, so it takes at least this long
    gate.set()
    job = watch_events(server.stub, job_id)[-1].job

    watched = voxprint("watch", job_id, "--server", server.target)

    assert watched.exit_code == 0, watched.output
    took = (job.updated_at.ToMicroseconds() - job.created_at.ToMicroseconds()) / 1e6
    assert took >= 0.5
    [completed] = [line for line in watched.stderr.splitlines() if line.endswith(" s  completed")]
    assert float(completed.split()[0]) == pytest.approx(took, abs=0.05)


def test_no_wait_with_outputs_is_a_usage_error(tmp_path):
    wav = tmp_path / "a.wav"
    wav.write_bytes(wav_bytes(0.5))
    result = voxprint("submit", wav, "--no-wait", "--png", tmp_path / "a.png")
    assert result.exit_code == EXIT_USAGE
    assert "--no-wait" in result.stderr


# --- draw ---------------------------------------------------------------------------------------


def test_draw_follows_the_phrase_to_its_raster(scripted_server, tmp_path):
    raw = tmp_path / "dragon.bin"

    result = voxprint("draw", "a dragon eating ice cream", "--raw", raw, "--server", scripted_server.target)

    assert result.exit_code == 0, result.output
    job_id = result.stderr.split("job ")[1].split()[0]
    assert "completed" in result.stderr and "transcribing" not in result.stderr
    assert raw.read_bytes() == fetch_raw(scripted_server, job_id).data


def test_draw_no_wait_prints_only_the_job_id(scripted_server):
    result = voxprint("draw", "a dragon", "--no-wait", "--server", scripted_server.target)

    assert result.exit_code == 0, result.output
    job = scripted_server.stub.GetJob(voxprint_pb2.GetJobRequest(job_id=result.stdout.strip()))
    assert job.transcript == "a dragon"


def test_draw_json_prints_the_finished_job(scripted_server):
    result = voxprint("draw", "a red balloon", "--json", "--server", scripted_server.target)

    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert (printed["state"], printed["transcript"]) == ("JOB_STATE_COMPLETED", "a red balloon")


def test_draw_of_an_empty_phrase_fails_in_one_line(scripted_server):
    result = voxprint("draw", " ", "--server", scripted_server.target)

    assert result.exit_code != 0
    assert "empty" in result.stderr and "Traceback" not in result.output


# --- get / list / fetch ------------------------------------------------------------------------


@pytest.mark.slow
def test_get_shows_the_job_and_its_json(server, completed_job):
    table = voxprint("get", completed_job.id, "--server", server.target)
    document = voxprint("get", completed_job.id, "--json", "--server", server.target)
    assert table.exit_code == document.exit_code == 0
    assert completed_job.transcript in table.stdout and "completed" in table.stdout
    assert json.loads(document.stdout)["transcript"] == completed_job.transcript


def test_get_prints_whole_lines_that_end_without_spaces(server_factory):
    transcript = "a lighthouse keeper feeding seven hungry seagulls on a windy rock, " * 3
    server = server_factory(transcriber=ScriptedTranscriber(transcript.strip()), illustrator=ScriptedIllustrator())
    job = finish_job(server)

    # No COLUMNS: stdout (CliRunner's) is not a terminal, so nothing says how wide to be.
    result = voxprint("get", job.id, "--server", server.target, env={"COLUMNS": None})

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line for line in lines if line.rstrip() != line] == []
    assert f"transcript  {job.transcript}" in lines


@pytest.mark.slow
def test_get_of_an_unknown_job_exits_4_with_one_line(server):
    result = voxprint("get", UNKNOWN_JOB, "--server", server.target)
    assert result.exit_code == EXIT_NOT_FOUND
    assert UNKNOWN_JOB in one_error_line(result)


@pytest.mark.slow
def test_list_json_has_the_jobs_newest_first(server, speech_wav):
    ids = [
        json.loads(voxprint("submit", speech_wav, "--no-wait", "--json", "--server", server.target).stdout)["id"]
        for _ in range(3)
    ]
    result = voxprint("list", "--json", "--limit", "2", "--server", server.target)
    assert result.exit_code == 0, result.output
    assert [job["id"] for job in json.loads(result.stdout)["jobs"]] == ids[::-1][:2]


@pytest.mark.slow
def test_fetch_writes_exactly_what_the_server_returns(server, completed_job, tmp_path):
    for format_name, proto_format in (
        ("png", voxprint_pb2.FORMAT_PNG),
        ("raw", voxprint_pb2.FORMAT_RAW),
        ("preview", voxprint_pb2.FORMAT_PREVIEW),
    ):
        output = tmp_path / format_name
        result = voxprint(
            "fetch", completed_job.id, "--format", format_name, "-o", output, "--json", "--server", server.target
        )
        assert result.exit_code == 0, result.output
        expected = server.stub.Fetch(voxprint_pb2.FetchRequest(job_id=completed_job.id, format=proto_format))
        assert output.read_bytes() == expected.data, format_name
        assert json.loads(result.stdout)["height"] == expected.height


@pytest.mark.slow
def test_fetch_to_stdout(server, completed_job):
    result = voxprint("fetch", completed_job.id, "--format", "raw", "-o", "-", "--server", server.target)
    assert result.exit_code == 0
    assert result.stdout_bytes == fetch_raw(server, completed_job.id).data


def test_fetch_refuses_json_and_data_both_on_stdout():
    result = voxprint("fetch", UNKNOWN_JOB, "--format", "raw", "-o", "-", "--json")
    assert result.exit_code == EXIT_USAGE
    assert "stdout" in result.stderr


@pytest.mark.slow
def test_fetch_before_the_picture_exists_exits_5(server_factory, tmp_path):
    gate = threading.Event()
    server = server_factory(transcriber=ScriptedTranscriber(gate=gate))
    wav = tmp_path / "slow.wav"
    wav.write_bytes(wav_bytes(0.5))
    try:
        job_id = json.loads(voxprint("submit", wav, "--no-wait", "--json", "--server", server.target).stdout)["id"]
        result = voxprint("fetch", job_id, "--format", "png", "-o", tmp_path / "x.png", "--server", server.target)
    finally:
        gate.set()
    assert result.exit_code == EXIT_NOT_READY
    assert "failed precondition" in one_error_line(result)


def test_an_unreachable_server_exits_3_naming_it():
    target = f"127.0.0.1:{free_port()}"
    result = voxprint("--server", target, "list", "--timeout", "5")
    assert result.exit_code == EXIT_UNAVAILABLE
    assert f"voxprint server {target} unavailable" in one_error_line(result)


def test_debug_shows_the_traceback_instead():
    result = voxprint("--debug", "--server", f"127.0.0.1:{free_port()}", "get", UNKNOWN_JOB, "--timeout", "5")
    assert not isinstance(result.exception, SystemExit)  # propagated, so Python prints the traceback
    assert isinstance(result.exception.__cause__, Unavailable)


@pytest.mark.slow
def test_the_token_comes_from_the_flag_or_the_environment(guarded_server):
    by_flag = voxprint("list", "--token", GUARD_TOKEN, "--server", guarded_server.target)
    by_env = voxprint("list", "--server", guarded_server.target, env={"VOXPRINT_TOKEN": GUARD_TOKEN})
    assert by_flag.exit_code == by_env.exit_code == 0, by_flag.output + by_env.output


def test_the_token_can_come_from_a_file_so_it_does_not_show_in_ps(guarded_server, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(GUARD_TOKEN + "\n")

    result = voxprint("list", "--token-file", token_file, "--server", guarded_server.target)

    assert result.exit_code == 0, result.output


def test_a_token_is_not_sent_unencrypted_to_another_machine(fake_voxprint):
    result = voxprint("list", "--token", GUARD_TOKEN, "--server", "voxprint.example:50051")

    assert result.exit_code == EXIT_USAGE
    assert "unencrypted" in one_error_line(result) and "--allow-plaintext-token" in one_error_line(result)
    assert GUARD_TOKEN not in result.output


@pytest.mark.slow
def test_no_token_for_a_guarded_server_exits_with_the_auth_code_and_names_the_flag(guarded_server):
    result = voxprint("list", "--server", guarded_server.target)
    assert result.exit_code == EXIT_AUTH
    line = one_error_line(result)
    assert "(unauthenticated)" in line and "--token" in line


@pytest.mark.slow
def test_a_wrong_token_and_an_unreachable_server_exit_differently(guarded_server):
    wrong_token = voxprint("list", "--token", "guess", "--server", guarded_server.target)
    unreachable = voxprint("list", "--token", GUARD_TOKEN, "--server", f"127.0.0.1:{free_port()}")
    assert (wrong_token.exit_code, unreachable.exit_code) == (EXIT_AUTH, EXIT_UNAVAILABLE)


@pytest.mark.slow
def test_tls_ca_connects_over_tls(server_factory, tmp_path):
    cert, key = self_signed_certificate(tmp_path)
    server = server_factory(
        tls_cert=cert, tls_key=key, transcriber=ScriptedTranscriber(), illustrator=ScriptedIllustrator()
    )
    assert voxprint("--tls-ca", cert, "--server", server.target, "list").exit_code == 0
    assert voxprint("list", "--server", server.target, "--timeout", "3").exit_code == EXIT_UNAVAILABLE


# --- what the terminal is shown ----------------------------------------------------------------

HOSTILE_TEXT = "kitchen\x1b]0;owned\x07\x1b[2J\x00\x9b.wav"


@pytest.mark.parametrize("command", ["get", "list"])
def test_control_characters_in_a_job_are_printed_as_escapes_never_sent_to_the_terminal(fake_voxprint, command):
    fake_voxprint.servicer.jobs = [
        voxprint_pb2.Job(id="5a0b3c1e-0000-4000-8000-000000000001", filename=HOSTILE_TEXT, transcript=HOSTILE_TEXT)
    ]
    arguments = ["get", fake_voxprint.servicer.jobs[0].id] if command == "get" else ["list"]

    result = voxprint(*arguments, "--server", fake_voxprint.target)

    assert result.exit_code == 0, result.output
    assert not any(char in result.stdout for char in "\x1b\x07\x00\x9b")
    assert "kitchen\\x1b]0;owned\\x07\\x1b[2J\\x00\\x9b.wav" in result.stdout


# --- print ----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_print_sends_escpos_that_rebuilds_the_raster(server, completed_job, tcp_sink):
    result = voxprint("print", completed_job.id, "--to", tcp_sink.address, "--cut", "--server", server.target)
    assert result.exit_code == 0, result.output
    printed = escpos.parse(tcp_sink.received())
    raw = fetch_raw(server, completed_job.id)
    assert (printed.data, printed.bytes_per_row, printed.height) == (raw.data, raw.bytes_per_row, raw.height)
    assert max(printed.bands) <= escpos.DEFAULT_BAND_ROWS
    assert printed.initialized and printed.cut


@pytest.mark.slow
def test_print_to_a_file_keeps_the_escpos_bytes(server, completed_job, tmp_path):
    result = voxprint(
        "print", completed_job.id, "--to", tmp_path / "job.escpos", "--band-rows", "8", "--server", server.target
    )
    assert result.exit_code == 0, result.output
    raw = fetch_raw(server, completed_job.id)
    assert (tmp_path / "job.escpos").read_bytes() == escpos.encode(raw, band_rows=8)


@pytest.mark.slow
def test_print_to_a_dead_printer_exits_6(server_factory, tmp_path):
    server = server_factory(transcriber=ScriptedTranscriber("a cat"), illustrator=ScriptedIllustrator())
    wav = tmp_path / "cat.wav"
    wav.write_bytes(wav_bytes(0.5))
    job_id = json.loads(voxprint("submit", wav, "--json", "--server", server.target).stdout)["id"]
    port = free_port()
    result = voxprint("print", job_id, "--to", f"tcp://127.0.0.1:{port}", "--server", server.target)
    assert result.exit_code == EXIT_LOCAL
    assert f"tcp://127.0.0.1:{port}" in one_error_line(result)


# --- rasterize (no server) -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("width", "dither", "bit_order"),
    [("384", "floyd-steinberg", "lsb"), ("576", "atkinson", "msb"), ("384", "bayer", "lsb")],
)
def test_rasterize_equals_the_rasterizer(tmp_path, width, dither, bit_order):
    image = tmp_path / "drawing.png"
    image.write_bytes(sample_png())
    result = voxprint(
        "rasterize",
        image,
        "-o",
        tmp_path / "out.bin",
        "--preview",
        tmp_path / "p.png",
        "--width",
        width,
        "--dither",
        dither,
        "--bit-order",
        bit_order,
    )
    assert result.exit_code == 0, result.output
    expected = rasterizer.rasterize(sample_png(), width=int(width), dither=dither, bit_order=bit_order)
    assert (tmp_path / "out.bin").read_bytes() == expected.data
    assert (tmp_path / "p.png").read_bytes() == rasterizer.preview(expected)


def test_rasterize_json_describes_the_raster(tmp_path):
    image = tmp_path / "drawing.png"
    image.write_bytes(sample_png(640, 480))
    result = voxprint("rasterize", image, "-o", tmp_path / "out.bin", "--json")
    assert json.loads(result.stdout) == {
        "path": str(tmp_path / "out.bin"),
        "bitOrder": "lsb",
        "width": 384,
        "height": 288,
        "bytesPerRow": 48,
        "sizeBytes": str(48 * 288),
    }


@pytest.mark.parametrize("arguments", [["--width", "100"], []])
def test_rasterize_refuses_bad_input_with_exit_2(tmp_path, arguments):
    image = tmp_path / "drawing.png"
    image.write_bytes(sample_png() if arguments else b"not an image")
    result = voxprint("rasterize", image, "-o", tmp_path / "out.bin", *arguments)
    assert result.exit_code == EXIT_USAGE
    one_error_line(result)
    assert not (tmp_path / "out.bin").exists()


# --- files written ---------------------------------------------------------------------------


@pytest.fixture
def usual_umask():
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def permissions(*paths: Path) -> set[int]:
    return {stat.S_IMODE(path.stat().st_mode) for path in paths}


@pytest.mark.usefixtures("usual_umask")
def test_submit_writes_results_readable_by_everyone(scripted_server, recording, tmp_path):
    png, raw, preview = tmp_path / "pic.png", tmp_path / "pic.bin", tmp_path / "dots.png"
    result = voxprint(
        "submit", recording, "--png", png, "--raw", raw, "--preview", preview, "--server", scripted_server.target
    )
    assert result.exit_code == 0, result.output
    assert permissions(png, raw, preview) == {0o644}


@pytest.mark.usefixtures("usual_umask")
def test_fetch_and_print_write_files_readable_by_everyone(scripted_server, tmp_path):
    job = finish_job(scripted_server)
    fetched, printed = tmp_path / "pic.png", tmp_path / "job.escpos"
    assert (
        voxprint("fetch", job.id, "--format", "png", "-o", fetched, "--server", scripted_server.target).exit_code == 0
    )
    assert voxprint("print", job.id, "--to", printed, "--server", scripted_server.target).exit_code == 0
    assert permissions(fetched, printed) == {0o644}


@pytest.mark.usefixtures("usual_umask")
def test_rasterize_writes_files_readable_by_everyone(tmp_path):
    image, raster, preview = tmp_path / "drawing.png", tmp_path / "out.bin", tmp_path / "dots.png"
    image.write_bytes(sample_png())
    assert voxprint("rasterize", image, "-o", raster, "--preview", preview).exit_code == 0
    assert permissions(raster, preview) == {0o644}


# --- help -----------------------------------------------------------------------------------------


def test_help_teaches_with_examples_and_exit_codes():
    top = voxprint("--help")
    assert "Exit codes:" in top.stdout and "voxprint submit kitchen.wav" in top.stdout
    for command in ("submit", "watch", "get", "list", "fetch", "print", "rasterize"):
        assert "Examples:" in voxprint(command, "--help").stdout, command


def test_help_lists_every_exit_code_once():
    listed = [line.split(maxsplit=1) for line in voxprint("--help").stdout.split("Exit codes:")[1].splitlines()]
    codes = [int(words[0]) for words in listed if words and words[0].isdigit()]
    assert sorted(codes) == sorted(set(codes)) == sorted(code for code, _ in EXIT_CODES)


def test_the_docs_list_the_exit_codes_help_lists():
    documented = re.findall(r"^\| (\d+) \| (.+?) \|$", (REPOSITORY / "docs" / "cli.md").read_text(), re.MULTILINE)
    assert [(int(code), meaning) for code, meaning in documented] == list(EXIT_CODES)
