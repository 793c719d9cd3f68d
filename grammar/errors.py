"""The error hierarchy. Every error a user can cause is one of these, caught once at the CLI edge
and printed as one line: ``error: <field>: <problem>``.

Parsers in :mod:`grammar` raise :class:`GrammarError` (they do not know which field they parse);
the spec layer re-raises it as a :class:`SpecError` naming the field.
"""

from __future__ import annotations

from typing import Any

# The longest problem printed: a message quotes the user's value, which may be megabytes long.
MAX_PROBLEM = 400


def shorten(value: Any, limit: int = 60) -> str:
    """A user's value for a message: one line, at most ``limit`` characters."""
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class ComposeError(Exception):
    """Base of every error the tool reports to a user (exit code 2, one line, no traceback)."""

    def __init__(self, field: str, problem: str) -> None:
        field, problem = shorten(field, 120), shorten(problem, MAX_PROBLEM)  # one line, bounded
        super().__init__(f"{field}: {problem}" if field else problem)
        self.field = field
        self.problem = problem


class GrammarError(ValueError):
    """A string that does not parse: a key, chord, form, meter. Carries only the problem."""


class SpecError(ComposeError):
    """The request is malformed or out of range (a field and what is wrong with it)."""


class PlanError(ComposeError):
    """A well-formed request whose constraints cannot all be met; names the failing constraint."""


class GeneratorError(ComposeError):
    """A section generator is unknown, failed to load, or returned unusable candidates."""


class OutputError(ComposeError):
    """The output cannot be written where asked (exists without --force, unwritable folder)."""
