"""Song forms: letters, names, primes, repeat groups and errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grammar.errors import GrammarError
from grammar.forms import ROLES, SECTION_NAMES, FormItem, parse_form


def names(text: str) -> list[str]:
    return [item.name for item in parse_form(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("AABA", ["A", "A", "B", "A"]),
        ("A A' B A", ["A", "A'", "B", "A"]),
        ("AA'BA", ["A", "A'", "B", "A"]),
        ("ABACA", ["A", "B", "A", "C", "A"]),
        ("A'", ["A'"]),
        ("A''B", ["A''", "B"]),
        ("A′ A’", ["A'", "A'"]),
        ("A, A, B, A", ["A", "A", "B", "A"]),
        ("aaba", ["A", "A", "B", "A"]),
        (
            "[verse chorus]x2 bridge chorus",
            ["verse", "chorus", "verse", "chorus", "bridge", "chorus"],
        ),
        (
            "[verse chorus] x2 bridge chorus",
            ["verse", "chorus", "verse", "chorus", "bridge", "chorus"],
        ),
        ("(A B)×3", ["A", "B"] * 3),
        ("[A B]*2", ["A", "B"] * 2),
        ("intro A A B A outro", ["intro", "A", "A", "B", "A", "outro"]),
        ("Intro VERSE Chorus", ["intro", "verse", "chorus"]),
        ("chorus' chorus''", ["chorus'", "chorus''"]),
        ("pre-chorus pre prechorus", ["prechorus"] * 3),
        ("[[A B]x2 C]x2", ["A", "B", "A", "B", "C"] * 2),
        ("[A]", ["A"]),
        ("[A B]x1", ["A", "B"]),
        ("AB x2", ["A", "B", "A", "B"]),
        ("chorus x3", ["chorus"] * 3),
        ("AABAx2", ["A", "A", "B", "A"] * 2),
    ],
)
def test_parse_form(text: str, expected: list[str]) -> None:
    assert names(text) == expected


def test_items_and_roles() -> None:
    items = parse_form("intro A A' chorus'")
    assert items == [
        FormItem("intro", 0),
        FormItem("A", 0),
        FormItem("A", 1),
        FormItem("chorus", 1),
    ]
    assert [i.role for i in items] == ["intro", None, None, "chorus"]
    assert items[2].label == "A" and items[2].primes == 1 and items[2].name == "A'"


def test_section_names_table() -> None:
    for role in (
        "intro",
        "verse",
        "prechorus",
        "chorus",
        "refrain",
        "bridge",
        "solo",
        "interlude",
        "break",
        "instrumental",
        "outro",
        "coda",
        "tag",
    ):
        assert SECTION_NAMES[role] == role
        assert parse_form(role)[0].role == role
    assert SECTION_NAMES["pre-chorus"] == SECTION_NAMES["pre"] == "prechorus"
    assert set(SECTION_NAMES.values()) == set(ROLES)
    assert all(name == name.lower() for name in SECTION_NAMES)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "form is empty"),
        ("  ,, ", "form is empty"),
        ("vrese", r"unknown section name 'vrese' \(.*use letters A-Z or one of: intro, verse,"),
        ("intro chrous", "unknown section name 'chrous'"),
        ("Verse1", "unexpected '1'"),
        ("[A B", "unbalanced brackets"),
        ("A B]", "unbalanced brackets"),
        ("[A B)", "unbalanced brackets"),
        ("((A)", "unbalanced brackets"),
        ("[A]x0", "repeat count must be 1..16, got 0"),
        ("[A]x17", "repeat count must be 1..16, got 17"),
        ("x2", "must follow a section or a group"),
        ("[x2]", "must follow a section or a group"),
        ("[A B C D E F G H]x10", "form has 80 sections, at most 64"),
        ("[[[[A]x16]x16]x16]x16", "form has 65536 sections, at most 64"),
        ("A-B", "unknown section name"),
        ("[]", "empty group"),
    ],
)
def test_form_errors(text: str, message: str) -> None:
    with pytest.raises(GrammarError, match=message):
        parse_form(text)


def test_sixty_four_sections_is_the_limit() -> None:
    assert len(parse_form("[A B C D E F G H]x8")) == 64


LABELS = st.sampled_from([chr(c) for c in range(ord("A"), ord("Z") + 1)] + list(ROLES))
ITEMS = st.builds(FormItem, LABELS, st.integers(0, 3))


@given(st.lists(ITEMS, min_size=1, max_size=64))
def test_rendered_form_parses_to_itself(items: list[FormItem]) -> None:
    assert parse_form(" ".join(item.name for item in items)) == items


@given(st.lists(ITEMS, min_size=1, max_size=8), st.integers(1, 8))
def test_repeat_group_equals_repetition(items: list[FormItem], count: int) -> None:
    body = " ".join(item.name for item in items)
    assert parse_form(f"[{body}]x{count}") == items * count
