"""``compose train``: corpus -> tokens -> a trained checkpoint (resumable), with its model card.

The loss is taken only on the tokens the model chooses when it generates (Bar, Position, Pitch,
Duration, EOS); the conditioning (key, meter, role, length, source) and the chord tokens are
given, so predicting them would only spend capacity. Validation loss is per chosen token (nats);
test perplexity is ``exp`` of the same on the test split.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from composer.generators.transformer.model import CHECKPOINT, ModelConfig, new_model, parameters
from composer.generators.transformer.tokens import CHORD, OTHER, PHRASE, Vocab
from composer.training import melody_data as data_mod
from composer.training.melody_labels import LABELS_VERSION, piece_label, tune_fields
from composer.training.melody_windows import sections
from grammar.errors import SpecError, shorten


@dataclass(frozen=True)
class TrainConfig:
    out: Path = CHECKPOINT
    data: Path | None = None  # a user's folder of MIDI/MusicXML/ABC; None: music21's corpus
    steps: int = 600  # ~1.1 passes over the corpus at batch_tokens; ~20 min on one CPU thread
    batch_tokens: int = 6144  # ~40 sections of ~150 tokens: the largest that keeps 2 cores busy
    lr: float = 2e-3  # small models want a large rate; warmup + cosine decay keep it stable
    warmup: int = 100
    eval_every: int = 250
    eval_tokens: int = 120_000  # a fixed slice of the validation set for the periodic checks
    seed: int = 0
    threads: int = 2
    workers: int = 2  # processes parsing the corpus (first build only: it is cached)
    device: str = "cpu"  # "cuda" trains larger models on a GPU with the same command
    max_minutes: float | None = None  # stop early (after a validation and a save) past this
    model: ModelConfig = field(default_factory=ModelConfig)
    # warm start: the weights of a checkpoint whose vocabulary this one extends (a version-1
    # checkpoint: the new tokens' embeddings start at the mean of the old ones); None: scratch
    init: Path | None = None


Progress = Callable[[str, int, int, dict[str, float]], None]


def _silent(stage: str, done: int, total: int, info: dict[str, float]) -> None:
    return None


def encode(
    vocab: Vocab, examples: list[data_mod.Example], root: Path | None = None
) -> list[np.ndarray]:
    """Every section of every piece as int32 ids; chosen tokens are marked by a negative sign
    bit packed into a second row (row 0 ids, row 1 1/0 loss mask). Pieces are labelled by
    :func:`composer.training.melody_labels.piece_label` (``root``: where the ABC files are, to
    read their tune types)."""
    out = []
    given = (OTHER, CHORD, PHRASE)
    for ex in examples:
        style, tempo = piece_label(ex.corpus, ex.path, ex.meter, *tune_fields(ex.path, root))
        for s in sections(ex, style, tempo):
            try:
                ids = vocab.encode(s)
            except KeyError:  # a meter the vocabulary has no token for
                continue
            n_prefix = len(vocab.prefix(s))
            arr = np.array(ids, dtype=np.int32)
            mask = np.ones(len(ids), dtype=np.int32)
            mask[:n_prefix] = 0
            mask[np.isin(vocab.kind[arr], given)] = 0
            out.append(np.stack([arr, mask]))
    return out


def dataset(cfg: TrainConfig, vocab: Vocab, progress: Progress) -> dict[str, list[np.ndarray]]:
    """Tokenised splits, cached next to the parsed corpus (the same inputs give the same ids)."""
    if cfg.data is None:
        files, root = data_mod.corpus_files(), None
    else:
        files, root = data_mod.user_files(cfg.data), cfg.data.resolve()
    examples = data_mod.build_examples(
        files, root, cfg.workers, lambda i, n: progress("parse", i, n, {})
    )
    if not examples:
        raise SpecError("data", "no usable melodies (one meter, at least two bars) were found")
    _check_split(data_mod.splits(examples))
    digest = hashlib.sha1(
        json.dumps([e.to_json() for e in examples], sort_keys=True).encode()
        + json.dumps(vocab.ids, sort_keys=True).encode()
        + f"labels-v{LABELS_VERSION}".encode()
    ).hexdigest()[:16]
    cache = data_mod.cache_dir() / f"tokens-{digest}.npz"
    out: dict[str, list[np.ndarray]] = {}
    if cache.exists():
        with np.load(cache) as z:
            for split in ("train", "valid", "test"):
                flat, lens = z[f"{split}_ids"], z[f"{split}_lens"]
                out[split] = list(np.split(flat, np.cumsum(lens)[:-1], axis=1)) if len(lens) else []
        return out
    parts = data_mod.splits(examples)
    arrays = {}
    for split, exs in parts.items():
        out[split] = encode(vocab, exs, data_mod._corpus_root() if root is None else root)
        lens = np.array([a.shape[1] for a in out[split]], dtype=np.int64)
        flat = np.concatenate(out[split], axis=1) if out[split] else np.zeros((2, 0), np.int32)
        arrays[f"{split}_ids"], arrays[f"{split}_lens"] = flat, lens
    np.savez_compressed(cache, **arrays)  # type: ignore[arg-type]
    return out


# The held-out split takes about 1 piece in 20 for validation (by a hash of the file name,
# composer.evaluation.corpus_split): with fewer than this many, it is likely to hold none.
ENOUGH_PIECES = 40


def _check_split(parts: dict[str, list[Any]]) -> None:
    if parts["train"] and parts["valid"]:
        return
    n = sum(len(v) for v in parts.values())
    raise SpecError(
        "data",
        f"{n} usable piece{'s' if n != 1 else ''} ({len(parts['train'])} for training, "
        f"{len(parts['valid'])} for validation): training needs at least one of each; the "
        f"validation split holds out about 1 piece in 20 by file name, so give at least "
        f"{ENOUGH_PIECES} pieces",
    )


def batches(
    seqs: list[np.ndarray], batch_tokens: int, rng: np.random.Generator | None
) -> list[list[int]]:
    """Indices grouped by similar length so padding is small; shuffled if ``rng`` is given."""
    order = sorted(range(len(seqs)), key=lambda i: seqs[i].shape[1])
    out: list[list[int]] = []
    cur: list[int] = []
    for i in order:
        longest = max([seqs[j].shape[1] for j in cur] + [seqs[i].shape[1]])
        if cur and longest * (len(cur) + 1) > batch_tokens:
            out.append(cur)
            cur = []
        cur.append(i)
    if cur:
        out.append(cur)
    if rng is not None:
        rng.shuffle(out)
    return out


def collate(seqs: list[np.ndarray], idx: list[int], pad: int) -> tuple[Any, Any, Any]:
    import torch

    n = max(seqs[i].shape[1] for i in idx)
    ids = np.full((len(idx), n), pad, dtype=np.int64)
    labels = np.full((len(idx), n), -100, dtype=np.int64)
    att = np.zeros((len(idx), n), dtype=np.int64)
    for r, i in enumerate(idx):
        a = seqs[i]
        ids[r, : a.shape[1]] = a[0]
        labels[r, : a.shape[1]] = np.where(a[1] == 1, a[0], -100)
        att[r, : a.shape[1]] = 1
    return torch.from_numpy(ids), torch.from_numpy(labels), torch.from_numpy(att)


def evaluate(model: Any, seqs: list[np.ndarray], pad: int, device: str, limit: int | None) -> float:
    """Mean loss per chosen token (nats) over ``seqs`` (the first ``limit`` tokens' worth)."""
    import torch

    model.eval()
    total, count, seen = 0.0, 0, 0
    with torch.no_grad():
        for idx in batches(seqs, 8192, None):
            ids, labels, att = (t.to(device) for t in collate(seqs, idx, pad))
            logits = model(input_ids=ids, attention_mask=att).logits[:, :-1]
            tgt = labels[:, 1:]
            loss = torch.nn.functional.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1), reduction="sum"
            )
            total += float(loss)
            count += int((tgt != -100).sum())
            seen += int(att.sum())
            if limit is not None and seen >= limit:
                break
    model.train()
    return total / max(count, 1)


