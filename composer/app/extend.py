"""``compose continue my.mid --bars 32``: a user's fragment extended into a song.

The fragment becomes the first section (A, or the first label of ``--form``), kept note for
note (:mod:`composer.material_in`); the song takes its key, meter and tempo, and the rest of
the form is planned and composed around it: its repeats are the fragment, its variations are
made from it, and the other sections contrast with it.

Without ``--form`` the form is chosen for the length: ``bars`` must be a whole number of
fragments, and each section is as long as the fragment (:data:`FORMS`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from composer.app.api import Song, build_spec, compose, plan
from composer.compilation import Progress
from composer.material_in import read_material
from grammar.errors import GrammarError, SpecError, shorten
from grammar.forms import parse_form
from grammar.spec import SongSpec, validate_spec

# Sections (each as long as the fragment) -> the form: the fragment (A) opens, returns, and
# closes; contrasting sections (B, C) in between; A' a varied return.
FORMS = {
    1: "A",
    2: "A A'",
    3: "A B A",
    4: "A A B A",
    5: "A B A C A",
    6: "A A B A C A",
    7: "A A B A C A A'",
    8: "A A B A A B A A'",
}
MAX_SECTIONS = 16


def form_for(sections: int) -> str:
    """A form of ``sections`` sections that opens and closes with the fragment."""
    if sections in FORMS:
        return FORMS[sections]
    rest = sections - 8
    return FORMS[8] + " " + " ".join(["C", "A"] * (rest // 2) + ["A"] * (rest % 2))


def continue_spec(
    fragment: str | Path,
    *,
    bars: int | None = None,
    form: str | None = None,
    track: int = 1,
    overrides: dict[str, Any] | None = None,
) -> SongSpec:
    """The spec of a song grown from ``fragment`` (a MIDI or MusicXML file); SpecError naming
    the option for a bad length, form or file."""
    path = Path(fragment)
    kind = "musicxml" if path.suffix.lower() in (".musicxml", ".xml", ".mxl") else "midi"
    m = read_material("fragment", path, track, kind)
    meter = (overrides or {}).get("time_signature") or m.time_signature or "4/4"
    n = m.bars(meter)
    sections: dict[str, Any] = {}
    if form is None:
        total = 32 if bars is None else bars
        if total < n or total % n:
            raise SpecError(
                "--bars",
                f"{total} is not a whole number of the fragment's {n} bars "
                f"('{shorten(path, 60)}' in {meter})",
            )
        if total // n > MAX_SECTIONS:
            raise SpecError("--bars", f"{total} bars is over {MAX_SECTIONS} fragments of {n}")
        form = form_for(total // n)
        sections = {it.label: {"bars": n} for it in parse_form(form)}
    else:
        try:
            parse_form(form)
        except GrammarError as exc:
            raise SpecError("--form", str(exc)) from None
    first = parse_form(form)[0].label
    sections[first] = {kind: str(path), "track": track}  # its length is the fragment's
    spec = build_spec(None, {**(overrides or {}), "form": form})
    return validate_spec({**spec.model_dump(exclude_none=True), "sections": sections})


def continue_song(
    fragment: str | Path,
    *,
    bars: int | None = None,
    form: str | None = None,
    track: int = 1,
    overrides: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> Song:
    """The song grown from ``fragment`` (see :func:`continue_spec`). With both ``form`` and
    ``bars``, the form's planned length must be ``bars`` (SpecError naming --bars)."""
    spec = continue_spec(fragment, bars=bars, form=form, track=track, overrides=overrides)
    if form is not None and bars is not None:
        total = plan(spec).plan.total_bars
        if total != bars:
            raise SpecError("--bars", f"{bars}, but the form '{shorten(form)}' plans {total} bars")
    return compose(spec, progress=progress)
