"""The keys pass: the key of every section.

Pinned keys (``sections.B.key``) always win, for every occurrence of that label. Otherwise a
contrasting section (a bridge, or a rondo's episodes) moves to a closely related key when the
style modulates: the subdominant first (the classic AABA bridge), then the relative, then the
dominant; everything else stays in the home key, so the song begins and ends at home.
"""

from __future__ import annotations

from grammar.keys import Key, parse_key
from grammar.spec import SongSpec
from planners.form import CONTRASTING_ROLES
from planners.plan import SongPlan
from planners.styles import get_style


def related_keys(home: Key) -> list[Key]:
    """Closely related keys in the order a contrasting section should try them."""
    if home.mode == "major":
        return [home.subdominant(), home.relative(), home.dominant()]
    return [home.relative(), home.subdominant(), home.dominant()]


def plan_keys(spec: SongSpec, song: SongPlan) -> SongPlan:
    home = song.key_obj()
    modulate = get_style(song.style).modulate_bridge
    related = related_keys(home)
    by_label: dict[str, str] = {}
    sections = []
    for sect in song.sections:
        pinned = spec.setting((sect.name, sect.label), "key")
        if pinned is not None:
            key = pinned[1]
        elif sect.label in by_label:
            key = by_label[sect.label]
        elif modulate and sect.role in CONTRASTING_ROLES:
            used = {k for k in by_label.values() if k != str(home)}
            key = str(related[len(used) % len(related)])
        else:
            key = str(home)
        by_label.setdefault(sect.label, key)
        sections.append(sect.model_copy(update={"key": str(parse_key(key))}))
    return song.model_copy(update={"sections": tuple(sections)})