def check_device(device: str) -> None:
    """SpecError naming ``--device`` unless torch can train on it here (cpu, cuda, cuda:N, mps)."""
    from composer.generators.transformer.gpu import check_device as check

    check(device, ("cpu", "cuda", "mps"))


def preflight(cfg: TrainConfig, force: bool = False) -> None:
    """Everything that can be checked before any work: the device, the data folder, and an
    output that replaces nothing it should not (the shipped checkpoint needs ``force``)."""
    check_device(cfg.device)
    if cfg.data is not None:
        data_mod.user_files(cfg.data)  # a folder with music files in it, or SpecError
    out, shown = cfg.out, shorten(cfg.out, 120)
    if out.resolve() == CHECKPOINT.resolve() and not force:
        raise SpecError(
            "--out",
            "without --out this replaces the shipped checkpoint: pass --force to rebuild it, "
            "or --out DIR for a new model",
        )
    if out.exists() and not out.is_dir():
        raise SpecError("--out", f"'{shown}' is a file; name a folder for the checkpoint")
    if out.is_dir() and any(out.iterdir()) and not (out / "config.json").is_file():
        raise SpecError("--out", f"'{shown}' holds other files; name a new or empty folder")
    parent = out if out.is_dir() else out.parent
    if not parent.is_dir():
        raise SpecError("--out", f"folder '{shorten(parent, 120)}' does not exist")
    if not os.access(parent, os.W_OK):
        raise SpecError("--out", f"folder '{shorten(parent, 120)}' is not writable")


