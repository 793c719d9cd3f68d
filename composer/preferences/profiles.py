"""Profiles: a listener's fitted personal models, kept in the data folder.

    $SONGC_HOME (default ~/.songc)/profiles/NAME/model-v0001.json, model-v0002.json, ...

Every ``compose learn`` writes the next version (created exclusively: an existing file is never
overwritten) and the newest is the profile. A name is 1-40 letters, digits, ``-`` or ``_``,
starting with a letter or digit, so it can never reach outside its folder. Problems are
:class:`grammar.errors.SpecError` naming ``profile``, one line each.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from composer.preferences.model import PersonalModel
from composer.studio.ratings import data_home
from grammar.errors import SpecError, shorten

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}")
_VERSION = re.compile(r"model-v(\d{4,})\.json")
FIELD = "profile"


def data_dir() -> Path:
    """The data folder: ``$SONGC_HOME`` or ``~/.songc`` (the ratings store's)."""
    return data_home()


def is_profile_name(value: str) -> bool:
    """True if ``value`` is a profile name (not a path or a file name with a suffix)."""
    return NAME.fullmatch(value) is not None


def check_name(name: str) -> str:
    if not is_profile_name(name):
        raise SpecError(
            FIELD,
            f"'{shorten(name, 60)}' is not a profile name (1-40 letters, digits, - or _, "
            "starting with a letter or digit)",
        )
    return name


def profile_dir(name: str) -> Path:
    return data_dir() / "profiles" / check_name(name)


def versions(name: str) -> list[Path]:
    """The profile's model files, oldest first (empty if it has none)."""
    folder = profile_dir(name)
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _VERSION.fullmatch(p.name))]
    return [p for _, p in sorted(found)]


def profiles() -> list[str]:
    """Names of the profiles that have a model."""
    root = data_dir() / "profiles"
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if is_profile_name(p.name) and versions(p.name))


def save_profile(name: str, model: PersonalModel) -> Path:
    """Write ``model`` as the profile's next version; returns its path. Never overwrites."""
    folder = profile_dir(name)
    folder.mkdir(parents=True, exist_ok=True)
    have = versions(name)
    k = int(_VERSION.fullmatch(have[-1].name).group(1)) + 1 if have else 1  # type: ignore[union-attr]
    tmp = folder / f".model-{os.getpid()}.tmp"
    tmp.write_bytes(model.to_json().encode())  # whole, then linked in: never half a model
    try:
        while True:
            path = folder / f"model-v{k:04d}.json"
            try:
                os.link(tmp, path)  # fails if the name exists: nothing is overwritten
            except FileExistsError:  # another learn run took this number: take the next
                k += 1
                continue
            return path
    finally:
        tmp.unlink(missing_ok=True)


def load_profile(name: str) -> PersonalModel:
    """The newest model of a profile; SpecError if there is none or it cannot be read."""
    have = versions(name)
    if not have:
        known = profiles()
        hint = f"; profiles: {', '.join(known)}" if known else "; run compose learn --profile NAME"
        raise SpecError(FIELD, f"no profile '{name}' in {data_dir() / 'profiles'}{hint}")
    try:
        return PersonalModel.from_json(have[-1].read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise SpecError(FIELD, f"'{name}' ({have[-1].name}) cannot be read: {exc}") from None
