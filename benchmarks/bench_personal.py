"""Does the personal reward model learn a listener, and does composing with it serve them?

    python benchmarks/bench_personal.py [--reps 3] [--songs 10] [--within] [--cache POOL.npz]

Two measurements, for every simulated listener (:mod:`composer.preferences.listeners`):

1. **Learning curves.** A pool of candidates (``rules`` generator; every section of
   ``POOL_SPECS``, 8 candidates each, heard with the song's drums) is split by section into
   rating items (70%) and held-out items (30%). The listener answers A/B pairs with its noise;
   after 10, 20, 50 and 100 ratings the model is fitted (:func:`composer.preferences.model.fit`)
   and scored on 2,000 held-out pairs of unseen sections against the listener's *noiseless*
   preference (the sign of its utility difference). Pairs are chosen at random or actively
   (:func:`composer.preferences.active.next_pair` among 2,000 candidate pairs, expected
   information). Mean over ``--reps`` seeds. ``--within``: every pair (rated and held out) is
   two candidates of one section, as the studio asks them (smaller differences, harder).
   ``--arrangements``: each candidate of a section is heard with the drums of one of the
   section's arrangement variants in turn (the energies a profile may choose there,
   :func:`composer.preferences.pool.arrangement_drums`), so a within-section pair can differ
   in drums as one that varies the arrangement would (writes ``..._arrangements.json``).
2. **Composing with the profile.** The model fitted on 50 active ratings composes ``--songs``
   unseen specs x 2 seeds (``rules`` generator, 16 candidates, beam 2) as a profile, and the
   same specs without one (a profile picks the progression among the planner's,
   :mod:`composer.preferences.harmony`, the candidates, and each section's arrangement energy,
   :mod:`composer.preferences.arrangement`); the listener's utility of each song is the
   bar-weighted mean of its utility over the chosen sections (as the search heard them, with
   the arranged song's drums).
   Reported: the mean utility with and without, and the share of songs where it is higher.

Prints JSON and writes ``benchmarks/results/bench_personal.json`` and the README plot
``docs/pictures/personal_learning.png`` (matplotlib).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from composer.pipeline import compile_song  # noqa: E402
from composer.preferences.active import next_pair  # noqa: E402
from composer.preferences.listeners import LISTENERS, Listener  # noqa: E402
from composer.preferences.model import fit  # noqa: E402
from composer.preferences.pool import Pool, build_pool, random_pairs, song_items  # noqa: E402
from composer.preferences.profiles import save_profile  # noqa: E402
from composer.studio.ratings import HOME_ENV  # noqa: E402
from grammar.spec import validate_spec  # noqa: E402

CHECKPOINTS = (10, 20, 50, 100)
STYLES = ("pop", "jazz", "rock", "folk", "blues", "ballad", "bossa", "funk", "waltz", "country")
KEYS = ("C major", "A minor", "Eb major", "E minor", "G major", "D minor", "Bb major", "F# minor")
POOL_SPECS = [
    {
        "form": form,
        "style": STYLES[i % len(STYLES)],
        "key": KEYS[i % len(KEYS)],
        "generator": "rules",
        "seed": 100 + i,
        "candidates": 8,
        "preferences": {"beam": 1},
    }
    for i, form in enumerate(["AABA", "ABAC", "AB", "ABCA", "AABB", "ABAB"] * 3)
]
UNSEEN_FORMS = ("AABA", "ABAB", "ABCB", "AAB", "ABAC", "AB", "ABBA", "AABC", "ABA", "ABCA")


def split(pool: Pool, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Item indices for rating and held out, 70/30 by section (no section on both sides)."""
    groups = rng.permutation(np.unique(pool.group))
    held = set(groups[: int(0.3 * groups.size)].tolist())
    mask = np.array([g in held for g in pool.group])
    return np.flatnonzero(~mask), np.flatnonzero(mask)


WITHIN = False  # --within: every pair is two candidates of one section (the studio's A/B)


def pairs_of(
    idx: np.ndarray, n: int, rng: np.random.Generator, group: np.ndarray | None = None
) -> np.ndarray:
    """``n`` pairs of distinct items of ``idx``; with ``group`` (and ``--within``), both items
    of a pair from one section."""
    if WITHIN and group is not None:
        return idx[random_pairs(idx.size, n, rng, group[idx])]
    a = rng.integers(0, idx.size, n)
    b = (a + rng.integers(1, idx.size, n)) % idx.size
    return np.stack([idx[a], idx[b]], axis=1)


