"""The backend registry: each speech or image backend by name, with its options and its factory.

A backend is added with one ``register`` call, and that is all: ``--transcriber`` and
``--illustrator`` take their choices from here, ``voxprint-server --help`` lists the backends and
their options, and ``auto`` asks each backend whether it is ready to be preferred (its credentials
are set) before falling back to the offline default.

An option is a flag ``--NAME`` with a ``VOXPRINT_NAME`` variable. Its value is a
:class:`~server.config.Settings` field when Settings has one by that name (the built-in backends',
which existing configurations and code name), else it is kept in ``Settings.backend_options``;
``Option.value(settings)`` reads it either way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from voxprint.server.config import Settings

T = TypeVar("T")

AUTO = "auto"
_SETTINGS_FIELDS = {field.name: field for field in dataclasses.fields(Settings)}


@dataclass(frozen=True)
class Option:
    # Python name, e.g. "gemini_model": flag --gemini-model, variable VOXPRINT_GEMINI_MODEL.
    name: str
    help: str
    # A click parameter type (or a Python type click understands).
    type: Any = str
    # Only for options Settings has no field for: a field's default is stated once, in Settings.
    default: Any = None

    def __post_init__(self) -> None:
        if self.name in _SETTINGS_FIELDS and self.default is not None:
            raise ValueError(f"option {self.name!r} is a Settings field; its default is the field's")

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def envvar(self) -> str:
        return "VOXPRINT_" + self.name.upper()

    @property
    def initial(self) -> Any:
        """The value when neither the flag nor the variable is given."""
        field = _SETTINGS_FIELDS.get(self.name)
        if field is None:
            return self.default
        return field.default_factory() if field.default_factory is not dataclasses.MISSING else field.default

    def value(self, settings: Settings) -> Any:
        if self.name in _SETTINGS_FIELDS:
            return getattr(settings, self.name)
        return settings.backend_options.get(self.name, self.default)


@dataclass(frozen=True)
class Backend(Generic[T]):
    name: str
    # One line for --help: what it is and what it needs.
    summary: str
    factory: Callable[[Settings], T]
    options: tuple[Option, ...] = ()
    # True when ``auto`` should choose this backend (say, its API key is set); None = never by auto.
    preferred: Callable[[], bool] | None = None


class Registry(Generic[T]):
    """The backends of one kind ("transcriber", "illustrator"), in registration order."""

    def __init__(self, kind: str, *, title: str, fallback: str) -> None:
        self.kind = kind
        # What the backends do, as --help introduces them ("Speech-to-text backend").
        self.title = title
        # What ``auto`` chooses when no backend is preferred: the offline one.
        self.fallback = fallback
        self.backends: dict[str, Backend[T]] = {}

    def register(self, backend: Backend[T]) -> Backend[T]:
        if backend.name == AUTO or backend.name in self.backends:
            raise ValueError(f"a {self.kind} named {backend.name!r} is already registered")
        self.backends[backend.name] = backend
        return backend

    @property
    def choices(self) -> list[str]:
        return [AUTO, *self.backends]

    def choose(self, name: str) -> Backend[T]:
        """The backend ``name`` stands for; ``auto`` = the first preferred one, else the fallback."""
        if name == AUTO:
            preferred = [backend for backend in self.backends.values() if backend.preferred and backend.preferred()]
            return preferred[0] if preferred else self.backends[self.fallback]
        if name not in self.backends:
            raise ValueError(f"unknown {self.kind} {name!r}; use {', '.join(self.choices)}")
        return self.backends[name]

    def create(self, settings: Settings) -> T:
        """Build the backend the settings choose (Settings has a field named after the kind)."""
        return self.choose(getattr(settings, self.kind)).factory(settings)

    def options(self) -> list[Option]:
        """Every backend's options, once each: backends alike (two cloud services) may share one."""
        return list({option.name: option for backend in self.backends.values() for option in backend.options}.values())

    def describe(self) -> str:
        """The --help text of the choice: every backend, and what ``auto`` does."""
        backends = "; ".join(f"{backend.name} = {backend.summary}" for backend in self.backends.values())
        return f"{self.title}: {backends}; {AUTO} = the first of these whose credentials are set, else {self.fallback}."
