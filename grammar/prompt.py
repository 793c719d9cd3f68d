"""Hints from free text: "a wistful jazz ballad in Eb major, 72 bpm, AABA form".

The prompt is advisory: whatever it says is only a default for fields the spec leaves unset, so
this reader is conservative. It would rather miss a hint than invent one (the article "a" is
never a key unless the phrase can only mean A), and it validates every candidate with the real
parsers, so a hint it returns always parses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from grammar.errors import GrammarError
from grammar.forms import parse_form
from grammar.keys import parse_key
from grammar.meter import parse_time_signature

# style -> trigger words (whole words, lower case; a space matches any whitespace).
STYLE_WORDS: dict[str, tuple[str, ...]] = {
    "classical": (
        "classical",
        "chorale",
        "bach",
        "hymn",
        "baroque",
        "choral",
        "string quartet",
        "sonata",
        "minuet",
    ),
    "folk": ("folk", "celtic", "irish", "scottish", "reel", "jig", "shanty", "hornpipe"),
    "pop": ("pop", "rock", "indie", "synth", "synthpop", "dance", "anthem"),
    "jazz": ("jazz", "jazzy", "swing", "bebop", "bossa", "bossa nova", "standard", "lounge"),
    "blues": ("blues", "bluesy", "shuffle"),
    "waltz": ("waltz",),
    "march": ("march", "marching", "military"),
}
# When several styles are named, the first of these wins ("jazz waltz" is jazz in 3/4).
STYLE_PRIORITY: tuple[str, ...] = ("blues", "jazz", "waltz", "march", "folk", "classical", "pop")
# Styles that imply a meter when the prompt writes none.
STYLE_METERS: dict[str, str] = {"waltz": "3/4", "march": "2/4"}

TEMPO_WORDS: dict[str, str] = {
    "slow": "slow",
    "ballad": "slow",
    "gentle": "slow",
    "lullaby": "slow",
    "calm": "slow",
    "upbeat": "fast",
    "fast": "fast",
    "lively": "fast",
    "energetic": "fast",
    "driving": "fast",
    "brisk": "fast",
    "moderate": "moderate",
    "medium": "moderate",
    "walking": "moderate",
}

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

# Tempo phrases; the first in the text wins.
_TEMPO_RES: tuple[re.Pattern[str], ...] = (
    re.compile(r"\b(\d+)\s*bpm\b", re.I),
    re.compile(r"\bbpm\s*[:=]?\s*(\d+)\b", re.I),
    re.compile(r"\btempo\s*(?:of\s*|[:=]\s*)?(\d+)\b", re.I),
    re.compile(r"(?:♩|\bq|\bquarter(?:\s*note)?)\s*=\s*(\d+)\b", re.I),
    re.compile(r"\bat\s+(\d+)\b(?!\s*(?:/|%|bars?\b|measures?\b|min|sec|hours?\b|years?\b))", re.I),
)
_METER_RE = re.compile(r"(?<![\d/])(\d{1,2})\s*/\s*(\d{1,2})(?![\d/])")
_FORM_RE = re.compile(
    r"(?<![\w'′’])(?P<before>[A-Z](?:['′’]*[A-Z])+['′’]*)\s+(?:form|structure)\b"
    r"|\b(?:form|structure)\s*:?\s*(?P<after>[A-Z](?:['′’]*[A-Z])+['′’]*)(?![\w'′’])"
)


@dataclass(frozen=True)
class PromptHints:
    """What a prompt says about the song; None for anything it does not say."""

    key: str | None
    tempo: int | None
    time_signature: str | None
    form: str | None
    style: str | None
    tempo_word: str | None


def _words_re(words: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(r"\s+".join(map(re.escape, w.split())) for w in words)
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])", re.I)


_STYLE_RES: dict[str, re.Pattern[str]] = {s: _words_re(w) for s, w in STYLE_WORDS.items()}
_TEMPO_WORD_RE = _words_re(tuple(TEMPO_WORDS))


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


def _find_key(text: str) -> str | None:
    """The earliest key phrase in the text that names a valid key."""
    keys = find_keys(text)
    return keys[0][2] if keys else None


def _find_tempo(text: str) -> int | None:
    hits = [m for pattern in _TEMPO_RES if (m := pattern.search(text))]
    return int(min(hits, key=lambda m: m.start())[1]) if hits else None


def _find_meter(text: str) -> str | None:
    for match in _METER_RE.finditer(text):
        try:
            return str(parse_time_signature(f"{match[1]}/{match[2]}"))
        except GrammarError:
            continue
    return next((m for s, m in STYLE_METERS.items() if _STYLE_RES[s].search(text)), None)


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


def _find_form(text: str) -> str | None:
    forms = find_forms(text)
    return forms[0][2] if forms else None


def _find_style(text: str) -> str | None:
    return next((s for s in STYLE_PRIORITY if _STYLE_RES[s].search(text)), None)


def _find_tempo_word(text: str) -> str | None:
    match = _TEMPO_WORD_RE.search(text)
    return TEMPO_WORDS[match[0].lower()] if match else None


def parse_prompt(text: str) -> PromptHints:
    """Read key, tempo, meter, form, style and tempo word from free text; None where unsaid."""
    return PromptHints(
        key=_find_key(text),
        tempo=_find_tempo(text),
        time_signature=_find_meter(text),
        form=_find_form(text),
        style=_find_style(text),
        tempo_word=_find_tempo_word(text),
    )
