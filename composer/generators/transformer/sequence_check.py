"""An independent check of a generated sequence (not the decoder's own state machine).

Used by the tests and ``benchmarks/eval_generators.py`` to count invalid sequences: it reads the
tokens the way a reader of the format would, and lists every rule a sequence breaks.
"""

from __future__ import annotations

from collections.abc import Sequence

from composer.generators.transformer.tokens import Vocab


def problems(
    vocab: Vocab,
    ids: Sequence[int],
    chords: Sequence[Sequence[str]],
    per_bar: int,
    phrases: Sequence[str] | None = None,
) -> list[str]:
    """What is wrong with the generated part of a section's sequence (empty: valid).

    Rules: ``Bar_None`` + the bar's chord tokens (+ its ``Phrase_*`` token, with ``phrases``),
    then one or more notes ``Position Pitch Duration`` per bar; positions within the bar,
    increasing, at or after the previous note's end; notes end by the barline; exactly
    ``len(chords)`` bars, then ``EOS`` and only ``PAD``.
    """
    toks = [vocab.tokens[i] for i in ids]
    out: list[str] = []
    i, bar = 0, 0
    while i < len(toks) and toks[i] == "Bar_None":
        if bar >= len(chords):
            out.append(f"bar {bar + 1} of {len(chords)}")
            break
        i += 1
        for c in chords[bar]:
            if i >= len(toks) or toks[i] != f"Chord_{c}":
                out.append(f"bar {bar + 1}: expected Chord_{c}")
                return out
            i += 1
        if phrases is not None:
            if i >= len(toks) or toks[i] != f"Phrase_{phrases[bar]}":
                out.append(f"bar {bar + 1}: expected Phrase_{phrases[bar]}")
                return out
            i += 1
        cursor, notes = 0, 0
        while i + 2 < len(toks) and toks[i].startswith("Position_"):
            pos = int(toks[i].split("_")[1])
            if not toks[i + 1].startswith("Pitch_") or not toks[i + 2].startswith("Duration_"):
                out.append(f"bar {bar + 1}: a note is not Position Pitch Duration")
                return out
            dur = int(vocab.value[ids[i + 2]])
            if pos < cursor:
                out.append(f"bar {bar + 1}: position {pos} before the previous note's end")
            if pos + dur > per_bar:
                out.append(f"bar {bar + 1}: a note crosses the barline")
            cursor = pos + dur
            notes += 1
            i += 3
        if notes == 0:
            out.append(f"bar {bar + 1}: no note")
        bar += 1
    if bar != len(chords):
        out.append(f"{bar} bars, expected {len(chords)}")
    if i >= len(toks) or toks[i] != "EOS_None":
        out.append("no EOS after the last bar")
    elif any(t != "PAD_None" for t in toks[i + 1 :]):
        out.append("tokens after EOS")
    return out
