"""Optional extras (``pip install 'voxprint[postgres]'``, ``'voxprint[s3]'``): imported only when used.

A plain ``pip install voxprint`` serves on SQLite and local media. The modules that need an extra's
packages (psycopg for ``postgresql://`` databases, boto3 for ``s3://`` media) are imported inside
``needs_extra`` only once the configuration asks for that feature; a missing package then fails in
one line that says what to install, instead of a ModuleNotFoundError at start-up.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple


class Extra(NamedTuple):
    """One of pyproject.toml's optional dependencies, the package it brings, and what needs it."""

    name: str
    package: str
    feature: str


POSTGRES = Extra("postgres", "psycopg", "postgresql:// databases")
S3 = Extra("s3", "boto3", "s3:// media")


@contextmanager
def needs_extra(extra: Extra, *, error: type[Exception]) -> Iterator[None]:
    """Imports in the block need ``extra``; if they fail, ``error`` says what to install, in one line:
    "postgresql:// databases need psycopg: pip install 'voxprint[postgres]'".

    Any import failure of a third-party module counts (psycopg absent, or present without its C
    library: installing the extra fixes both). A voxprint module that fails to import is a bug, and
    its ModuleNotFoundError goes up unchanged.
    """
    try:
        yield
    except ImportError as failure:
        if isinstance(failure, ModuleNotFoundError) and (failure.name or "voxprint").partition(".")[0] == "voxprint":
            raise
        raise error(f"{extra.feature} need {extra.package}: pip install 'voxprint[{extra.name}]'") from failure
