"""The torch sampling path of ``--device cuda`` (composer/generators/transformer/gpu.py), run
here on the CPU (``device="cpu"`` through the same code): the CPU decoder's logits to float32
rounding, grammar-valid tokens, deterministic per device, and the device option's errors. No
test here ran on a GPU."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import torch

from composer.cli import main
from composer.generators.transformer import gpu
from composer.generators.transformer import processors as P
from composer.generators.transformer.decoder import FastDecoder
from composer.generators.transformer.generator import load
from composer.generators.transformer.sequence_check import problems
from composer.generators.transformer.tokens import Section

CHORDS = (("0m", "0m", "0m"), ("77", "77", "77"), ("5m", "5m", "77"), ("0m", "0m", "0m"))


@pytest.fixture(autouse=True)
def _cpu_after() -> object:
    torch.set_num_threads(1)
    yield
    gpu.use_device("cpu")


def test_torch_decoder_gives_the_fast_decoders_logits() -> None:
    model, _ = load()
    ids = torch.randint(3, 300, (4, 10), generator=torch.Generator().manual_seed(1))
    fast, dev = FastDecoder(model, 4, 16), gpu.TorchDecoder(model, 4, 16, "cpu")
    np.testing.assert_allclose(dev.prefill(ids), fast.prefill(ids), atol=1e-4, rtol=1e-4)
    active = np.arange(4)
    for k, tokens in enumerate(([7, 8, 9, 10], [11, 12, 13, 14], [15, 16, 17, 18])):
        if k == 1:  # rows 0 and 2 have finished: only 1 and 3 are fed and returned
            active = np.array([1, 3])
        t = np.array(tokens)[active]
        want = fast.step(t, active).copy()
        got = dev.step(t, active)
        assert got.shape == (len(active), model.vocab)
        np.testing.assert_allclose(got, want, atol=1e-4, rtol=1e-4)


def _sample(rows: int, seed: int) -> tuple[list[list[int]], object]:
    model, vocab = load()
    sec = Section("minor", "3/4", "inner", 4, CHORDS)
    fused = P.section_fused(
        vocab, rows, 12, sec.chords, 4, pitch_range=(62, 79),
        scale=frozenset({0, 2, 3, 5, 7, 8, 10, 9, 11}), max_leap=7, temperature=1.0, top_p=0.95,
    )  # fmt: skip
    eos, pad = vocab["EOS_None"], vocab["PAD_None"]
    ids = gpu.sample_fused(model, vocab.prefix(sec), rows, fused, 165, eos, pad, seed, "cpu")
    return [r.tolist() for r in ids], vocab


def test_the_device_path_samples_valid_melodies_deterministically() -> None:
    rows, vocab = _sample(8, 0)
    for ids in rows:
        assert problems(vocab, ids, CHORDS, 12) == []  # type: ignore[arg-type]
        notes = vocab.decode_notes(ids, "3/4")  # type: ignore[attr-defined]
        assert {o // 12 for o, _, _ in notes} == {0, 1, 2, 3}  # a note in each of the 4 bars
        pitches = [p for _, _, p in notes]
        assert all(62 <= p <= 79 for p in pitches)
        assert all(abs(a - b) <= 7 for a, b in itertools.pairwise(pitches))
    again, _ = _sample(8, 0)
    other, _ = _sample(8, 1)
    assert rows == again and rows != other
    assert len({tuple(r) for r in rows}) > 1


def test_device_errors_are_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    gpu.check_device("cpu")
    with pytest.raises(Exception, match="unknown device 'tpu'"):
        gpu.check_device("tpu")
    spec = tmp_path / "a.yaml"
    spec.write_text("form: AB\ngenerator: rules\n")
    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is visible: --device cuda is valid here")
    rc = main(["batch", str(spec), "--out", str(tmp_path / "o"), "--device", "cuda", "-q"])
    assert rc == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --device: ") and "\n" not in err
    assert not (tmp_path / "o").exists()
    rc = main(["--spec", str(spec), "--device", "cuda", "-o", str(tmp_path / "a.mid")])
    assert rc == 2 and capsys.readouterr().err.strip().startswith("error: --device: ")
    assert not (tmp_path / "a.mid").exists()


def test_a_song_on_the_device_path_is_deterministic(tmp_path: Path) -> None:
    """A whole song through the torch path (device "cpu"): the same bytes twice."""
    from composer.app import api

    spec = api.build_spec(None, {"form": "AB", "candidates": 2, "seed": 4})
    gpu.use_device("cpu")
    a = api.compose(spec).midi
    gpu.use_device("cpu", torch_path=True)
    b = api.compose(spec).midi
    c = api.compose(spec).midi
    assert b == c and b[:4] == b"MThd"
    assert len(a) > 0