def _load_state(path: Path, device: str) -> dict[str, Any]:
    """The saved optimizer state, read with ``weights_only=True``: tensors and plain data only,
    so a file planted in the cache cannot run code."""
    import pickle

    import torch

    try:
        st = torch.load(path, map_location=device, weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, OSError) as exc:
        raise SpecError(
            "--resume",
            f"the saved training state '{shorten(path, 120)}' cannot be read safely "
            f"({shorten(exc, 100)}); rerun with --no-resume to start over",
        ) from None
    if not isinstance(st, dict) or not {"model", "opt", "step", "best", "log"} <= set(st):
        raise SpecError(
            "--resume",
            f"'{shorten(path, 120)}' is not a training state; rerun with --no-resume",
        )
    return st


def train(
    cfg: TrainConfig, progress: Progress = _silent, resume: bool = True, force: bool = False
) -> dict[str, Any]:
    """Train (or resume) and write the best checkpoint to ``cfg.out``; returns the metrics.
    Replacing the shipped checkpoint (the default ``out``) needs ``force``."""
    import torch

    preflight(cfg, force)
    torch.set_num_threads(cfg.threads)
    vocab = Vocab()
    splits = dataset(cfg, vocab, progress)
    if not splits["train"] or not splits["valid"]:
        raise SpecError("data", "too few usable sections for a training and a validation split")
    pad, bos, eos = vocab["PAD_None"], vocab["BOS_None"], vocab["EOS_None"]
    model = new_model(cfg.model, len(vocab), pad, bos, eos)
    if cfg.init is not None:
        warm_start(model, cfg.init, vocab)
    model = model.to(cfg.device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, betas=(0.9, 0.95), weight_decay=0.1)
    # optimizer state for --resume: beside the corpus cache, never in the shipped checkpoint
    key = hashlib.sha1(str(cfg.out.resolve()).encode()).hexdigest()[:12]
    state_path = data_mod.cache_dir() / f"train-state-{key}.pt"
    step, best, log = 0, math.inf, []
    if resume and state_path.exists():
        st = _load_state(state_path, cfg.device)
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["opt"])
        step, best, log = st["step"], st["best"], st["log"]
    rng = np.random.default_rng(cfg.seed)
    epoch_batches: list[list[int]] = []
    for _ in range(step):  # replay the batch order so a resumed run sees the same batches
        if not epoch_batches:
            epoch_batches = batches(splits["train"], cfg.batch_tokens, rng)
        epoch_batches.pop()
    t0, tokens = time.perf_counter(), 0
    model.train()
    stopped_early = False
    while step < cfg.steps:
        if not epoch_batches:
            epoch_batches = batches(splits["train"], cfg.batch_tokens, rng)
        ids, labels, att = (
            t.to(cfg.device) for t in collate(splits["train"], epoch_batches.pop(), pad)
        )
        lr = cfg.lr * min(1.0, (step + 1) / cfg.warmup)
        lr *= 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, step / cfg.steps)))
        for g in opt.param_groups:
            g["lr"] = lr
        loss = model(input_ids=ids, attention_mask=att, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        step += 1
        tokens += int(att.sum())
        info = {"loss": float(loss.detach()), "tok/s": tokens / (time.perf_counter() - t0)}
        late = cfg.max_minutes is not None and time.perf_counter() - t0 > 60 * cfg.max_minutes
        if step % cfg.eval_every == 0 or step == cfg.steps or late:
            info["val"] = evaluate(model, splits["valid"], pad, cfg.device, cfg.eval_tokens)
            row = {"step": step, "train_loss": round(info["loss"], 4), "val_loss": info["val"]}
            log.append(row)
            if info["val"] < best:
                best = info["val"]
                _save(model, vocab, cfg.out)
            torch.save(
                {
                    "model": model.state_dict(),
                    "opt": opt.state_dict(),
                    "step": step,
                    "best": best,
                    "log": log,
                },
                state_path,
            )
        progress("train", step, cfg.steps, info)
        if late:
            stopped_early = True
            break
    from composer.generators.transformer.model import load_model

    final = load_model(cfg.out).to(cfg.device)
    metrics = {
        "parameters": parameters(final),
        "steps": step,
        "stopped_early": stopped_early,
        "train_seconds": round(time.perf_counter() - t0, 1),
        "valid_loss": evaluate(final, splits["valid"], pad, cfg.device, None),
        "test_loss": evaluate(final, splits["test"], pad, cfg.device, None),
        "sections": {k: len(v) for k, v in splits.items()},
        "tokens": {k: int(sum(a.shape[1] for a in v)) for k, v in splits.items()},
        "labels": label_counts(vocab, splits),
        "log": log,
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(cfg).items()},
    }
    metrics["test_perplexity"] = math.exp(float(metrics["test_loss"]))  # type: ignore[arg-type]
    (cfg.out / "training.json").write_text(json.dumps(metrics, indent=1, default=str) + "\n")
    return metrics


