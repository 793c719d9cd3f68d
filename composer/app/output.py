"""Writing results safely: nothing half-written, nothing overwritten without ``--force``.

Each file is written to a temporary sibling and moved into place with ``os.replace`` only after
every file has been written, so an error (full disk, no permission) leaves what was there before.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from grammar.errors import OutputError

MIDI_SUFFIXES = (".mid", ".midi")


def report_path(midi_path: Path) -> Path:
    return midi_path.with_suffix(".json")


def check_targets(paths: list[Path], force: bool, field: str = "--output") -> None:
    """Fail early (before any work) if a target exists without --force or has no folder."""
    for p in paths:
        if p.exists() and p.is_dir():
            raise OutputError(field, f"'{p}' is a folder")
        if p.exists() and not force:
            raise OutputError(field, f"'{p}' exists (pass --force to overwrite it)")
        if not p.parent.is_dir():
            raise OutputError(field, f"folder '{p.parent}' does not exist")


def check_midi_path(p: Path) -> None:
    if p.suffix.lower() not in MIDI_SUFFIXES:
        raise OutputError("--output", f"'{p}' must end in .mid or .midi")


def _mode_for(path: Path) -> int:
    """An existing file keeps its permissions; a new one gets what the umask gives (mkstemp's
    temporary files are private, 0600, which is not what a user expects of a song)."""
    if path.exists():
        return path.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_files(files: Mapping[Path, bytes], force: bool, field: str = "--output") -> None:
    """Write every file or none of them."""
    check_targets(list(files), force, field)
    staged: list[tuple[str, Path]] = []
    try:
        for path, data in files.items():
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
            staged.append((tmp, path))
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.chmod(tmp, _mode_for(path))
        for tmp, path in staged:
            os.replace(tmp, path)
    except OSError as exc:
        for tmp, _ in staged:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise OutputError(field, f"cannot write: {exc.strerror or exc}") from None
