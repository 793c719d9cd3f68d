"""The compose-time sampling path: no transformers import, the threads asked for, the fused
step built directly equal to the fused processors, no deprecation warning on the HF path."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from composer.generators.transformer import processors as P
from composer.generators.transformer.generator import load

ROOT = Path(__file__).resolve().parent.parent
CHORDS = (("0m", "0m", "0m"), ("77", "77", "77"), ("5m", "5m", "77"), ("0m", "0m", "0m"))

# A fresh process: numba's thread pool must not have started yet (the bug was its start).
_SAMPLE = """
import sys
import torch
from composer.generators.transformer import generator as T
from composer.generators.transformer import decoder
from composer.generators.transformer.tokens import Section
from grammar.keys import parse_key

seen = []
step = decoder.FastDecoder.step
def spy(self, *a, **k):
    seen.append(torch.get_num_threads())
    return step(self, *a, **k)
decoder.FastDecoder.step = spy
torch.set_num_threads(2)
sec = Section("minor", "3/4", "inner", 4, {chords!r})
T.TransformerGenerator().melodies(sec, parse_key("C minor"), (62, 79), (0,), 4, 3)
print(sorted(set(seen)), torch.get_num_threads(), "transformers" in sys.modules)
"""


def _run(code: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=600
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


@pytest.mark.slow
@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: torch cannot be given more")
def test_sampling_runs_on_the_threads_asked_and_without_transformers() -> None:
    """The generator pins torch to SAMPLING_THREADS (1); numba's pool starting in the first
    sampling call used to reset torch to every core for that call. Afterwards the caller's
    count (2) is back. And composing never imports transformers."""
    from composer.generators.transformer.generator import SAMPLING_THREADS

    line = _run(_SAMPLE.format(chords=CHORDS))
    assert line == f"[{SAMPLING_THREADS}] 2 False"


def test_section_fused_is_the_fused_processors() -> None:
    _, vocab = load()
    floor = np.full(48, -1)
    floor[12:24] = 70
    kw = dict(
        pitch_range=(60, 79), scale=frozenset({0, 2, 3, 5, 7, 8, 10}), max_leap=9,
        temperature=0.8, top_p=0.9, floor=floor, strong=frozenset({0, 6}), chord_bias=1.5,
    )  # fmt: skip
    a = P.fuse(P.section_processors(vocab, 3, 12, CHORDS, 4, **kw))  # type: ignore[arg-type]
    b = P.section_fused(vocab, 3, 12, CHORDS, 4, **kw)  # type: ignore[arg-type]
    assert a is not None
    assert (a.temperature, a.top_p) == (b.temperature, b.top_p)
    for x, y in zip(a.rules, b.rules, strict=True):
        np.testing.assert_array_equal(x, y)
    for x, y in zip(a.grammar.tables, b.grammar.tables, strict=True):
        np.testing.assert_array_equal(x, y)


def test_the_forward_path_gives_no_deprecation_warning() -> None:
    import torch

    from composer.generators.transformer.model import CHECKPOINT, load_model
    from composer.generators.transformer.sampling import sample
    from composer.generators.transformer.tokens import Section

    model, vocab = load_model(CHECKPOINT), load()[1]
    sec = Section("minor", "3/4", "inner", 4, CHORDS)
    g = P.SectionGrammar(vocab, 2, 12, sec.chords, 4)
    torch.set_num_threads(1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        ids = sample(model, vocab.prefix(sec), 2, [P.GrammarProcessor(g)], 60,
                     vocab["EOS_None"], vocab["PAD_None"], 0, fast=False)  # fmt: skip
    assert ids.shape[0] == 2
