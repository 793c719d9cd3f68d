"""The registry of section generators.

Built-ins register at import; third-party packages register through the entry-point group
``composer.generators`` (an entry point names a class or factory taking no arguments), loaded
the first time a name is looked up. Unknown names fail with the list of what is available.

A generator that runs a model of the user's (``--checkpoint DIR``) is one whose factory takes a
``checkpoint`` keyword (a folder; the built-in ``transformer``'s is checked and loaded by
:func:`composer.generators.transformer.user_model.transformer`); a checkpoint given to any other
generator
is an error.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from importlib.metadata import entry_points
from inspect import signature
from pathlib import Path

from composer.generators.base import SectionGenerator
from grammar.errors import GeneratorError

ENTRY_POINT_GROUP = "composer.generators"

Factory = Callable[[], SectionGenerator]

# Built-in generators: name -> (module, attribute), imported on first use.
BUILTINS: dict[str, tuple[str, str]] = {
    "rules": ("composer.generators.rules.generator", "RuleGenerator"),
    "transformer": ("composer.generators.transformer.user_model", "transformer"),
}

_FACTORIES: dict[str, Factory] = {}
_ENTRY_POINTS_LOADED = False
_LOAD_ERRORS: dict[str, str] = {}


def register(name: str, factory: Factory) -> None:
    """Make ``factory()`` available as generator ``name`` (replacing any earlier one)."""
    _FACTORIES[name] = factory


def unregister(name: str) -> None:
    """Forget generator ``name`` and any error from loading it (a no-op for an unknown name);
    an installed entry point of that name is found again by :func:`reload_entry_points`."""
    _FACTORIES.pop(name, None)
    _LOAD_ERRORS.pop(name, None)


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


def takes_checkpoint(factory: Callable[..., object]) -> bool:
    """Whether ``factory`` accepts a ``checkpoint`` keyword (a model folder)."""
    try:
        return "checkpoint" in signature(factory).parameters
    except (TypeError, ValueError):  # a callable without an inspectable signature
        return False


def get_generator(name: str, checkpoint: Path | None = None) -> SectionGenerator:
    """An instance of generator ``name``, on the model in ``checkpoint`` if given;
    GeneratorError if unknown, broken or malformed, or if it takes no checkpoint."""
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
    if checkpoint is None:
        gen = factory()
    elif takes_checkpoint(factory):
        build: Callable[..., SectionGenerator] = factory
        gen = build(checkpoint=checkpoint)
    else:
        takers = [n for n in available() if takes_checkpoint(_FACTORIES[n])]
        raise GeneratorError(
            "checkpoint",
            f"the '{name}' generator takes no checkpoint (generators that do: {', '.join(takers)})",
        )
    if not isinstance(gen, SectionGenerator):
        raise GeneratorError("generator", f"'{name}' has no name attribute or generate() method")
    return gen
