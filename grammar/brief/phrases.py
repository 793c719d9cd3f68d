"""Key and form phrases in free text: "Eb major", "in the key of G", "AABA form".

The prompt interpreter (:mod:`grammar.brief.interpret`) reads keys in five languages from its
lexicon; these two recognisers are the English phrases a table cannot hold (the article "a" that is
never a key unless the phrase can only mean A, "Am I ..." that is a verb). Every candidate is
validated with the real parsers, so a phrase they return always parses.
"""

from __future__ import annotations

import re

from grammar.errors import GrammarError
from grammar.forms import parse_form
from grammar.keys import parse_key

_ACC = r"(?:\s*-?\s*(?:sharp|flat)|[#♯b♭])?"
# "Eb major", "c# minor", "E flat minor", "F#m" (capital tonic only for the bare m).
_KEY_WITH_MODE_RE = re.compile(
    rf"(?<![\w#♯♭])(?P<tonic>[A-Ga-g]{_ACC})\s*-?\s*(?P<mode>major|minor|maj|min)(?![\w#♯♭])"
    rf"|(?<![\w#♯♭])(?P<mtonic>[A-G][#♯b♭]?)(?P<m>m)(?![\w#♯♭/+])"
)
# "in Eb", "key of G", "in E flat": capital tonic, no mode word -> major.
_KEY_BARE_RE = re.compile(
    rf"\b(?i:in|key\s+of)\s+(?P<tonic>[A-G]{_ACC})(?![\w#♯♭'′’])"
    r"(?!\s*-?\s*(?:sharp|flat|major|minor|maj|min)\b)"
)
_AFTER_IN_RE = re.compile(r"\b(?:in|key\s+of)\s+$", re.I)
_KEY_NOUN_RE = re.compile(r"\s*-?\s*key\b")
_SENTENCE_START_RE = re.compile(r"(?:^|[.!?]\s+)$")

_FORM_RE = re.compile(
    r"(?<![\w'′’])(?P<before>[A-Z](?:['′’]*[A-Z])+['′’]*)\s+(?:form|structure)\b"
    r"|\b(?:form|structure)\s*:?\s*(?P<after>[A-Z](?:['′’]*[A-Z])+['′’]*)(?![\w'′’])"
)


def _valid_key(tonic: str, mode: str) -> str | None:
    try:
        return str(parse_key(f"{tonic} {mode}"))
    except GrammarError:
        return None


def _article_trap(text: str, start: int, end: int, tonic: str) -> bool:
    """Whether a bare "a"/"A" tonic is more likely the article: "a minor key", "A major hit".

    Lower-case "a" counts as a key only right after "in" / "key of" and not followed by "key";
    capital "A" is doubted only at the start of a sentence when followed by "key".
    """
    if tonic not in ("a", "A"):
        return False
    before, followed_by_key = text[:start], _KEY_NOUN_RE.match(text, end) is not None
    if tonic == "a":
        return followed_by_key or _AFTER_IN_RE.search(before) is None
    return followed_by_key and _SENTENCE_START_RE.search(before) is not None


def find_keys(text: str) -> list[tuple[int, int, str]]:
    """Every key phrase that names a valid key: (start, end, key), sorted by start; a phrase
    with a mode word sorts before a bare "in G" at the same place."""
    found: list[tuple[int, int, int, str]] = []  # (start, 0 if a mode word, end, key)
    for match in _KEY_WITH_MODE_RE.finditer(text):
        tonic = match["tonic"] or match["mtonic"]
        mode = "minor" if match["m"] else match["mode"].lower()
        if match["m"]:  # "Am I ...": a sentence-initial "Am" is the verb
            if tonic == "A" and _SENTENCE_START_RE.search(text[: match.start()]):
                continue
        elif _article_trap(text, match.start(), match.end(), tonic):
            continue
        key = _valid_key(tonic, mode)
        if key is not None:
            found.append((match.start(), 0, match.end(), key))
    for match in _KEY_BARE_RE.finditer(text):
        key = _valid_key(match["tonic"], "major")
        if key is not None:
            found.append((match.start("tonic"), 1, match.end(), key))
    return [(start, end, key) for start, _, end, key in sorted(found)]


def find_forms(text: str) -> list[tuple[int, int, str]]:
    """Every form phrase ("AABA form", "form: ABAC") whose form parses: (start, end, form)."""
    found = []
    for match in _FORM_RE.finditer(text):
        form = match["before"] or match["after"]
        try:
            parse_form(form)
        except GrammarError:
            continue
        found.append((match.start(), match.end(), form))
    return found
