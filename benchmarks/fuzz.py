"""Fuzz the front door: random specs through the library API and through the CLI.

    python benchmarks/fuzz.py                      # 10,000 API specs, 200 CLI runs, 2 processes
    python benchmarks/fuzz.py --api 500 --cli 20   # a quick look

Every spec must compose or be refused cleanly: through the API a ``ComposeError`` (the
project's own error type), through the CLI exit 2 with one line ``error: ...`` and no output
file. Anything else is an internal error; a spec over ``--timeout`` seconds is a hang. Specs are
cheap on purpose (the rules generator, 1-2 candidates, mostly short sections) and most are
invalid, so they are rejected in milliseconds. Prints JSON counts; the first few failures are
listed with the seed that reproduces them (``--only-seed``).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent

KEYS = ["C major", "A minor", "Eb major", "F# minor", "Bb minor", "D", "H major", "c minor ",
        "E flat major", "", "X" * 300]  # fmt: skip
METERS = ["4/4", "3/4", "6/8", "12/8", "5/4", "7/8", "2/2", "C", "¢", "C|", "2/16", "6/16",
          "3/16", "4/5", "0/4", "17/8", "x", "9" * 60 + "/4", "3 / 4"]  # fmt: skip
FORM_TOKENS = ["A", "B", "C", "A'", "'", " ", "[", "]", "(", ")", "x2", "x3", "x17", "verse",
               "chorus", "bridge", "vrese", "intro", "outro", "*3", ",", "9" * 50, "AABA",
               "[verse chorus]x2", "[" * 20, "]" * 20]  # fmt: skip
CHORDS = ["C", "F", "G7", "Am", "Dm7", "Bb", "?", "%", "ii7", "V7", "I", "IV", "vi", "Hm",
          "C/E", "N.C.", "Fmaj7#11", "E7b9", "V/V", "bVII"]  # fmt: skip
LABELS = ["A", "B", "C", "A'", "verse", "chorus", "bridge", "Z"]
CADENCES = ["authentic", "half", "plagal", "deceptive", "none", 3]
STYLES = ["pop", "jazz", "waltz", "blues", "folk", "classical", "march", "polka", "FOLK"]
PROMPTS = ["a waltz in D minor", "at 900 bpm", "in 5/4, 80 bpm", "jazz AABA form",
           "a blues in Bb", "in 3/16", "tempo 10", "a march"]  # fmt: skip


GOOD_KEYS = [k for k in KEYS if k and k not in ("H major", "X" * 300)]
GOOD_METERS = METERS[:12]
GOOD_STYLES = STYLES[:-2]
GOOD_CHORDS = [c for c in CHORDS if c not in ("Hm", "N.C.")]


class Draw:
    """Random choices; a clean draw (half the specs) picks only valid values, so about a third
    of all specs compose and the rest probe the errors."""

    def __init__(self, r: random.Random) -> None:
        self.r, self.clean = r, r.random() < 0.5

    def pick(self, good: list[Any], anything: list[Any]) -> Any:
        return self.r.choice(good if self.clean else anything)

    def int(self, lo: int, hi: int) -> Any:
        """Mostly in range, sometimes out, sometimes not an int at all."""
        x = self.r.random()
        if self.clean or x < 0.8:
            return self.r.randint(lo, hi)
        if x < 0.9:
            return self.r.choice([lo - 1, hi + 1, -1, 0, 10**30])
        return self.r.choice([True, False, "8", 1.5, None, [1], {"a": 1}])


def random_chords(d: Draw, bars: int) -> str:
    r = d.r
    per = [" ".join(d.pick(GOOD_CHORDS, CHORDS) for _ in range(r.choice([1, 1, 1, 2])))
           for _ in range(bars)]  # fmt: skip
    text = " | ".join(per)
    if not d.clean and r.random() < 0.1:
        text = text.replace("|", "||", 1) if r.random() < 0.5 else text + " |"
    return text


def random_form(d: Draw) -> str:
    r, n = d.r, d.r.randint(1, 6)
    if d.clean or r.random() < 0.5:
        return " ".join(r.choice(["A", "A'", "B", "C", "A", "B'"]) for _ in range(n))
    return "".join(r.choice(FORM_TOKENS) for _ in range(n))


def random_spec(r: random.Random) -> dict[str, Any]:
    """A spec dict: each field present with some probability (see :class:`Draw`)."""
    d = Draw(r)
    spec: dict[str, Any] = {"generator": "rules", "candidates": r.choice([1, 1, 2])}
    form = random_form(d) if r.random() < 0.8 else None
    if form is not None:
        spec["form"] = form
    if r.random() < 0.5:
        spec["key"] = d.pick(GOOD_KEYS, KEYS)
    if r.random() < 0.5:
        spec["tempo"] = d.int(20, 300)
    if r.random() < 0.5:
        spec["time_signature"] = d.pick(GOOD_METERS, METERS)
    if r.random() < 0.4:
        spec["style"] = d.pick(GOOD_STYLES, STYLES)
    if r.random() < 0.5:
        spec["seed"] = d.int(0, 2**32 - 1)
    if r.random() < 0.2:
        spec["prompt"] = d.pick(PROMPTS[:1] + PROMPTS[3:5], PROMPTS)
    if r.random() < 0.1:
        spec["title"] = d.pick(["Night Train", "é\u0301"], ["Night Train", "", "x" * 250])
    if r.random() < 0.1:
        spec["candidates"] = d.int(1, 3)
    labels = sorted({w.rstrip("'") for w in (form or "A A B A").split()})
    if r.random() < 0.8:
        sections: dict[str, Any] = {}
        for label in r.sample(labels if d.clean else LABELS, min(len(labels), r.randint(1, 3))):
            s: dict[str, Any] = {}
            bars = d.int(1, 4) if r.random() < 0.9 else r.randint(5, 12)
            if r.random() < 0.8:
                s["bars"] = bars
            if r.random() < 0.4:
                n = bars if isinstance(bars, int) and 0 < bars < 20 else r.randint(1, 4)
                s["chords"] = random_chords(d, n + (not d.clean and r.random() < 0.15))
            if r.random() < 0.2:
                s["cadence"] = d.pick(CADENCES[:4], CADENCES)
            if r.random() < 0.2:
                s["key"] = d.pick(GOOD_KEYS, KEYS)
            if r.random() < 0.1:
                s["role"] = d.pick(["verse", "chorus"], ["verse", "chorus", "riff", ""])
            if not d.clean and r.random() < 0.03:
                s["bar"] = 8
            sections[label] = s
        spec["sections"] = sections
    if r.random() < 0.15:
        prefs: dict[str, Any] = {}
        if r.random() < 0.5:
            prefs["beam"] = d.int(1, 4)
        if r.random() < 0.5:
            prefs["diversity"] = d.pick([0.0, 0.25, 1.0], [0.0, 0.25, 1.0, -1.0, 2.0, True])
        if r.random() < 0.3:
            prefs["learned"] = d.pick([True, False], [True, False, 1, "yes"])
        if r.random() < 0.3:
            name = d.pick(["groove", "novelty"], ["groove", "novelty", "nope"])
            prefs["weights"] = {name: d.pick([1, 50], [1, 50, -3, True])}
        spec["preferences"] = prefs
    if not d.clean and r.random() < 0.03:
        spec[r.choice(["tempi", "schema_version"])] = r.choice([1, 2, 90])
    return spec


YAML_NOISE = ["&a ", "*a", "<<: ", "!!python/object:os.system ", "!!int ", "yes", "on", "~",
              "'", '"', "#", "\t", "---\n", "[", "{", "9" * 5001, ": ", "- "]  # fmt: skip


def random_yaml(r: random.Random) -> str:
    """A spec as YAML text; some of it damaged, some duplicated keys, some bombs."""
    text = yaml.safe_dump(random_spec(r), allow_unicode=True, sort_keys=False)
    x = r.random()
    if x < 0.1:  # noise spliced in
        at = r.randint(0, len(text))
        text = text[:at] + r.choice(YAML_NOISE) + text[at:]
    elif x < 0.15:  # a duplicated line
        lines = text.splitlines()
        text = "\n".join([*lines, r.choice(lines)]) + "\n"
    elif x < 0.18:  # an alias bomb: nine levels of ten, 10**9 values
        pairs = zip("abcdefgh", "bcdefghi", strict=True)
        levels = "".join(f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n" for p, c in pairs)
        text = "a: &a [1,1,1,1,1,1,1,1,1,1]\n" + levels + "tempo: *i\n"
    elif x < 0.2:  # deep nesting
        depth = r.choice([50, 500, 5000])
        text = "tempo: " + "[" * depth + "]" * depth + "\n"
    return text


def _alarm(_signum: int, _frame: Any) -> None:
    raise TimeoutError


def _worker_init() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    signal.signal(signal.SIGALRM, _alarm)


def api_case(args: tuple[int, float]) -> tuple[str, int, str]:
    """(outcome, seed, detail): composed | rejected | internal | hang."""
    seed, timeout = args
    from composer.app import api
    from grammar.errors import ComposeError

    spec = random_spec(random.Random(seed))
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        song = api.compose(spec)
        if not song.midi.startswith(b"MThd"):
            return "internal", seed, "not a MIDI file"
        return "composed", seed, ""
    except ComposeError as exc:
        text = str(exc)
        if "\n" in text or len(text) > 600:
            return "internal", seed, f"unbounded message ({len(text)} chars)"
        return "rejected", seed, ""
    except TimeoutError:
        return "hang", seed, json.dumps(spec)[:300]
    except Exception as exc:
        tb = traceback.format_exc(limit=-3).replace("\n", " | ")
        return "internal", seed, f"{type(exc).__name__}: {str(exc)[:200]} :: {tb[-600:]}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def cli_case(args: tuple[int, float]) -> tuple[str, int, str]:
    """One `compose` process on a random YAML spec (and sometimes a flag or two)."""
    seed, timeout = args
    r = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="songc-fuzz-") as tmp:
        spec = Path(tmp) / "spec.yaml"
        spec.write_text(random_yaml(r), encoding="utf-8")
        out = Path(tmp) / "song.mid"
        argv = ["--spec", str(spec), "-o", str(out), "--quiet"]
        if r.random() < 0.3:
            argv += r.choice([["--tempo", r.choice(["90", "8", "fast", "9" * 5001])],
                              ["--key", r.choice(KEYS)], ["--form", r.choice(FORM_TOKENS)],
                              ["--meter", r.choice(METERS)], ["--candidates", "0"],
                              ["--seed", "-1"]])  # fmt: skip
        if r.random() < 0.05:
            argv = ["plan", *argv[:2]]
        code = "import sys; from composer.cli import main; sys.exit(main(sys.argv[1:]))"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
        try:
            p = subprocess.run(
                [sys.executable, "-c", code, *argv],
                capture_output=True,
                text=True,
                timeout=timeout,
                env=env,
                cwd=tmp,
            )
        except subprocess.TimeoutExpired:
            return "hang", seed, " ".join(argv)[:300]
        leftovers = [p.name for p in Path(tmp).iterdir() if p.name.endswith(".part")]
        err = p.stderr.strip()
        if leftovers:
            return "internal", seed, f"left {leftovers}"
        if p.returncode == 0:
            made = argv[0] == "plan" or (out.exists() and out.with_suffix(".json").exists())
            return ("composed", seed, "") if made else ("internal", seed, "exit 0, no files")
        one_line = len(err.splitlines()) == 1 and err.startswith("error: ") and len(err) < 700
        if p.returncode == 2 and one_line and not out.exists():
            return "rejected", seed, ""
        return "internal", seed, f"exit {p.returncode}: {err[-400:]}"


def run(kind: str, n: int, start: int, procs: int, timeout: float) -> dict[str, Any]:
    fn = api_case if kind == "api" else cli_case
    counts = {"composed": 0, "rejected": 0, "internal": 0, "hang": 0}
    failures: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    # a fresh worker every few hundred specs: a leak would not build up, and a wedged one goes
    with mp.get_context("fork").Pool(procs, _worker_init, maxtasksperchild=500) as pool:
        for outcome, seed, detail in pool.imap_unordered(
            fn, [(start + i, timeout) for i in range(n)], chunksize=4 if kind == "api" else 1
        ):
            counts[outcome] += 1
            if outcome in ("internal", "hang") and len(failures) < 10:
                failures.append({"outcome": outcome, "seed": seed, "detail": detail})
            done = sum(counts.values())
            if done % (500 if kind == "api" else 20) == 0:  # progress, for long runs
                print(json.dumps({kind: done, **counts}), file=sys.stderr, flush=True)
    return {
        "specs": n,
        "composed": counts["composed"],
        "rejected_cleanly": counts["rejected"],
        "internal_errors": counts["internal"],
        "hangs": counts["hang"],
        "wall_s": round(time.perf_counter() - t0, 1),
        "failures": failures,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--api", type=int, default=10_000, help="random specs through composer.api")
    ap.add_argument("--cli", type=int, default=200, help="random YAML specs through `compose`")
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds a spec may take")
    ap.add_argument("--start", type=int, default=0, help="first seed")
    ap.add_argument("--only-seed", type=int, help="run one API seed here, with its traceback")
    ap.add_argument("--out", type=Path, help="also write the JSON here")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    if args.only_seed is not None:
        spec = random_spec(random.Random(args.only_seed))
        print(json.dumps(spec, ensure_ascii=False))
        from composer.app import api

        api.compose(spec)
        return 0
    result: dict[str, Any] = {"procs": args.procs, "timeout_s": args.timeout}
    if args.api:
        result["api"] = run("api", args.api, args.start, args.procs, args.timeout)
    if args.cli:
        result["cli"] = run("cli", args.cli, args.start, args.procs, args.timeout + 30)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result["peak_worker_rss_mb"] = round(peak)
    text = json.dumps(result, indent=1)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n")
    bad = sum(
        result[k]["internal_errors"] + result[k]["hangs"] for k in ("api", "cli") if k in result
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
