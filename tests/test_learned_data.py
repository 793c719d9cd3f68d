"""The learned generator's data and tokens: the split rule, corpus extraction, windows, the
vocabulary (miditok REMI + conditioning), encoding round trips and the sequence validator."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from composer.generators.transformer import tokens
from composer.generators.transformer.model import CHECKPOINT
from composer.generators.transformer.sequence_check import problems
from composer.generators.transformer.tokens import Section, Vocab
from composer.training import melody_data as data
from composer.training.melody_windows import sections, transposition
from grammar.errors import SpecError

FIXTURES = Path(__file__).resolve().parent / "data" / "learned"


@pytest.fixture(scope="module")
def vocab() -> Vocab:
    return Vocab()


def test_split_rule_is_the_shared_one() -> None:
    from composer.eval.metrics import corpus_split

    paths = ["bach/bwv66.6.mxl", "essenFolksong/han1.abc#12", "tune18.abc", "tune14.abc"]
    for p in paths:
        h = hashlib.sha1(p.encode()).digest()[0] % 20
        want = "test" if h == 0 else "valid" if h == 1 else "train"
        assert data.split_of(p) == want == corpus_split(p)
    assert data.split_of("tune18.abc") == "valid"  # by hand: sha1 first byte % 20 == 1
    assert data.split_of("tune14.abc") == "test"


def test_chord_tokens() -> None:
    assert tokens.chord_token(7, "7", 0) == "77"  # G7 in C: dominant seventh on the fifth degree
    assert tokens.chord_token(9, "min", 2) == "7m"  # Am in D: minor on the fifth degree
    assert tokens.chord_token(0, "nonsense", 0) == tokens.NO_CHORD
    assert tokens.chord_pcs("7M") == frozenset({7, 11, 2})
    assert tokens.chord_pcs("2o") == frozenset({2, 5, 8})
    assert tokens.chord_pcs("N") == frozenset()


def test_folk_tune_and_chorale_from_files() -> None:
    tune = data.parse_file("folk", "tune0.abc", str(FIXTURES))
    assert len(tune) == 1
    ex = data.Example.from_json(tune[0])
    assert ex.path == "tune0.abc" and ex.meter == "3/4"
    assert len(ex.chords) == len(ex.bars) and all(len(c) == 3 for c in ex.chords)
    for bar in ex.bars:
        for on, dur, _ in bar:
            assert on >= 0 and on + dur <= 3.0 + 1e-6  # notes end by the barline
    chorale = data.parse_file("chorale", "bwv66.6.mxl", str(FIXTURES))
    ex = data.Example.from_json(chorale[0])
    assert (ex.corpus, ex.meter, ex.mode) == ("chorale", "4/4", "minor")
    assert ex.tonic == 6  # F# minor
    assert ex.chords[1][0] != tokens.NO_CHORD  # the first full bar's downbeat is labelled
    assert data.Example.from_json(ex.to_json()) == ex


def test_user_folder_errors(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="no such folder"):
        data.user_files(FIXTURES / "missing")
    with pytest.raises(SpecError, match="no MIDI"):
        data.user_files(tmp_path)
    files = data.user_files(FIXTURES)
    assert ("folk", "tune18.abc") in files and ("folk", "bwv66.6.mxl") in files


def _example() -> data.Example:
    return data.Example.from_json(data.parse_file("folk", "tune1.abc", str(FIXTURES))[0])


def test_windows_cover_the_piece_key_relative() -> None:
    ex = _example()
    secs = list(sections(ex))
    assert secs and secs[0].role == "open"
    assert sum(s.bars for s in secs) <= len(ex.bars)
    shift = transposition(ex)
    assert (ex.tonic + shift) % 12 == 0  # the tonic becomes C
    for s in secs:
        assert len(s.chords) == s.bars
        onsets = [o for o, _, _ in s.notes]
        assert onsets == sorted(set(onsets))  # one line
        ends = [o + d for o, d, _ in s.notes]
        assert all(e <= n for e, n in zip(ends, onsets[1:], strict=False))  # no overlaps


def test_encode_decode_round_trip(vocab: Vocab) -> None:
    for s in sections(_example()):
        ids = vocab.encode(s)
        n = len(vocab.prefix(s))
        assert vocab.decode_notes(ids[n:], s.meter) == list(s.notes)
        assert problems(vocab, ids[n:], s.chords, 12 if s.meter == "3/4" else 16) == []


def test_vocab_is_remi_plus_conditioning(vocab: Vocab) -> None:
    from miditok import REMI

    assert isinstance(vocab.remi, REMI)
    for tok in ("Bar_None", "Position_0", "Pitch_60", "Duration_1.0.4", "Chord_7M", "Meter_6/8",
                "Mode_minor", "Role_close", "Material_vary", "SrcStart"):  # fmt: skip
        assert tok in vocab.ids
    assert vocab.value[vocab["Duration_1.2.4"]] == 6  # a dotted quarter in 16ths
    # the shipped checkpoint was trained with exactly these ids
    vocab.check(CHECKPOINT)


def test_validator_finds_each_broken_rule(vocab: Vocab) -> None:
    chords = (("0M", "0M", "5M", "7M"), ("0M", "0M", "0M", "0M"))
    s = Section("major", "4/4", "inner", 2, chords, ((0, 4, 64), (4, 4, 67), (16, 8, 72)))
    ids = vocab.encode(s)[len(vocab.prefix(s)) :]
    assert problems(vocab, ids, chords, 16) == []
    t = vocab.tokens
    broken = {
        "expected Chord_5M": [i for k, i in enumerate(ids) if k != 3],
        "no EOS": ids[:-1],
        "1 bars, expected 2": [*ids[: ids.index(vocab["Bar_None"], 1)], vocab["EOS_None"]],
        "before the previous": [vocab["Position_2"] if t[i] == "Position_4" else i for i in ids],
        "crosses the barline": [
            vocab["Duration_6.0.4"] if t[i] == "Duration_2.0.4" else i for i in ids
        ],
        "tokens after EOS": [*ids, vocab["Pitch_60"]],
    }
    for want, seq in broken.items():
        assert any(want in p for p in problems(vocab, seq, chords, 16)), want
