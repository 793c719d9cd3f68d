"""`compose batch`: one task per song with its own seed, bad specs reported and skipped over,
resumable, and the same bytes alone, in a batch, on 1 or 2 workers."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from composer.app import api
from composer.batch import Task, collect, derived_seed, run_batch
from composer.cli import main

SPECS = {
    "one": "form: AB\ngenerator: rules\ncandidates: 3\nseed: 3\n",
    "two": "form: ABA\ngenerator: rules\ncandidates: 3\nkey: D minor\n",  # no seed: derived
    "bad": "form: AB\ntempo: 999\n",
}


def _specs(tmp_path: Path) -> Path:
    d = tmp_path / "specs"
    d.mkdir()
    for name, text in SPECS.items():
        (d / f"{name}.yaml").write_text(text)
    return d


def _summary(out: Path) -> dict:
    return {s["name"]: s for s in json.loads((out / "summary.json").read_text())["songs"]}


def test_derived_seeds_are_stable_and_per_name() -> None:
    assert derived_seed(0, "two") == derived_seed(0, "two")
    assert derived_seed(0, "two") != derived_seed(0, "one")
    assert derived_seed(0, "two") != derived_seed(1, "two")
    assert 0 <= derived_seed(7, "x") < 2**31


def test_a_bad_spec_is_one_error_and_the_others_go_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = _specs(tmp_path)
    jl = tmp_path / "more.jsonl"
    jl.write_text('{"name": "j", "form": "AB", "generator": "rules", "candidates": 2}\nnope\n')
    out = tmp_path / "out"
    assert main(["batch", str(d), str(jl), "--out", str(out), "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "error: bad: tempo: 999 is above 300 bpm",
        f"error: more-002: {jl}:2: not JSON: Expecting value",
    ]
    rows = _summary(out)
    assert [rows[n]["status"] for n in ("bad", "one", "two", "j", "more-002")] == [
        "error", "ok", "ok", "ok", "error"
    ]  # fmt: skip
    assert rows["one"]["seed"] == 3 and rows["two"]["seed"] == derived_seed(0, "two")
    assert rows["one"]["outputs"] == [str(out / "one.mid"), str(out / "one.json")]
    assert all(rows[n]["seconds"] > 0 for n in ("one", "two", "j"))
    assert not (out / "bad.mid").exists()
    # the same bytes as composing the spec alone with that seed
    alone = api.compose(api.build_spec(d / "two.yaml", {"seed": rows["two"]["seed"]}))
    assert (out / "two.mid").read_bytes() == alone.midi


def test_resume_skips_what_is_done_and_redoes_what_changed(tmp_path: Path) -> None:
    d = _specs(tmp_path)
    (d / "bad.yaml").unlink()
    out = tmp_path / "out"
    first = run_batch(collect([d]), out)
    assert first["counts"] == {"ok": 2, "skipped": 0, "error": 0}
    again = run_batch(collect([d]), out)
    assert again["counts"] == {"ok": 0, "skipped": 2, "error": 0}
    (out / "one.mid").write_bytes(b"garbage")  # no longer valid: composed again
    (d / "two.yaml").write_text(SPECS["two"].replace("D minor", "E minor"))  # a changed spec
    third = run_batch(collect([d]), out)
    assert third["counts"] == {"ok": 2, "skipped": 0, "error": 0}
    assert (out / "one.mid").read_bytes()[:4] == b"MThd"


def test_files_it_did_not_write_are_not_overwritten(tmp_path: Path) -> None:
    d = _specs(tmp_path)
    (d / "bad.yaml").unlink()
    out = tmp_path / "out"
    out.mkdir()
    (out / "one.mid").write_bytes(b"mine")
    rows = {s["name"]: s for s in run_batch(collect([d]), out)["songs"]}
    assert rows["one"]["status"] == "error" and "exists" in rows["one"]["error"]
    assert (out / "one.mid").read_bytes() == b"mine"
    assert rows["two"]["status"] == "ok"


@pytest.mark.slow
def test_one_or_two_workers_write_the_same_bytes(tmp_path: Path) -> None:
    d = _specs(tmp_path)
    (d / "bad.yaml").unlink()
    (d / "three.yaml").write_text("form: AAB\ngenerator: rules\ncandidates: 2\nstyle: waltz\n")
    run_batch(collect([d], 5), tmp_path / "w1", workers=1)
    s2 = run_batch(collect([d], 5), tmp_path / "w2", workers=2)
    assert s2["counts"]["ok"] == 3
    for name in ("one", "two", "three"):
        assert (tmp_path / "w1" / f"{name}.mid").read_bytes() == (
            tmp_path / "w2" / f"{name}.mid"
        ).read_bytes()


def test_a_missing_source_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["batch", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]) == 2
    assert (
        capsys.readouterr().err.strip()
        == f"error: SPECS: no such file or folder '{tmp_path / 'nope'}'"
    )
    (tmp_path / "s.yaml").write_text(SPECS["one"])
    assert main(["batch", str(tmp_path), "--out", str(tmp_path / "o"), "--workers", "0"]) == 2
    assert capsys.readouterr().err.strip() == "error: --workers: must be at least 1, got 0"


def test_ray_missing_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray: ImportError
    d = _specs(tmp_path)
    assert main(["batch", str(d), "--out", str(tmp_path / "o"), "--ray", "-q"]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: --ray: Ray is not installed; install the extra: pip install 'songc[ray]'"
    )
    assert not (tmp_path / "o").exists()


@pytest.fixture(scope="module")
def ray_runtime() -> Iterator[Any]:
    """One local Ray runtime for the Ray tests (ray_pool uses it and leaves it running)."""
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'songc[ray]')")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.mark.slow
def test_ray_writes_the_same_bytes_and_the_same_summary(tmp_path: Path, ray_runtime: Any) -> None:
    from composer.batch_ray import ray_pool

    d = _specs(tmp_path)
    (d / "three.yaml").write_text("form: AB\ncandidates: 2\nseed: 9\n")  # the transformer
    local = run_batch(collect([d], 5), tmp_path / "local", workers=1)
    on_ray = run_batch(collect([d], 5), tmp_path / "ray", 2, executor=ray_pool(None, 2))
    assert on_ray["counts"] == local["counts"] == {"ok": 3, "skipped": 0, "error": 1}
    rows = {s["name"]: s for s in on_ray["songs"]}
    assert rows["bad"]["error"] == "tempo: 999 is above 300 bpm"
    for name in ("one", "two", "three"):  # the MIDI: the same bytes (the report has timings)
        assert (tmp_path / "ray" / f"{name}.mid").read_bytes() == (
            tmp_path / "local" / f"{name}.mid"
        ).read_bytes()
        outs = [str(tmp_path / "ray" / f"{name}{s}") for s in (".mid", ".json")]
        assert rows[name]["outputs"] == outs and rows[name]["seconds"] > 0
    # resumed on Ray: nothing left to do
    again = run_batch(collect([d], 5), tmp_path / "ray", 2, executor=ray_pool(None, 2))
    assert again["counts"] == {"ok": 0, "skipped": 3, "error": 1}


@pytest.mark.slow
def test_a_ray_worker_loads_the_model_once(ray_runtime: Any) -> None:
    from composer.batch_ray import _Worker

    tasks = [
        Task(f"s{i}", "test", {"form": "A", "candidates": 1, "seed": i}) for i in range(3)
    ]  # the default generator: the transformer
    ray = ray_runtime
    worker = ray.remote(num_cpus=1)(_Worker).remote()
    rows = ray.get([worker.compose.remote(t, "cpu") for t in tasks])
    assert [r["status"] for r in rows] == ["ok"] * 3
    assert ray.get(worker.model_loads.remote()) == 1
    ray.kill(worker)


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1:1", "cannot reach a Ray cluster at '127.0.0.1:1': "),
        ("nohost", "is not HOST:PORT"),
    ],
)
def test_an_unreachable_ray_address_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], address: str, why: str
) -> None:
    pytest.importorskip("ray", reason="Ray is not installed (pip install 'songc[ray]')")
    d = _specs(tmp_path)
    assert main(["batch", str(d), "--out", str(tmp_path / "o"), "--ray-address", address]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --ray-address: ") and why in err and "\n" not in err
    assert not (tmp_path / "o").exists()
