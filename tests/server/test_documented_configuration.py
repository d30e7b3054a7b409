"""The README's configuration table lists every ``voxprint-server`` flag with its environment variable.

The flags are read from the command itself (its own options and those the backend registries add),
so a flag added without a row in the table fails here.
"""

from __future__ import annotations

import re

import click
import pytest

from tests.support import REPOSITORY
from voxprint.server.main import main

README = REPOSITORY / "README.md"


def configuration_rows() -> list[tuple[set[str], set[str]]]:
    """The rows of the table under README.md's "## Configuration": (flags, environment variables)."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        if not line.startswith("|") or set(line) <= set("|- "):
            continue
        cells = line.strip("|").split("|")
        if len(cells) < 2:
            continue
        rows.append((set(re.findall(r"`(--[a-z0-9-]+)`", cells[0])), set(re.findall(r"`(VOXPRINT_\w+)`", cells[1]))))
    return rows


def server_flags() -> list[click.Option]:
    """Every option of ``voxprint-server`` as it parses its command line, except --help."""
    with click.Context(main) as context:
        parameters, help_option = main.get_params(context), main.get_help_option(context)
    return [
        parameter for parameter in parameters if isinstance(parameter, click.Option) and parameter is not help_option
    ]


FLAGS = server_flags()


def test_the_command_has_flags_and_the_readme_a_table():
    assert len(FLAGS) > 20 and len(configuration_rows()) > 20


@pytest.mark.parametrize("option", FLAGS, ids=lambda option: option.opts[0])
def test_every_flag_has_a_row_with_its_environment_variable(option: click.Option):
    flag = next(name for name in option.opts if name.startswith("--"))
    rows = [variables for flags, variables in configuration_rows() if flag in flags]
    assert rows, f"README.md's configuration table has no row for {flag}"
    if option.envvar:
        assert option.envvar in rows[0], f"README.md's row for {flag} does not name {option.envvar}"
