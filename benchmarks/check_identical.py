"""Behaviour unchanged? Compose every ``examples/*.yaml`` and compare the bytes with an earlier run.

    python benchmarks/check_identical.py run OUTDIR          # compose, plan, write SHA256SUMS
    python benchmarks/check_identical.py compare OLD NEW     # exit 1 and list what differs

``run`` composes each example at two fixed seeds with the default generator and with ``rules``
(MIDI + report), and writes ``compose plan`` and ``compose plan --json`` for each, every one in a
fresh ``compose`` process (the console script's own entry point, :func:`composer.cli.main`), so
nothing cached in one run can leak into the next. Run it with ``PYTHONPATH`` set to the tree under
test. ``SHA256SUMS`` lists every file written; ``compare`` compares the files of two runs and
prints one JSON line: reports byte for byte but for their ``timings`` (wall-clock seconds) and
the run's own output folder.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = (1, 2)
GENERATORS = ("default", "rules")  # "default": no --generator flag (the spec's or the default)
ENTRY = "import sys; from composer.cli import main; sys.exit(main(sys.argv[1:]))"


def _compose(args: list[str], stdout: Path | None = None) -> None:
    out = subprocess.run(
        [sys.executable, "-c", ENTRY, *args], capture_output=True, check=False, cwd=ROOT
    )
    if out.returncode != 0:
        raise SystemExit(f"compose {' '.join(args)}: exit {out.returncode}: {out.stderr.decode()}")
    if stdout is not None:
        stdout.write_bytes(out.stdout)


def _write_sums(outdir: Path) -> int:
    sums = {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(outdir.iterdir())
        if p.name != "SHA256SUMS"
    }
    (outdir / "SHA256SUMS").write_text("".join(f"{h}  {n}\n" for n, h in sums.items()))
    return len(sums)


def run(outdir: Path, generators: tuple[str, ...] = GENERATORS) -> None:
    """The quick outputs first (plans, then ``rules``), the default generator's last;
    ``SHA256SUMS`` is brought up to date after every file, so a run cut short still compares."""
    outdir.mkdir(parents=True, exist_ok=True)
    specs = sorted((ROOT / "examples").glob("*.yaml"))
    for spec in specs:
        rel = str(spec.relative_to(ROOT))
        _compose(["plan", "--spec", rel], outdir / f"{spec.stem}.plan.txt")
        _compose(["plan", "--spec", rel, "--json"], outdir / f"{spec.stem}.plan.json")
        _write_sums(outdir)
    for gen in sorted(generators, key=lambda g: g != "rules"):
        for spec in specs:
            for seed in SEEDS:
                midi = outdir / f"{spec.stem}.{gen}.seed{seed}.mid"
                flags = [] if gen == "default" else ["--generator", gen]
                args = ["--spec", str(spec.relative_to(ROOT)), "--seed", str(seed), *flags]
                _compose([*args, "-q", "--force", "-o", str(midi)])
                _write_sums(outdir)
                print(f"{midi.name}", flush=True)
    print(json.dumps({"files": _write_sums(outdir), "out": str(outdir)}))


def _sums(folder: Path) -> dict[str, str]:
    lines = (folder / "SHA256SUMS").read_text().splitlines()
    return {n: h for h, n in (line.split("  ", 1) for line in lines)}


# The one field of a report that is not a function of the spec and seed: wall-clock seconds per
# pass. Reports are compared byte for byte with this block cut out of both.
TIMINGS = re.compile(rb'\n  "timings": \{[^{}]*\},?\n')


def _without_timings(name: str, data: bytes, folder: Path) -> bytes:
    """A report without its timings, and with its own output folder (which it records in the
    output paths) written as ``OUT``, so two runs into different folders compare."""
    if ".seed" in name and name.endswith(".json"):
        data, n = TIMINGS.subn(b"\n", data)
        if n != 1:
            raise SystemExit(f"{name}: expected one timings block, found {n}")
        data = data.replace(str(folder.resolve()).encode(), b"OUT")
    return data


def compare(old: Path, new: Path) -> int:
    """0 when both runs wrote the same files with the same bytes (reports: all but their
    ``timings``); ``missing`` names files only one run has (a run cut short)."""
    a, b = _sums(old), _sums(new)
    common = sorted(a.keys() & b.keys())
    differ = [
        n
        for n in common
        if _without_timings(n, (old / n).read_bytes(), old)
        != _without_timings(n, (new / n).read_bytes(), new)
    ]
    missing = sorted(a.keys() ^ b.keys())
    same = not differ and not missing
    raw = sum(a[n] == b[n] for n in common)
    print(
        json.dumps(
            {
                "compared": len(common),
                "identical": len(common) - len(differ),
                "raw_bytes_identical": raw,
                "differ": differ,
                "missing": missing,
            }
        )
    )
    return 0 if same else 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("outdir", type=Path)
    r.add_argument("--generators", nargs="+", default=list(GENERATORS), choices=GENERATORS)
    c = sub.add_parser("compare")
    c.add_argument("old", type=Path)
    c.add_argument("new", type=Path)
    args = ap.parse_args()
    if args.cmd == "run":
        run(args.outdir, tuple(args.generators))
        return 0
    return compare(args.old, args.new)


if __name__ == "__main__":
    sys.exit(main())
