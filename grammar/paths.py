"""Input files named by a user (a spec, a profile): say what a path is when it is not a file.

"no such file" for a folder, a named pipe, ``/dev/null`` or a symlink loop sends a user looking in
the wrong place; :func:`read_input` names what the path is instead, and never blocks on a FIFO.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from grammar.errors import SpecError, shorten
from grammar.yamlsafe import MAX_BYTES


def _kind(mode: int) -> str | None:
    if stat.S_ISDIR(mode):
        return "a folder, not a file"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO), not a file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device, not a file"
    if stat.S_ISSOCK(mode):
        return "a socket, not a file"
    if not stat.S_ISREG(mode):
        return "not a regular file"
    return None


def input_problem(path: Path) -> str | None:
    """Why ``path`` cannot be read as a user's input file, or None if it can."""
    shown = shorten(path, 120)
    try:
        st = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return f"'{shown}' is a symlink loop"
        if exc.errno == errno.ENAMETOOLONG:
            return f"'{shown}': file name too long"
        if exc.errno == errno.EACCES:
            return f"'{shown}': permission denied"
        if exc.errno == errno.ENOTDIR:
            return f"'{shown}': a part of the path is not a folder"
        return f"no such file '{shown}'"
    kind = _kind(st.st_mode)
    if kind is not None:
        return f"'{shown}' is {kind}"
    if st.st_size > MAX_BYTES:
        return f"'{shown}' is {st.st_size:,} bytes (at most {MAX_BYTES:,})"
    return None


def read_input(path: Path, field: str) -> str:
    """The text of a user's input file; SpecError naming ``field`` if it is not one."""
    problem = input_problem(path)
    if problem is not None:
        raise SpecError(field, problem)
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SpecError(field, f"'{shorten(path, 120)}' is not UTF-8 text") from None
    except OSError as exc:
        raise SpecError(field, f"'{shorten(path, 120)}': {exc.strerror or exc}") from None


def folder_problem(path: Path) -> str | None:
    """Why ``path`` is not a folder a user can name for reading (None if it is one)."""
    try:
        if path.is_dir():
            return None
    except OSError:
        pass
    shown, problem = shorten(path, 120), input_problem(path)
    if problem is None:
        return f"'{shown}' is a file, not a folder"
    if problem.startswith("no such file"):
        return f"no such folder '{shown}'"
    return problem.replace(", not a file", ", not a folder")