def curve(pool: Pool, listener: Listener, active: bool, rep: int) -> tuple[list[float], Any]:
    """Held-out accuracy at each checkpoint, and the model at 50 ratings."""
    rng = np.random.default_rng(1000 * rep + 7)
    x = pool.features
    train, test = split(pool, rng)
    held = pairs_of(test, 2000, rng, pool.group)
    truth = listener.prefers(x[held[:, 0]], x[held[:, 1]])
    decided = truth != 0.5
    held, truth = held[decided], truth[decided]
    asked: list[tuple[int, int]] = []
    outcomes: list[float] = []
    model = None
    accs: list[float] = []
    at50 = None
    for t in range(1, CHECKPOINTS[-1] + 1):
        if active:
            cand = pairs_of(train, 2000, rng, pool.group)
            i, j = next_pair(model, x, cand, exclude=set(asked))
        else:
            i, j = (int(v) for v in pairs_of(train, 1, rng, pool.group)[0])
        asked.append((i, j))
        outcomes.append(float(listener.answer(x[[i]], x[[j]], rng)[0]))
        pa = np.array(asked)
        if active or t in CHECKPOINTS:
            l2 = None if t in CHECKPOINTS else (model.l2 if model is not None else None)
            model = fit(x[pa[:, 0]], x[pa[:, 1]], outcomes, l2=l2)
        if t in CHECKPOINTS:
            assert model is not None
            p = model.prob(x[held[:, 0]], x[held[:, 1]])
            accs.append(float(np.mean((p > 0.5) == (truth == 1.0))))
            if t == 50:
                at50 = model
    return accs, at50


def learning(pool: Pool, reps: int) -> tuple[dict[str, Any], dict[str, Any]]:
    out: dict[str, Any] = {}
    models: dict[str, Any] = {}
    for name, listener in LISTENERS.items():
        out[name] = {}
        for mode in ("active", "random"):
            runs = [curve(pool, listener, mode == "active", r) for r in range(reps)]
            acc = np.array([a for a, _ in runs])
            out[name][mode] = {
                str(n): {
                    "mean": round(float(acc[:, k].mean()), 4),
                    "min": round(float(acc[:, k].min()), 4),
                }
                for k, n in enumerate(CHECKPOINTS)
            }
            if mode == "active":
                models[name] = runs[0][1]
        print(name, json.dumps(out[name]), file=sys.stderr, flush=True)
    return out, models


def unseen_specs(n: int) -> list[dict[str, Any]]:
    """Specs none of the pool's songs were: other forms, styles, keys and seeds."""
    out = []
    for i in range(n):
        for seed in (900 + i, 1900 + i):
            out.append(
                {
                    "form": UNSEEN_FORMS[i % len(UNSEEN_FORMS)],
                    "style": STYLES[(i + 3) % len(STYLES)],
                    "key": KEYS[(i + 5) % len(KEYS)],
                    "generator": "rules",
                    "seed": seed,
                    "candidates": 16,
                    "preferences": {"beam": 2},
                }
            )
    return out


def song_utility(spec: dict[str, Any], listener: Listener) -> tuple[float, int]:
    """The listener's bar-weighted mean utility of the song, and its hard violations."""
    c = compile_song(validate_spec(spec))
    rows, bars = song_items(c)
    hard = sum(ch.chosen.hard for ch in c.choices.values())
    return float(np.average(listener.utility(rows), weights=bars)), hard


def composing(models: dict[str, Any], n_songs: int) -> dict[str, Any]:
    specs = unseen_specs(n_songs)
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as home:
        os.environ[HOME_ENV] = home
        for name, listener in LISTENERS.items():
            save_profile(f"sim-{name}", models[name])
            base = [song_utility(s, listener) for s in specs]
            mine = [
                song_utility(
                    {**s, "preferences": {**s["preferences"], "profile": f"sim-{name}"}}, listener
                )
                for s in specs
            ]
            u0 = np.array([u for u, _ in base])
            u1 = np.array([u for u, _ in mine])
            out[name] = {
                "songs": len(specs),
                "utility_without": round(float(u0.mean()), 3),
                "utility_with_profile": round(float(u1.mean()), 3),
                "mean_gain": round(float((u1 - u0).mean()), 3),
                "songs_higher": int(np.sum(u1 > u0)),
                "songs_equal": int(np.sum(u1 == u0)),
                "hard_violations_without": int(sum(h for _, h in base)),
                "hard_violations_with": int(sum(h for _, h in mine)),
            }
            print(name, json.dumps(out[name]), file=sys.stderr, flush=True)
    return out


