"""``voxprint list``: aligned columns that fit the terminal, ages, errors, state filter and paging."""

from __future__ import annotations

import json
import re

import pytest

from tests.clients.test_cli import finish_job, voxprint
from tests.support.backends import ScriptedIllustrator, ScriptedTranscriber
from voxprint.clients._cli_output import age_text, single_line

LONG_TRANSCRIPT = "a lighthouse keeper feeding seven hungry seagulls on a windy rock " * 4
TERMINAL_COLUMNS = 100


@pytest.fixture
def jobs(server_factory):
    """One job of each kind, oldest first, made by servers taking turns on one database; the last
    server stays up to be listed."""
    backends = {
        "long": (ScriptedTranscriber(LONG_TRANSCRIPT), ScriptedIllustrator()),
        "failed": (ScriptedTranscriber(fail="speech was garbled"), ScriptedIllustrator()),
        "no_picture": (ScriptedTranscriber("a cat"), ScriptedIllustrator(fail="out of ink")),
    }
    made = {}
    for name, (transcriber, illustrator) in backends.items():
        server = server_factory(transcriber=transcriber, illustrator=illustrator)
        made[name] = finish_job(server)
        if name != "no_picture":
            server.stop()
    made["server"] = server
    return made


def listing(jobs, *args: str):
    return voxprint("list", *args, "--server", jobs["server"].target, env={"COLUMNS": str(TERMINAL_COLUMNS)})


def rows(result) -> dict[str, str]:
    """The table's lines by job id, and the header under "header"."""
    assert result.exit_code == 0, result.output
    header, *lines = result.stdout.splitlines()
    return {"header": header, **{line.split()[0]: line for line in lines}}


def cell(table: dict[str, str], job_id: str, column: str) -> str:
    """The text under a left-aligned ``column`` header. Cells are apart by two spaces or more and
    hold single spaces only, so a cell ends at its first double space."""
    start = table["header"].index(column)
    return re.match(r"\S*(?: \S+)*", table[job_id][start:])[0]


def test_every_line_fits_the_terminal(jobs):
    table = rows(listing(jobs))
    assert all(len(line) <= TERMINAL_COLUMNS for line in table.values())


def test_into_a_file_rows_are_whole_and_end_without_spaces(jobs):
    # No COLUMNS: stdout (CliRunner's) is not a terminal, so nothing says how wide to be.
    result = voxprint("list", "--server", jobs["server"].target, env={"COLUMNS": None})
    table = rows(result)
    assert len(result.stdout.splitlines()) == len(table)  # one line per job: none wrapped
    assert cell(table, jobs["long"].id, "transcript") == single_line(LONG_TRANSCRIPT)
    for name in ("failed", "no_picture"):
        assert cell(table, jobs[name].id, "error") == single_line(jobs[name].error)
    assert all(line == line.rstrip() for line in table.values())


def test_a_long_transcript_is_cut_with_an_ellipsis(jobs):
    shown = cell(rows(listing(jobs)), jobs["long"].id, "transcript")
    assert shown.endswith("…")
    assert LONG_TRANSCRIPT.startswith(shown.removesuffix("…"))


def test_cells_line_up_under_their_headers(jobs):
    table = rows(listing(jobs))
    assert cell(table, jobs["long"].id, "state") == "completed"
    assert cell(table, jobs["failed"].id, "state") == "failed"
    assert cell(table, jobs["no_picture"].id, "state") == "no picture"
    assert cell(table, jobs["no_picture"].id, "transcript") == "a cat"
    assert cell(table, jobs["failed"].id, "transcript") == ""


def test_ages_end_under_their_right_aligned_header(jobs):
    table = rows(listing(jobs))
    end = table["header"].index("age") + len("age")
    for job_id in (jobs["long"].id, jobs["failed"].id, jobs["no_picture"].id):
        assert re.fullmatch(r".*\b\d+ (s|min) ago", table[job_id][:end]), table[job_id]


def test_failed_jobs_and_jobs_without_picture_show_their_error(jobs):
    table = rows(listing(jobs))
    for name in ("failed", "no_picture"):
        shown = cell(table, jobs[name].id, "error").removesuffix("…")
        assert shown and jobs[name].error.startswith(shown), table[jobs[name].id]
    assert cell(table, jobs["long"].id, "error") == ""


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (5.7, "5 s ago"),
        (59, "59 s ago"),
        (180, "3 min ago"),
        (7300, "2 h ago"),
        (4 * 86400 + 5, "4 d ago"),
        (-2, "0 s ago"),
    ],
)
def test_ages_read_in_the_largest_whole_unit(seconds, text):
    assert age_text(seconds) == text


def test_state_keeps_only_jobs_in_that_state(jobs):
    table = rows(listing(jobs, "--state", "failed"))
    assert set(table) == {"header", jobs["failed"].id}


def test_jobs_are_newest_first(jobs):
    table = rows(listing(jobs))
    assert list(table)[1:] == [jobs["no_picture"].id, jobs["failed"].id, jobs["long"].id]


def test_a_limit_larger_than_a_page_follows_the_next_pages(jobs, monkeypatch):
    monkeypatch.setattr("voxprint.clients.cli.ALL_JOBS_PAGE_SIZE", 1)
    printed = json.loads(listing(jobs, "--limit", "0", "--json").stdout)
    assert [job["id"] for job in printed["jobs"]] == [jobs["no_picture"].id, jobs["failed"].id, jobs["long"].id]
    assert "nextPageToken" not in printed


def test_a_listing_cut_by_its_limit_says_how_to_continue_and_the_token_does(jobs):
    first = listing(jobs, "--limit", "1")
    continuation = re.search(r"voxprint (list --limit 1 --page-token \S+)$", first.stderr.strip())[1]

    second = rows(listing(jobs, *continuation.split()[1:]))

    assert list(rows(first))[1:] == [jobs["no_picture"].id]
    assert list(second)[1:] == [jobs["failed"].id]


def test_an_empty_listing_says_so_on_stderr(server_factory):
    server = server_factory(transcriber=ScriptedTranscriber(), illustrator=ScriptedIllustrator())
    result = voxprint("list", "--state", "failed", "--server", server.target)
    assert result.exit_code == 0
    assert (result.stdout, result.stderr.strip()) == ("", "no failed jobs")
