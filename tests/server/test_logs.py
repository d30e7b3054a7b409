"""Log lines as text or JSON (``--log-format``)."""

from __future__ import annotations

import json
import logging

import peewee
import pytest

from voxprint.server.logs import configure_logging, job_fields, set_replica


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    named = {name: logging.getLogger(name).level for name in ("voxprint", "peewee")}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, named_level in named.items():
        logging.getLogger(name).setLevel(named_level)
    set_replica(None)


def test_json_lines_carry_the_job_stage_duration_and_replica(restore_logging, capfd):
    configure_logging("INFO", "json")
    set_replica("host-1234")
    logging.getLogger("voxprint.server.pipeline").info("job done", extra=job_fields("j-1", "transcribe", 1.23456))
    line = json.loads(capfd.readouterr().err.strip().splitlines()[-1])
    assert {key: line[key] for key in ("level", "logger", "message", "job_id", "stage", "duration", "replica")} == {
        "level": "INFO",
        "logger": "voxprint.server.pipeline",
        "message": "job done",
        "job_id": "j-1",
        "stage": "transcribe",
        "duration": 1.2346,
        "replica": "host-1234",
    }
    assert line["time"].endswith("+00:00")


def test_a_logged_exception_stays_inside_its_one_json_line(restore_logging, capfd):
    configure_logging("INFO", "json")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("x").exception("failed")
    [line] = capfd.readouterr().err.strip().splitlines()
    assert "RuntimeError: boom" in json.loads(line)["exception"]


def test_text_lines_stay_as_they_were(restore_logging, capfd):
    configure_logging("INFO", "text")
    logging.getLogger("voxprint.server.app").info("voxprint listening")
    assert capfd.readouterr().err.strip().endswith("INFO voxprint.server.app: voxprint listening")


def test_debug_shows_voxprints_own_detail_but_no_sql_parameters(restore_logging, capfd, tmp_path):
    configure_logging("DEBUG", "text")
    logging.getLogger("voxprint.server.pipeline").debug("own detail")
    db = peewee.SqliteDatabase(str(tmp_path / "x.db"))
    db.execute_sql("SELECT ?", ("a transcript nobody else should read",))
    shown = capfd.readouterr().err
    assert "own detail" in shown and "a transcript nobody else should read" not in shown


def test_a_library_named_among_the_debug_loggers_shows_its_detail(restore_logging, capfd, tmp_path):
    configure_logging("INFO", "text", debug_loggers=["peewee"])
    db = peewee.SqliteDatabase(str(tmp_path / "x.db"))
    db.execute_sql("SELECT ?", ("asked for by name",))
    assert "asked for by name" in capfd.readouterr().err


def test_warning_level_quiets_every_logger(restore_logging, capfd):
    configure_logging("WARNING", "text")
    logging.getLogger("voxprint.server.app").info("own news")
    logging.getLogger("httpx").info("library news")
    assert capfd.readouterr().err == ""