def plot(curves: dict[str, Any], path: Path) -> bool:
    """The README figure: accuracy against ratings, per listener, active vs random."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, axes = plt.subplots(1, len(curves), figsize=(3.0 * len(curves), 3.0), sharey=True)
    for ax, (name, modes) in zip(axes, curves.items(), strict=True):
        for mode, style in (("active", "o-"), ("random", "s--")):
            ys = [modes[mode][str(n)]["mean"] for n in CHECKPOINTS]
            ax.plot(CHECKPOINTS, ys, style, label=mode)
        ax.axhline(0.85, color="grey", lw=0.8, ls=":")
        ax.set_xscale("log")
        ax.set_xticks(CHECKPOINTS, [str(n) for n in CHECKPOINTS])
        ax.set_title(name)
        ax.set_xlabel("ratings")
        ax.set_ylim(0.4, 1.0)
    axes[0].set_ylabel("held-out pairwise accuracy")
    axes[0].legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=3, help="seeds per learning curve")
    ap.add_argument("--songs", type=int, default=10, help="unseen specs (x 2 seeds)")
    ap.add_argument("--cache", type=Path, help="keep the candidate pool in this .npz file")
    ap.add_argument(
        "--within",
        action="store_true",
        help="pairs of two candidates of one section only (writes bench_personal_within.json)",
    )
    ap.add_argument(
        "--arrangements",
        action="store_true",
        help="candidates heard with the section's arrangement variants (drums differ)",
    )
    ap.add_argument(
        "--curves-from",
        type=Path,
        help="reuse the learning curves of this result JSON (same pool) and measure only the "
        "composing (the 50-rating models are fitted again: seeded, the same)",
    )
    args = ap.parse_args()
    global WITHIN
    WITHIN = args.within
    t0 = time.perf_counter()
    if args.cache is not None and args.cache.is_file():
        d = np.load(args.cache)
        pool = Pool(d["features"], d["group"], tuple((int(a), str(b)) for a, b in d["sections"]))
    else:
        pool = build_pool(POOL_SPECS, per_section=8, arrangements=args.arrangements)
        if args.cache is not None:
            np.savez(
                args.cache,
                features=pool.features,
                group=pool.group,
                sections=np.array(pool.sections),
            )
    t_pool = time.perf_counter() - t0
    if args.curves_from is not None:
        curves = json.loads(args.curves_from.read_text())["curves"]
        models = {n: curve(pool, x, True, 0)[1] for n, x in LISTENERS.items()}
    else:
        curves, models = learning(pool, args.reps)
    t_curves = time.perf_counter() - t0 - t_pool
    composed = composing(models, args.songs) if args.songs > 0 else {}
    result = {
        "pool": {"items": len(pool), "sections": len(pool.sections), "seconds": round(t_pool, 1)},
        "listeners": {n: x.description for n, x in LISTENERS.items()},
        "reps": args.reps,
        "pairs": "two candidates of one section" if args.within else "any two candidates",
        "drums": "the section's arrangement variants in turn"
        if args.arrangements
        else "the arranged song's",
        "curves": curves,
        "curves_seconds": round(t_curves, 1),
        "curves_from": None if args.curves_from is None else args.curves_from.name,
        "composing": composed,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    text = json.dumps(result, indent=1)
    print(text)
    (ROOT / "benchmarks" / "results").mkdir(exist_ok=True)
    name = "bench_personal_within" if args.within else "bench_personal"
    name += "_arrangements" if args.arrangements else ""
    (ROOT / "benchmarks" / "results" / f"{name}.json").write_text(text + "\n")
    if not args.within and not args.arrangements:
        plot(curves, ROOT / "docs" / "pictures" / "personal_learning.png")


if __name__ == "__main__":
    main()
