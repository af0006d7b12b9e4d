"""Name -> implementation maps with lazy imports and "did you mean" errors.

Methods, datasets and click strategies are registered by kebab-case (or paper-style) names that
point at ``"package.module:Attribute"`` strings, so that listing or running one method never imports
the dependencies of another. A registry that accepts import paths also resolves an unregistered
``package.module:Attribute`` name to that attribute (``--methods my_pkg.mod:MyPredictor``).
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


class UnknownNameError(KeyError):
    """A name that no registry entry matches; the message carries suggestions."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


def suggest(name: str, choices: Iterable[str]) -> str:
    """A " (did you mean ...?)" suffix for error messages, or "" when nothing is close."""
    choices = list(choices)
    lowered = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=3, cutoff=0.5)
    if not close:
        return ""
    return " (did you mean " + " or ".join(repr(lowered[c]) for c in close) + "?)"


@dataclass(frozen=True)
class Entry:
    name: str
    target: str
    summary: str
    options: tuple[tuple[str, object], ...] = ()  # keyword arguments for the target
    origin: str = "iseg-bench"  # who registered it: iseg-bench, a plugin package, "import path" or "run time"


class Registry(Generic[T]):
    """A lazily importing registry; lookups are case-insensitive."""

    def __init__(self, kind: str, import_paths: bool = False) -> None:
        self.kind = kind
        self.import_paths = import_paths
        self._entries: dict[str, Entry] = {}
        self._aliases: dict[str, str] = {}

    def register(self, name: str, target: str, summary: str = "", aliases: Iterable[str] = (),
                 options: dict | None = None, origin: str = "iseg-bench") -> None:
        if ":" not in target:
            raise ValueError(f"target must look like 'package.module:Attribute', got {target!r}")
        key = name.lower()
        if key in self._entries or key in self._aliases:
            raise ValueError(f"{self.kind} {name!r} is registered twice")
        self._entries[key] = Entry(name, target, summary, tuple((options or {}).items()), origin)
        for alias in aliases:
            self._aliases[alias.lower()] = key

    def unregister(self, name: str) -> None:
        key = self.entry(name).name.lower()
        del self._entries[key]
        self._aliases = {a: k for a, k in self._aliases.items() if k != key}

    def entry(self, name: str) -> Entry:
        key = name.lower()
        key = self._aliases.get(key, key)
        if key not in self._entries and self.import_paths and ":" in name:
            self._register_path(name)
            key = name.lower()
        if key not in self._entries:
            known = [e.name for e in self._entries.values()]
            raise UnknownNameError(
                f"unknown {self.kind} {name!r}{suggest(name, known + list(self._aliases))}; known: {', '.join(known)}")
        return self._entries[key]

    def _register_path(self, target: str) -> None:
        """Register an import path under its own name, once it is known to import."""
        module_name, _, attr = target.partition(":")
        try:
            obj = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise UnknownNameError(f"{self.kind} {target!r} cannot be imported: {type(exc).__name__}: {exc}") from None
        summary = (getattr(obj, "__doc__", None) or "").strip().splitlines()[:1]
        self.register(target, target, summary[0] if summary else "", origin="import path")

    def get(self, name: str) -> T:
        """Import and return the registered object."""
        module_name, _, attr = self.entry(name).target.partition(":")
        module = importlib.import_module(module_name)
        return getattr(module, attr)

    def canonical(self, name: str) -> str:
        return self.entry(name).name

    def aliases_of(self, name: str) -> list[str]:
        key = self.entry(name).name.lower()
        return [alias for alias, target in self._aliases.items() if target == key]

    def __contains__(self, name: str) -> bool:
        key = name.lower()
        return key in self._entries or key in self._aliases

    def entries(self) -> list[Entry]:
        return list(self._entries.values())

    def names(self) -> list[str]:
        return [e.name for e in self._entries.values()]
