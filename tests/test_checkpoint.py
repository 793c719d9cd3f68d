"""Composing with a model folder of one's own (``--checkpoint DIR``, ``checkpoint:`` in a spec):
the folder is the one used and named in the report; a wrong folder, or a checkpoint for a
generator that takes none, is one line naming the checkpoint, exit 2, no output."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from composer.cli import main
from composer.generators import registry
from composer.generators.transformer.model import CHECKPOINT
from grammar.errors import GeneratorError

# Two 2-bar sections, 2 candidates each: the model is sampled, quickly.
SPEC = "form: AB\nseed: 3\ncandidates: 2\nsections: {A: {bars: 2}, B: {bars: 2}}\n"


def _spec(tmp_path: Path, extra: str = "") -> str:
    p = tmp_path / "spec.yaml"
    p.write_text(SPEC + extra)
    return str(p)


def _compose(tmp_path: Path, *args: str, name: str = "song.mid") -> tuple[bytes, dict]:
    out = tmp_path / name
    assert main(["--spec", _spec(tmp_path), "-q", *args, "-o", str(out)]) == 0
    return out.read_bytes(), json.loads(out.with_suffix(".json").read_text())


def test_the_checkpoint_given_is_used_and_reported(tmp_path: Path) -> None:
    shipped, rep = _compose(tmp_path, "--generator", "transformer", name="shipped.mid")
    assert rep["generator"] == "transformer" and rep["checkpoint"] is None
    given, rep = _compose(
        tmp_path, "--generator", "transformer", "--checkpoint", str(CHECKPOINT), name="given.mid"
    )
    assert rep["checkpoint"] == str(CHECKPOINT.resolve())
    assert given == shipped  # the same model, named explicitly: the same song


def _retrained(folder: Path) -> Path:
    """A model of one's own: the shipped one with its weights changed, saved as `compose
    train --out` saves it (HF format + vocabulary)."""
    import torch

    from composer.generators.transformer.model import load_model

    model = load_model(CHECKPOINT)
    with torch.no_grad():
        gen = torch.Generator().manual_seed(0)
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=gen) * p.std() * 0.5)
    model.save_pretrained(folder)
    shutil.copy(CHECKPOINT / "vocab.json", folder)
    return folder


def test_a_spec_names_its_own_model_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _retrained(tmp_path / "my_model")
    monkeypatch.chdir(tmp_path)
    shipped, _ = _compose(tmp_path, "--generator", "transformer", name="shipped.mid")
    out = tmp_path / "mine.mid"
    spec = _spec(tmp_path, "generator: transformer\ncheckpoint: my_model\n")
    assert main(["--spec", spec, "-q", "-o", str(out)]) == 0
    rep = json.loads(out.with_suffix(".json").read_text())
    assert rep["checkpoint"] == str((tmp_path / "my_model").resolve())
    assert out.read_bytes() != shipped  # another model, other melodies


def _copy(src: Path, dst: Path, names: tuple[str, ...]) -> None:
    dst.mkdir()
    for name in names:
        (dst / name).symlink_to(src / name)


def _no_weights(folder: Path) -> None:
    _copy(CHECKPOINT, folder, ("config.json", "vocab.json"))


def _no_config(folder: Path) -> None:
    # loading weights without their config.json builds a default-sized Llama: never try
    _copy(CHECKPOINT, folder, ("model.safetensors", "vocab.json"))


def _other_vocabulary(folder: Path) -> None:
    _copy(CHECKPOINT, folder, ("config.json", "model.safetensors"))
    vocab = json.loads((CHECKPOINT / "vocab.json").read_text())
    vocab["Pitch_60"], vocab["Pitch_61"] = vocab["Pitch_61"], vocab["Pitch_60"]
    (folder / "vocab.json").write_text(json.dumps(vocab))


def _broken_weights(folder: Path) -> None:
    _copy(CHECKPOINT, folder, ("config.json", "vocab.json"))
    (folder / "model.safetensors").write_bytes(b"not a safetensors file")


def _a_file(folder: Path) -> None:
    folder.write_text("a file, not a folder")


BAD: list[tuple[str, Callable[[Path], None] | None, list[str], str]] = [
    # (id, what to put at the checkpoint path, other flags, what the one line must say)
    ("missing folder", None, ["--generator", "transformer"], "checkpoint: no such folder '"),
    ("a file", _a_file, ["--generator", "transformer"], "is a file, not a folder"),
    ("no weights", _no_weights, ["--generator", "transformer"], "no model.safetensors in '"),
    ("no config", _no_config, ["--generator", "transformer"], "no config.json in '"),
    (
        "other vocabulary",
        _other_vocabulary,
        ["--generator", "transformer"],
        "vocab.json does not match this version's vocabulary",
    ),
    ("broken weights", _broken_weights, ["--generator", "transformer"], "cannot load the model"),
    (
        "a generator without a model",
        _no_weights,  # the generator is refused before the folder is looked at
        ["--generator", "rules"],
        "checkpoint: the 'rules' generator takes no checkpoint (generators that do: transformer)",
    ),
    ("rules generator", None, ["--generator", "rules"], "the 'rules' generator takes no"),
]


@pytest.mark.parametrize("case", BAD, ids=[c[0] for c in BAD])
def test_a_bad_checkpoint_is_one_line_exit_2_no_output(
    case: tuple, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, make, flags, words = case
    folder = tmp_path / "model"
    if make is not None:
        make(folder)
    out = tmp_path / "song.mid"
    args = ["--spec", _spec(tmp_path), "-q", *flags, "--checkpoint", str(folder), "-o", str(out)]
    assert main(args) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: checkpoint: ") and words in lines[0], lines[0]
    assert "Traceback" not in err
    assert not out.exists() and not out.with_suffix(".json").exists()


def test_the_spec_field_is_checked_like_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "song.mid"
    for extra, words in (
        ("checkpoint: ''\n", "error: checkpoint: is empty"),
        ("generator: rules\ncheckpoint: nope\n", "error: checkpoint: the 'rules' generator takes"),
        ("checkpoint: nope\n", "error: checkpoint: no such folder"),  # the default takes one
    ):
        assert main(["--spec", _spec(tmp_path, extra), "-q", "-o", str(out)]) == 2
        assert capsys.readouterr().err.startswith(words)
        assert not out.exists()


def test_a_plugin_takes_a_checkpoint_by_declaring_one(tmp_path: Path) -> None:
    """A generator takes a checkpoint when its factory has a ``checkpoint`` parameter."""
    from composer.generators.rules.generator import RuleGenerator

    seen: list[Path] = []

    def factory(checkpoint: Path | None = None) -> RuleGenerator:
        seen.append(checkpoint or Path())
        return RuleGenerator()

    registry.register("with-model", factory)
    try:
        assert registry.takes_checkpoint(factory)
        assert isinstance(registry.get_generator("with-model", tmp_path), RuleGenerator)
        assert seen == [tmp_path]
        with pytest.raises(GeneratorError, match=r"^checkpoint: the 'rules' generator"):
            registry.get_generator("rules", tmp_path)
    finally:
        registry.unregister("with-model")


def test_the_schema_and_the_help_name_it() -> None:
    from typer.testing import CliRunner

    from composer.app.api import spec_schema
    from composer.cli import app

    assert "checkpoint" in spec_schema()["properties"]
    help_text = " ".join(CliRunner().invoke(app, ["--help"]).stdout.split())
    assert "--checkpoint MODELDIR" in help_text and "--generator transformer" in help_text


def test_the_factory_builds_the_transformer_on_the_folder() -> None:
    from composer.generators.transformer.user_model import transformer

    gen = transformer(CHECKPOINT)
    assert gen.name == "transformer" and gen.checkpoint == CHECKPOINT
    assert transformer().checkpoint == CHECKPOINT  # none given: the shipped model


def test_train_says_how_to_compose_with_its_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from composer.training import melody as train

    metrics = {"parameters": 10, "steps": 1, "valid_loss": 1.0, "test_perplexity": 2.7}
    monkeypatch.setattr(train, "train", lambda cfg, progress, resume, force: metrics)
    data = tmp_path / "tunes"  # the data folder is checked before any work: it needs music
    data.mkdir()
    (data / "tune.mid").write_bytes(b"")
    out = tmp_path / "my_model"
    assert main(["train", "--data", str(data), "--out", str(out), "-q"]) == 0
    assert capsys.readouterr().out == ""
    assert main(["train", "--data", str(data), "--out", str(out)]) == 0
    line = capsys.readouterr().out.strip()
    assert line.endswith(f"compose with it: --generator transformer --checkpoint {out}")
