"""`compose --help` and usage errors import only the CLI: the library's heavy dependencies
(numba, torch, transformers, music21, networkx) are imported by the commands that use them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# (pydantic is typer's own: `compose plan --help` parses through it)
HEAVY = ("numba", "torch", "transformers", "music21", "networkx", "composer.app.api")

_RUN = """
import sys
from composer.cli import main
rc = main({argv!r})
print(rc, sorted(m for m in {heavy!r} if m in sys.modules))
"""


def _imported(argv: list[str]) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    code = _RUN.format(argv=argv, heavy=HEAVY)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120
    )
    return out.stdout.strip().splitlines()[-1]


def test_help_imports_no_library() -> None:
    assert _imported(["--help"]) == "0 []"
    assert _imported(["plan", "--help"]) == "0 []"


def test_a_usage_error_imports_no_library() -> None:
    assert _imported(["--tempo", "fast"]) == "2 []"


def test_a_command_still_imports_what_it_needs() -> None:
    rc, mods = _imported(["generators"]).split(" ", 1)
    assert rc == "0" and "composer.app.api" in mods  # the check above can fail
