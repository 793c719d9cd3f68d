"""Sampling speed of the learned generator: our KV-cache loop against ``model.generate``.

    python benchmarks/bench_sampling.py [--threads 2] [--candidates 16] [--bars 8] [--repeat 3]

Our loop (``composer.generators.transformer.sampling.sample``: one batch, KV cache, the compiled
decoder step
of :class:`composer.generators.transformer.decoder.FastDecoder` and the processors fused into one
compiled
draw; also timed on ``model.forward`` with a ``DynamicCache`` and the processors called one by
one) and ``model.generate`` both sample ``--candidates`` sequences of one 8-bar 4/4 section
(the shipped checkpoint, the same prefix, the same LogitsProcessors, built by the generator's
own factory ``composer.generators.transformer.processors.section_processors`` with the generator's
settings:
grammar, range, key, leaps, the accompaniment floor, the chord-tone bias on strong beats,
temperature, top-p) in the same process on ``--threads`` torch threads. Tokens/second counts
the new tokens up to and including each row's EOS, summed over rows, divided by wall time
(best of ``--repeat``).
Two baselines: ``generate`` on the whole batch at once (``generate_tokens_per_s``), and
``generate`` called once per candidate (``generate_one_at_a_time_tokens_per_s``, what a
generator without a batched loop does). Peak memory is the process's peak resident set
(``ru_maxrss``) after each method. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import torch
from transformers import LogitsProcessorList

from composer.generators.transformer.decoder import FastDecoder
from composer.generators.transformer.generator import (
    CHORD_TONE_BIAS,
    MAX_LEAP,
    TEMPERATURE,
    TOP_P,
    load,
)
from composer.generators.transformer.model import CHECKPOINT, load_model
from composer.generators.transformer.processors import section_processors
from composer.generators.transformer.sampling import sample
from composer.generators.transformer.sequence_check import problems
from composer.generators.transformer.tokens import Section

CHORDS = ("0M", "0M", "9m", "9m", "5M", "5M", "7M", "7M")  # I vi IV V, two beats each


def _section(bars: int) -> Section:
    grid = tuple((CHORDS[2 * (b % 4)],) * 2 + (CHORDS[2 * (b % 4) + 1],) * 2 for b in range(bars))
    return Section("major", "4/4", "inner", bars, grid)


def _processors(vocab: object, rows: int, sec: Section) -> list[Any]:
    """What the ``transformer`` generator would use for this section in C major."""
    return section_processors(
        vocab,  # type: ignore[arg-type]
        rows, 16, sec.chords, 4,
        pitch_range=(60, 81),
        scale=frozenset((0, 2, 4, 5, 7, 9, 11)),
        max_leap=MAX_LEAP,
        temperature=TEMPERATURE,
        top_p=TOP_P,
        floor=np.full(16 * sec.bars, 55),  # a G3 top note in the accompaniment throughout
        strong=frozenset((0, 8)),
        chord_bias=CHORD_TONE_BIAS,
        phrases=vocab.phrase_tokens(sec),  # type: ignore[attr-defined]
    )  # fmt: skip


def _matmul_floor(model: Any, rows: int, repeat: int = 300) -> float:
    """Tokens/second if a decoding step cost only its matrix products (the decoder's own, on
    its buffers, all ``rows`` rows): a bound no fp32 implementation of this model passes on
    these threads."""
    dec = FastDecoder(model, rows, 8)
    v = dec.view
    mms = [(v["normed"], qkv, v["qkv"]) for _, qkv, _, _, _, _ in dec.layers]
    mms += [(v["att"], o, v["delta"]) for _, _, o, _, _, _ in dec.layers]
    mms += [(v["normed"], gu, v["gate_up"]) for _, _, _, _, gu, _ in dec.layers]
    mms += [(v["act"], down, v["delta"]) for _, _, _, _, _, down in dec.layers]
    mms.append((v["normed"], dec.head, v["logits"]))
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(repeat):
            for a, w, out in mms:
                torch.mm(a, w, out=out)
        best = min(best, (time.perf_counter() - t0) / repeat)
    return rows / best


def _count(ids: Any, eos: int, pad: int) -> int:
    return int((ids != pad).sum())


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> dict[str, object]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--candidates", type=int, default=16)
    ap.add_argument("--bars", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    weights, vocab = load()  # what compose samples with: the safetensors weights
    model = load_model(CHECKPOINT)  # transformers' model: forward and generate()
    sec = _section(args.bars)
    prefix = vocab.prefix(sec)
    marks = vocab.phrase_tokens(sec)  # the bars' phrase tokens (None for a version-1 model)
    eos, pad = vocab["EOS_None"], vocab["PAD_None"]
    max_new = args.bars * (2 + 4 + 3 * 16) + 1
    rss_loaded = _peak_mb()

    # the first call loads the compiled kernels (or compiles them, once per install)
    t0 = time.perf_counter()
    sample(weights, prefix, 2, _processors(vocab, 2, sec), max_new, eos, pad)
    first_call = time.perf_counter() - t0

    ours: list[float] = []
    plain: list[float] = []  # the same loop on model.forward + DynamicCache
    invalid = 0
    tokens = steps = 0
    for r in range(args.repeat):
        for fast, runs in ((True, ours), (False, plain)):
            procs = _processors(vocab, args.candidates, sec)
            t0 = time.perf_counter()
            ids = sample(weights if fast else model, prefix, args.candidates, procs, max_new,
                         eos, pad, r, fast)  # fmt: skip
            dt = time.perf_counter() - t0
            tokens = _count(ids, eos, pad)
            if fast:
                steps = ids.shape[1]
            runs.append(tokens / dt)
            invalid += sum(
                bool(problems(vocab, row.tolist(), sec.chords, 16, marks)) for row in ids
            )
    rss_ours = _peak_mb()
    floor = _matmul_floor(weights, args.candidates)

    theirs: list[float] = []
    hf_invalid = 0
    for r in range(args.repeat):
        procs = LogitsProcessorList(_processors(vocab, args.candidates, sec))
        torch.manual_seed(r)
        inp = torch.tensor([prefix] * args.candidates)
        t0 = time.perf_counter()
        with torch.inference_mode():
            out = model.generate(
                input_ids=inp,
                attention_mask=torch.ones_like(inp),
                do_sample=True,
                top_k=0,
                max_new_tokens=max_new,
                logits_processor=procs,
                eos_token_id=eos,
                pad_token_id=pad,
            )
        dt = time.perf_counter() - t0
        new = out[:, len(prefix) :]
        theirs.append(_count(new, eos, pad) / dt)
        hf_invalid += sum(bool(problems(vocab, row.tolist(), sec.chords, 16, marks)) for row in new)
    rss_hf = _peak_mb()

    # generate() one candidate at a time: what a generator without a batched loop would do
    single: list[float] = []
    for r in range(args.repeat):
        total, t0 = 0, time.perf_counter()
        for row in range(args.candidates):
            procs = LogitsProcessorList(_processors(vocab, 1, sec))
            torch.manual_seed(1000 * r + row)
            inp = torch.tensor([prefix])
            with torch.inference_mode():
                out = model.generate(
                    input_ids=inp, attention_mask=torch.ones_like(inp), do_sample=True, top_k=0,
                    max_new_tokens=max_new, logits_processor=procs, eos_token_id=eos,
                    pad_token_id=pad,
                )  # fmt: skip
            new = out[:, len(prefix) :]
            total += _count(new, eos, pad)
            hf_invalid += sum(bool(problems(vocab, x.tolist(), sec.chords, 16, marks)) for x in new)
        single.append(total / (time.perf_counter() - t0))

    result: dict[str, object] = {
        "benchmark": "sampling",
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "torch_threads": args.threads,
        "candidates": args.candidates,
        "bars": args.bars,
        "tokens_per_candidate": round(tokens / args.candidates, 1),
        "ours_tokens_per_s": round(max(ours), 1),
        "generate_tokens_per_s": round(max(theirs), 1),
        "speedup": round(max(ours) / max(theirs), 2),
        "ours_on_model_forward_tokens_per_s": round(max(plain), 1),
        "steps_per_call": steps,
        "first_call_s": round(first_call, 2),
        "matmul_only_tokens_per_s": round(floor, 1),
        "generate_one_at_a_time_tokens_per_s": round(max(single), 1),
        "speedup_vs_one_at_a_time": round(max(ours) / max(single), 2),
        "ours_runs": [round(x, 1) for x in ours],
        "generate_runs": [round(x, 1) for x in theirs],
        "generate_one_at_a_time_runs": [round(x, 1) for x in single],
        "invalid_sequences": {"ours": invalid, "generate": hf_invalid},
        "peak_rss_mb": {
            "model_loaded": round(rss_loaded, 1),
            "after_ours": round(rss_ours, 1),
            "after_generate": round(rss_hf, 1),
        },
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n")
    return result


if __name__ == "__main__":
    main()
