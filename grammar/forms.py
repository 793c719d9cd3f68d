"""Song forms: "AABA", "A A' B A", "[verse chorus]x2 bridge chorus", "intro A A B A outro".

A form is a sequence of :class:`FormItem`; two items with the same label share material and
primes mark a variation of it. Parsing is two steps: tokens -> a tree of repeat groups, whose
size is checked *before* expansion (so a deeply nested "x16" cannot blow up), then the flat list.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from grammar.errors import GrammarError, shorten

# Accepted section name (lower case) -> canonical role name.
SECTION_NAMES: dict[str, str] = {
    "intro": "intro",
    "introduction": "intro",
    "verse": "verse",
    "prechorus": "prechorus",
    "pre-chorus": "prechorus",
    "pre": "prechorus",
    "chorus": "chorus",
    "refrain": "refrain",
    "bridge": "bridge",
    "middle-eight": "bridge",
    "solo": "solo",
    "interlude": "interlude",
    "break": "break",
    "breakdown": "break",
    "instrumental": "instrumental",
    "outro": "outro",
    "coda": "coda",
    "tag": "tag",
}
ROLES: tuple[str, ...] = tuple(dict.fromkeys(SECTION_NAMES.values()))
PRIMES = "'′’"
# A lower-case run is read as form letters only if it uses these (so "aaba" is a form but the
# misspelt "vrese" is reported as an unknown name, not read as five sections).
LOWERCASE_FORM_LETTERS = frozenset("abcdefgh")
OPENERS: dict[str, str] = {"[": "]", "(": ")"}
MAX_REPEAT = 16
MAX_SECTIONS = 64
MAX_NESTING = 8  # groups inside groups; the expansion recurses once per level

_TOKEN_RE = re.compile(
    r"(?P<space>[\s,]+)"
    r"|(?P<open>[\[(])"
    r"|(?P<close>[\])])"
    r"|(?P<repeat>[x×*]\s*\d+)"
    rf"|(?P<word>(?:(?![x×*]\s*\d)[A-Za-z\-{PRIMES}])+)"
)
_LETTER_RE = re.compile(rf"([A-Za-z])([{PRIMES}]*)")


@dataclass(frozen=True)
class FormItem:
    """One section of the form: a label (letter or canonical name) and its variation count."""

    label: str
    primes: int = 0

    @property
    def name(self) -> str:
        """The label with its primes: "A''", "chorus'"."""
        return self.label + "'" * self.primes

    @property
    def role(self) -> str | None:
        """Canonical role for a named label; None for letters."""
        return SECTION_NAMES.get(self.label.lower())


# A parsed group: items and nested (group, count) repeats, in order.
Node = FormItem | tuple["list[Node]", int]


def _count_primes(text: str) -> int:
    return sum(text.count(p) for p in PRIMES)


def _unknown(word: str) -> GrammarError:
    close = difflib.get_close_matches(word.lower(), list(SECTION_NAMES), n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return GrammarError(
        f"unknown section name '{shorten(word)}' "
        f"({hint}use letters A-Z or one of: {', '.join(ROLES)})"
    )


def _word_items(word: str) -> list[FormItem]:
    """A section name (with primes) or a run of letters, each with its own primes."""
    base = word.rstrip(PRIMES)
    role = SECTION_NAMES.get(base.lower())
    if role is not None:
        return [FormItem(role, _count_primes(word[len(base) :]))]
    letters = "".join(ch for ch in word if ch not in PRIMES)
    is_form = letters.isupper() or (letters.islower() and set(letters) <= LOWERCASE_FORM_LETTERS)
    if not is_form or "-" in word or _LETTER_RE.sub("", word):
        raise _unknown(base)
    return [FormItem(m[1].upper(), _count_primes(m[2])) for m in _LETTER_RE.finditer(word)]


def _repeat_count(token: str) -> int:
    digits = token.lstrip("x×*").strip()
    if len(digits) > 4:  # int() of thousands of digits is slow, then a ValueError
        raise GrammarError(f"repeat count must be 1..{MAX_REPEAT}, got {shorten(digits, 12)}")
    count = int(digits)
    if not 1 <= count <= MAX_REPEAT:
        raise GrammarError(f"repeat count must be 1..{MAX_REPEAT}, got {count}")
    return count


def _parse_tree(text: str) -> list[Node]:
    """Tokens -> nested groups. A repeat applies to the group or word just before it."""
    stack: list[tuple[str, list[Node]]] = [("", [])]
    last_len = 0  # how many nodes the previous word or group added to the current level
    pos = 0
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if match is None:
            raise GrammarError(f"unexpected '{text[pos]}' in form at position {pos + 1}")
        pos = match.end()
        kind, token = match.lastgroup, match[0]
        level = stack[-1][1]
        if kind == "open":
            if len(stack) > MAX_NESTING:
                raise GrammarError(f"form nests groups more than {MAX_NESTING} deep")
            stack.append((token, []))
            last_len = 0
        elif kind == "close":
            opener, group = stack.pop() if len(stack) > 1 else ("", [])
            if OPENERS.get(opener) != token:
                raise GrammarError(f"unbalanced brackets in form: unexpected '{token}'")
            if not group:
                raise GrammarError("empty group in form")
            stack[-1][1].append((group, 1))
            last_len = 1
        elif kind == "repeat":
            if not last_len:
                raise GrammarError(f"repeat '{token}' must follow a section or a group")
            repeated = level[-last_len:]
            del level[-last_len:]
            level.append((repeated, _repeat_count(token)))
            last_len = 1
        elif kind == "word":
            items = _word_items(token)
            level.extend(items)
            last_len = len(items)
    if len(stack) > 1:
        raise GrammarError(f"unbalanced brackets in form: '{stack[-1][0]}' is never closed")
    return stack[0][1]


def _size(nodes: list[Node]) -> int:
    return sum(1 if isinstance(n, FormItem) else n[1] * _size(n[0]) for n in nodes)


def _expand(nodes: list[Node]) -> list[FormItem]:
    out: list[FormItem] = []
    for node in nodes:
        if isinstance(node, FormItem):
            out.append(node)
        else:
            out.extend(_expand(node[0]) * node[1])
    return out


def parse_form(text: str) -> list[FormItem]:
    """Parse a form string into its sections, repeats expanded (at most 64 sections)."""
    if not text.strip():
        raise GrammarError("form is empty")
    tree = _parse_tree(text.strip())
    size = _size(tree)
    if size == 0:
        raise GrammarError("form is empty")
    if size > MAX_SECTIONS:
        raise GrammarError(f"form has {size} sections, at most {MAX_SECTIONS}")
    return _expand(tree)
