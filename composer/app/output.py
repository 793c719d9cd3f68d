"""Writing results safely: nothing half-written, nothing overwritten without ``--force``.

Each file is written to a temporary sibling and moved into place with ``os.replace`` only after
every file has been written, so an error (full disk, no permission) leaves what was there before.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from grammar.errors import OutputError, shorten

MIDI_SUFFIXES = (".mid", ".midi")


def report_path(midi_path: Path) -> Path:
    return midi_path.with_suffix(".json")


def _name_problem(p: Path) -> str | None:
    """A target whose name the file system cannot hold (over NAME_MAX bytes)."""
    try:
        limit = os.pathconf(p.parent if str(p.parent) else ".", "PC_NAME_MAX")
    except (OSError, ValueError):
        limit = 255
    if len(os.fsencode(p.name)) > limit:
        return f"file name '{shorten(p.name)}' is {len(os.fsencode(p.name))} bytes, at most {limit}"
    return None


def check_targets(
    paths: list[Path], force: bool, field: str = "--output", inputs: Sequence[Path] = ()
) -> None:
    """Fail early (before any work) if a target exists without --force, has no folder, cannot
    be named, or is one of the run's ``inputs`` (never overwritten, even with --force)."""
    for p in paths:
        problem = _name_problem(p)
        if problem is not None:
            raise OutputError(field, problem)
        shown = shorten(p, 120)
        try:
            exists, is_dir = p.exists(), p.is_dir()
            parent_ok = p.parent.is_dir()
        except OSError as exc:
            raise OutputError(field, f"'{shown}': {exc.strerror or exc}") from None
        for source in inputs:
            if exists and _same_file(p, source):
                raise OutputError(field, f"'{shown}' is an input of this run; write elsewhere")
        if is_dir:
            raise OutputError(field, f"'{shown}' is a folder")
        if exists and not force:
            raise OutputError(field, f"'{shown}' exists (pass --force to overwrite it)")
        if not parent_ok:
            raise OutputError(field, f"folder '{shorten(p.parent, 120)}' does not exist")
        if not os.access(p.parent, os.W_OK):
            raise OutputError(field, f"folder '{shorten(p.parent, 120)}' is not writable")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


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


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM while the files are moved into place, so an interrupt lands after
    all of them (or before any): the MIDI and its report change together. A handler that only
    records the signal, not a signal mask: with torch's or numba's threads running, a masked
    signal would be delivered to one of them and interrupt us anyway."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can be set, and Python handlers run, only in the main thread
        return
    got: list[int] = []
    held = (signal.SIGINT, signal.SIGTERM)
    old = {sig: signal.signal(sig, lambda signum, _frame: got.append(signum)) for sig in held}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
        for signum in dict.fromkeys(got):
            signal.raise_signal(
                signum
            )  # now, with the user's handler back (Ctrl-C: KeyboardInterrupt)


def write_files(
    files: Mapping[Path, bytes], force: bool, field: str = "--output", inputs: Sequence[Path] = ()
) -> None:
    """Write every file or none of them; on any failure or interrupt, nothing is left behind
    (no ``.part`` file, no new file beside an old one)."""
    check_targets(list(files), force, field, inputs)
    staged: list[tuple[str, Path]] = []
    backups: list[tuple[str, Path]] = []  # hard links to the files being replaced
    moved: list[Path] = []  # files that did not exist before (removed on undo)
    try:
        for path, data in files.items():
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
            staged.append((tmp, path))
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.chmod(tmp, _mode_for(path))
        with _signals_deferred():
            try:
                for tmp, path in staged:
                    if path.exists():
                        with contextlib.suppress(OSError):  # no hard links here: no undo
                            os.link(path, tmp + ".old")
                            backups.append((tmp + ".old", path))
                for tmp, path in staged:
                    if not path.exists():
                        moved.append(path)
                    os.replace(tmp, path)
            except BaseException:
                _roll_back(moved, backups)
                raise
    except BaseException as exc:
        for tmp, _ in staged:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        if isinstance(exc, OSError):
            raise OutputError(field, f"cannot write: {exc.strerror or exc}") from None
        raise
    finally:
        for bak, _ in backups:
            with contextlib.suppress(OSError):
                os.unlink(bak)


def _roll_back(moved: list[Path], backups: list[tuple[str, Path]]) -> None:
    """Undo a half-done move: new files removed, replaced files restored from their links."""
    for path in moved:
        with contextlib.suppress(OSError):
            os.unlink(path)
    for bak, path in backups:
        with contextlib.suppress(OSError):
            os.replace(bak, path)
