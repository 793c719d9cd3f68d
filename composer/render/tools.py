"""What a renderer reports when a tool it needs is not installed."""

from __future__ import annotations

from grammar.errors import OutputError


class MissingTool(OutputError):
    """A program, library or data file a format needs is missing; the message says how to get
    it (one line, exit code 2, nothing written)."""
