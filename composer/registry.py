"""The registry of section generators.

Built-ins register at import; third-party packages register through the entry-point group
``composer.generators`` (an entry point names a class or factory taking no arguments), loaded
the first time a name is looked up. Unknown names fail with the list of what is available.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from importlib.metadata import entry_points

from composer.generators.base import SectionGenerator
from grammar.errors import GeneratorError

ENTRY_POINT_GROUP = "composer.generators"

Factory = Callable[[], SectionGenerator]

# Built-in generators: name -> (module, attribute), imported on first use.
BUILTINS: dict[str, tuple[str, str]] = {
    "rules": ("composer.generators.rules", "RuleGenerator"),
    "transformer": ("composer.generators.transformer", "TransformerGenerator"),
}

_FACTORIES: dict[str, Factory] = {}
_ENTRY_POINTS_LOADED = False
_LOAD_ERRORS: dict[str, str] = {}


def register(name: str, factory: Factory) -> None:
    """Make ``factory()`` available as generator ``name`` (replacing any earlier one)."""
    _FACTORIES[name] = factory


def _load_entry_points() -> None:
    global _ENTRY_POINTS_LOADED
    if _ENTRY_POINTS_LOADED:
        return
    _ENTRY_POINTS_LOADED = True
    for name, (module, attr) in BUILTINS.items():
        _FACTORIES.setdefault(name, getattr(import_module(module), attr))
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in _FACTORIES:
            continue
        try:
            _FACTORIES[ep.name] = ep.load()
        except Exception as exc:  # a broken plugin must not break the tool
            _LOAD_ERRORS[ep.name] = f"{type(exc).__name__}: {exc}"


def reload_entry_points() -> None:
    """Look at the installed entry points again (after installing a plugin in-process)."""
    global _ENTRY_POINTS_LOADED
    _ENTRY_POINTS_LOADED = False
    _load_entry_points()


def available() -> list[str]:
    _load_entry_points()
    return sorted(_FACTORIES)


def get_generator(name: str) -> SectionGenerator:
    """An instance of generator ``name``; GeneratorError if unknown, broken or malformed."""
    _load_entry_points()
    if name in _LOAD_ERRORS:
        raise GeneratorError("generator", f"plugin '{name}' failed to load ({_LOAD_ERRORS[name]})")
    factory = _FACTORIES.get(name)
    if factory is None:
        raise GeneratorError(
            "generator",
            f"unknown generator '{name}' (available: {', '.join(available())}; a plugin package "
            f"adds one under the entry-point group '{ENTRY_POINT_GROUP}')",
        )
    gen = factory()
    if not isinstance(gen, SectionGenerator):
        raise GeneratorError("generator", f"'{name}' has no name attribute or generate() method")
    return gen