def warm_start(model: Any, folder: Path, vocab: Vocab) -> None:
    """Copy ``folder``'s weights into ``model`` (same shape but for the vocabulary, whose ids
    must be a prefix of ``vocab``'s); the rows of the added tokens start at the old rows' mean.
    SpecError naming ``--init`` otherwise."""
    import torch
    from safetensors.torch import load_file

    try:
        old_vocab = Vocab.of_checkpoint(folder)
        state = load_file(str(folder / "model.safetensors"))
    except (OSError, ValueError) as exc:
        problem = f"cannot read {shorten(folder, 120)}: {shorten(exc, 120)}"
        raise SpecError("--init", problem) from None
    if any(vocab.ids.get(t) != i for t, i in old_vocab.ids.items()):
        problem = f"{shorten(folder, 120)}: its vocabulary is not a prefix of this one"
        raise SpecError("--init", problem)
    own = model.state_dict()
    n_old = len(old_vocab)
    with torch.no_grad():
        for name, tensor in state.items():
            if name not in own:
                raise SpecError("--init", f"{shorten(folder, 120)}: unexpected weight {name}")
            target = own[name]
            if tuple(tensor.shape) == tuple(target.shape):
                target.copy_(tensor)
            elif tensor.shape[0] == n_old and tuple(tensor.shape[1:]) == tuple(target.shape[1:]):
                target[:n_old].copy_(tensor)
                target[n_old:].copy_(tensor.mean(dim=0, keepdim=True).expand_as(target[n_old:]))
            else:
                raise SpecError("--init", f"{shorten(folder, 120)}: {name} has another shape")


LABEL_SLOTS = {"style": 3, "tempo": 4, "energy": 5}  # their places in the prefix (tokens.Vocab)


def label_counts(vocab: Vocab, splits: dict[str, list[np.ndarray]]) -> dict[str, Any]:
    """Sections per conditioning label (style, tempo band, energy band) per split."""
    out: dict[str, Any] = {}
    for name, slot in LABEL_SLOTS.items():
        out[name] = {}
        for split, seqs in splits.items():
            counts: dict[str, int] = {}
            for a in seqs:
                tok = vocab.tokens[int(a[0, slot])].split("_", 1)[1]
                counts[tok] = counts.get(tok, 0) + 1
            out[name][split] = dict(sorted(counts.items()))
    return out


def _save(model: Any, vocab: Vocab, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out), safe_serialization=True)
    vocab.save(out)
