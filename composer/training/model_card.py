"""Write the model card (``README.md``) of a checkpoint from its measured figures.

    python -m composer.training.model_card [--checkpoint DIR]

Reads ``training.json`` (written by ``compose train``) and, where present, ``bench_sampling.json``
and ``eval_generators.json`` (written by the benchmarks with ``--out``) from the checkpoint
folder; every number in the card comes from those files.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from composer.generators.transformer.model import CHECKPOINT
from composer.generators.transformer.tokens import Vocab


def _load(folder: Path, name: str) -> dict[str, Any] | None:
    p = folder / name
    return json.loads(p.read_text()) if p.exists() else None


def corpus_counts() -> dict[str, dict[str, int]]:
    """Pieces per corpus and split, from the parsed-corpus cache (parses what is missing)."""
    from composer.training.melody_data import build_examples, split_of

    out: dict[str, dict[str, int]] = {}
    for ex in build_examples(workers=1):
        row = out.setdefault(ex.corpus, {"train": 0, "valid": 0, "test": 0})
        row[split_of(ex.path)] += 1
    return out


LABEL_RULES = (
    "### Labels (style, tempo, energy)",
    "",
    "The corpus rarely marks a tempo and has no pop, jazz, blues or ballad: each piece is "
    "labelled by what it offers (`composer/training/melody_labels.py`). A Bach chorale is "
    "`hymn`, slow. An O'Neill / Ryan / Aird tune by its ABC `R:` field: reel, fling, clog, "
    "walkaround -> `reel` fast; hornpipe, strathspey -> `reel` medium; jig, double jig, slip "
    "jig, slide -> `jig` fast; waltz -> `waltz` medium; march -> `march` fast; air -> `folk` "
    "slow. Without an `R:` field (and every Essen song, whose `R:` is a song genre), by meter: "
    "6/8, 9/8, 12/8 -> `jig` fast (Essen: `folk` medium); 3/4 -> `waltz` medium; 2/4 -> "
    "`march` fast; an O'Neill/Ryan 4/4 or 2/2 tune -> `reel` fast; else `folk` medium. A "
    "tempo word in a tune's `N:` notes (O'Neill's Slow / Moderate / With spirit) sets the "
    "tempo band instead. Energy is the section's own density: onsets per felt beat < 1 low, "
    ">= 2 high, else mid. 15% of the sections (a fixed hash) are labelled `Style_none`, the "
    "neutral token.",
    "",
    "At compose time a style with examples is its own token; classical and ballad take "
    "`hymn` (the nearest labelled idiom: long notes, few 16ths), country takes `folk`. "
    "**Jazz, blues, pop, rock, funk, swing, shuffle and bossa have no example in the corpus**: "
    "they are composed with `Style_none`, and the melody plan's masks carry their idiom. The "
    "tempo band is the song's tempo (<= 88 slow, > 108 fast); the energy band is the plan's "
    "density (or the arrangement's energy without a plan).",
)


def label_section(labels: dict[str, Any] | None) -> list[str]:
    """The label rules and, with ``labels`` (``training.json``), the sections per label."""
    lines = list(LABEL_RULES)
    if not labels:
        return lines
    for name in ("style", "tempo", "energy"):
        per_split = labels.get(name, {})
        values = sorted({v for split in per_split.values() for v in split})
        lines += ["", f"| {name} | train sections | valid | test |", "|---|---|---|---|"]
        for v in values:
            row = [per_split.get(s, {}).get(v, 0) for s in ("train", "valid", "test")]
            lines.append(f"| {v} | {row[0]:,} | {row[1]:,} | {row[2]:,} |")
    return lines


def card(folder: Path, pieces: dict[str, dict[str, int]] | None = None) -> str:
    t = _load(folder, "training.json")
    if t is None:
        raise FileNotFoundError(f"{folder / 'training.json'}: train first (`compose train`)")
    cfg = t["config"]
    model = cfg["model"]
    version = Vocab.of_checkpoint(folder).version if (folder / "vocab.json").exists() else 1
    lines = [
        "---",
        "library_name: transformers",
        "tags: [music, symbolic-music, melody, llama, songc]",
        "license: mit",
        "---",
        "# songc melody model (the `transformer` section generator)",
        "",
        "A small Llama-style decoder that writes a section's melody, conditioned on the mode "
        "(pitches are key-relative, tonic C), meter, "
        + ("style, tempo band, energy band, " if version >= 2 else "")
        + "place in the form (open / inner / close), length in bars, the chord of every beat, "
        + (
            "each bar's place in its phrase (inside, a phrase's last bar, the section's close) "
            if version >= 2
            else ""
        )
        + "and, for a varied or repeated section, the source melody. Tokens: miditok REMI "
        "(16th-note grid) plus the conditioning tokens (`vocab.json`, `tokenizer.json`; "
        f"vocabulary version {version}); see `composer/generators/transformer/tokens.py`. "
        "At compose time "
        "the section's melody plan is also enforced while decoding: phrase ends (a long note "
        "or a rest), the style's durations with budgets of 16ths and dotted eighths, and the "
        "planned register (`composer/generators/transformer/plan_rules.py`).",
        "",
        "## Data",
        "",
        "music21's corpus: the Bach chorales (soprano; the chord of every beat labelled from "
        "all four voices) and the folk collections Essen, O'Neill (1850), Ryan's Mammoth and "
        "Aird (tune; one chord per bar from the project's harmoniser, Viterbi under the chorale "
        "progression model). Pieces in mixed meters, meters over 6 quarters, or under two bars "
        "are left out. Pieces are cut into 4-16 bar sections; pitches are moved so the tonic is "
        "C (the key-relative form replaces transposition for augmentation). Split by piece: "
        "sha1(corpus path)[0] % 20 == 0 test, == 1 validation, else training.",
        "",
    ]
    if pieces:
        lines += ["| corpus | train pieces | valid | test |", "|---|---|---|---|"]
        for name, row in sorted(pieces.items()):
            lines.append(f"| {name} | {row['train']:,} | {row['valid']:,} | {row['test']:,} |")
    if version >= 2:
        lines += ["", *label_section(t.get("labels"))]
    lines += [
        "",
        "| split | sections | tokens |",
        "|---|---|---|",
    ]
    for split in ("train", "valid", "test"):
        lines.append(f"| {split} | {t['sections'][split]:,} | {t['tokens'][split]:,} |")
    lines += [
        "",
        "## Model",
        "",
        f"`LlamaForCausalLM`, {t['parameters']:,} parameters: hidden {model['hidden']}, "
        f"{model['layers']} layers, {model['heads']} heads, MLP {model['ffn']}, context "
        f"{model['context']}, tied embeddings; fp32 safetensors.",
        "",
        "## Training and results",
        "",
        f"AdamW (lr {cfg['lr']}, warmup {cfg['warmup']}, cosine to 10%), batches of "
        f"~{cfg['batch_tokens']:,} tokens, {t['steps']} steps"
        + (" (stopped early by the time limit)" if t.get("stopped_early") else "")
        + f", {t.get('train_seconds', 0) / 60:.0f} minutes on {cfg['threads']} CPU thread(s). "
        "The loss counts only the tokens the model chooses (bar lines, positions, pitches, "
        "durations, end); the conditioning, chords and phrase marks are given."
        + (
            f" Warm-started from `{Path(str(cfg['init'])).name}` (the previous checkpoint: its "
            "weights, the new tokens' embeddings at the mean of the old ones)."
            if cfg.get("init")
            else ""
        ),
        "",
        "| figure | value |",
        "|---|---|",
        f"| validation loss (nats per chosen token) | {t['valid_loss']:.4f} |",
        f"| test loss | {t['test_loss']:.4f} |",
        f"| test perplexity | {t['test_perplexity']:.3f} |",
    ]
    bench = _load(folder, "bench_sampling.json")
    if bench:
        lines += [
            f"| sampling, 16 candidates x 8 bars, {bench['torch_threads']} threads: our loop "
            f"| {bench['ours_tokens_per_s']:,} tokens/s |",
            f"| the same with `generate()` on the whole batch | {bench['generate_tokens_per_s']:,}"
            f" tokens/s ({bench['speedup']}x) |",
            "| `generate()` one candidate at a time | "
            f"{bench['generate_one_at_a_time_tokens_per_s']:,} tokens/s "
            f"({bench['speedup_vs_one_at_a_time']}x) |",
            *(
                [
                    "| bound: a step costing only its matrix products, 16 rows | "
                    f"{bench['matmul_only_tokens_per_s']:,} tokens/s |"
                ]
                if "matmul_only_tokens_per_s" in bench
                else []
            ),
            f"| peak memory (process RSS) | {bench['peak_rss_mb']['after_ours']} MB |",
        ]
    ev = _load(folder, "eval_generators.json")
    if ev:
        tc = ev["transformer_candidates"]
        lines += [
            f"| invalid token sequences ({ev['specs']} specs) | {tc['invalid_sequences']} of "
            f"{tc['sampled']} |",
            f"| exact section length | {tc['exact_length']} of {tc['sampled']} |",
            f"| strong-beat chord-tone ratio: generated / corpus (test split) | "
            f"{ev['summary']['transformer']['chord_tone_strong']:.3f} / "
            f"{ev['corpus']['chord_tone_strong']['all']:.3f} |",
        ]
    lines += [
        "",
        "## Reproduce",
        "",
        "```",
        f"compose train --steps {cfg['steps']} --threads {cfg['threads']}"
        + (f" --max-minutes {cfg['max_minutes']:g}" if cfg.get("max_minutes") else "")
        + "   # parses the corpus once (cached), trains, writes this folder",
        "python benchmarks/bench_sampling.py --out $CK/bench_sampling.json"
        "   # CK=composer/generators/transformer/checkpoint",
        "python benchmarks/eval_generators.py --out $CK/eval_generators.json",
        "python -m composer.training.model_card",
        "```",
        "",
        "or `make model`. On one CPU thread training is deterministic: the same command writes "
        "the same weights (two runs compared with `cmp`). The validation loss above is logged "
        "during training (`training.json`, `log`); the test perplexity is exp(test loss) of the "
        "saved checkpoint. `compose train --data DIR --out NEW` trains a new model on a folder of "
        "MIDI/MusicXML/ABC files; compose with it by `compose --checkpoint NEW` (from Python: "
        "`TransformerGenerator(checkpoint=NEW)`); `--device cuda` on a GPU.",
        "",
        "## Limits",
        "",
        "Melody only (chords and bass come from the rule generator). Roles are the section's "
        "place in the form, not verse/chorus (the corpus has no such labels). Triplets are "
        "rounded to the 16th grid. Folk chords come from a harmoniser, not from the tunes' "
        "sources. No transposition augmentation: the key-relative form makes every piece's "
        "tonic C, so transposing would only change the register. Trained for about one pass "
        "over the data on a CPU: a longer run or a wider model on a GPU should lower the loss.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--checkpoint", type=Path, default=CHECKPOINT)
    args = ap.parse_args(argv)
    (args.checkpoint / "README.md").write_text(card(args.checkpoint, corpus_counts()))
    print(f"wrote {args.checkpoint / 'README.md'}")


if __name__ == "__main__":
    main()
