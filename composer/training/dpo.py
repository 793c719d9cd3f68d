"""Direct Preference Optimisation (Rafailov et al. 2023) for the melody model: the loss, the
sequence log-probabilities it needs, and preference pairs from scored samples.

For a context ``x`` and two completions, chosen ``y_w`` and rejected ``y_l``::

    loss = -log sigmoid(beta * ((log pi(y_w|x) - log ref(y_w|x))
                                - (log pi(y_l|x) - log ref(y_l|x))))

``pi`` is the policy being trained, ``ref`` the frozen reference (the input checkpoint). A
completion's log-probability is the sum over the tokens the model *chooses* (bar lines,
positions, pitches, durations, end), exactly the tokens ``compose train``'s loss counts
(:func:`composer.training.melody.encode`): the conditioning and the chord tokens are given, not
chosen, so they carry no preference.

With ``sft`` > 0 the loss adds ``sft`` times the policy's negative log-likelihood of the chosen
completions, per chosen token (RPO, Pang et al. 2024, "DPO+NLL"): DPO alone can lower the
chosen's likelihood too, as long as the rejected's falls faster, which lets the policy drift off
the corpus; the NLL term keeps the chosen samples (the reference's own, the rewards' best)
likely.

Nothing here knows the vocabulary: a caller passes which ids are given (``given``, a boolean
table over the vocabulary), so a checkpoint with more conditioning tokens works unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Sample:
    """One sampled completion of one context, with what the reward said of it."""

    completion: tuple[int, ...]  # token ids after the prefix, EOS included
    utility: float  # what the preference is taken from (higher = better)


@dataclass(frozen=True)
class Pair:
    """A preference: for ``prefix``, ``chosen`` beat ``rejected`` by ``margin`` in utility."""

    prefix: tuple[int, ...]
    chosen: tuple[int, ...]
    rejected: tuple[int, ...]
    margin: float


def make_pairs(
    prefix: Sequence[int], samples: Sequence[Sample], margin: float, most: int = 1
) -> list[Pair]:
    """Up to ``most`` pairs of one context's samples, ranked by utility (ties: the earlier):
    best against worst, second best against second worst, ... (disjoint pairs, so no sample
    is pushed both ways); a pair whose utilities are less than ``margin`` apart (no clear
    preference) or whose completions are the same is left out."""
    order = sorted(range(len(samples)), key=lambda i: (-samples[i].utility, i))
    out = []
    for k in range(min(most, len(samples) // 2)):
        best, worst = samples[order[k]], samples[order[-1 - k]]
        gap = best.utility - worst.utility
        if gap >= margin and best.completion != worst.completion:
            out.append(Pair(tuple(prefix), best.completion, worst.completion, float(gap)))
    return out


def make_pair(prefix: Sequence[int], samples: Sequence[Sample], margin: float) -> Pair | None:
    """Best against worst of one context's samples (:func:`make_pairs` with one pair), or
    None when there is no clear preference."""
    pairs = make_pairs(prefix, samples, margin, 1)
    return pairs[0] if pairs else None


def choice_mask(ids: np.ndarray, prefix_len: int, given: np.ndarray) -> np.ndarray:
    """1 where ``ids`` holds a token the model chooses (after the prefix, not a given kind)."""
    mask = np.ones(len(ids), dtype=np.float32)
    mask[:prefix_len] = 0
    mask[given[ids]] = 0
    return mask


def sequence_logprobs(
    model: Any,
    sequences: Sequence[tuple[Sequence[int], Sequence[int]]],
    given: np.ndarray,
    pad_id: int,
    device: str = "cpu",
) -> Any:
    """Sum of log-probabilities of the chosen tokens of every (prefix, completion): a float
    tensor of shape (len(sequences),), differentiable through ``model`` (a causal LM called as
    ``model(input_ids=..., attention_mask=...).logits``). Rows are right-padded, so padding
    never precedes a counted token."""
    import torch

    n = max(len(p) + len(c) for p, c in sequences)
    ids = np.full((len(sequences), n), pad_id, dtype=np.int64)
    att = np.zeros((len(sequences), n), dtype=np.int64)
    mask = np.zeros((len(sequences), n), dtype=np.float32)
    for r, (p, c) in enumerate(sequences):
        row = np.array([*p, *c], dtype=np.int64)
        ids[r, : len(row)] = row
        att[r, : len(row)] = 1
        mask[r, : len(row)] = choice_mask(row, len(p), given)
    t_ids = torch.from_numpy(ids).to(device)
    logits = model(input_ids=t_ids, attention_mask=torch.from_numpy(att).to(device)).logits
    logp = torch.log_softmax(logits[:, :-1].float(), dim=-1)
    tok = logp.gather(-1, t_ids[:, 1:, None]).squeeze(-1)
    return (tok * torch.from_numpy(mask[:, 1:]).to(device)).sum(dim=1)


def choice_counts(
    sequences: Sequence[tuple[Sequence[int], Sequence[int]]], given: np.ndarray
) -> np.ndarray:
    """How many tokens :func:`sequence_logprobs` counts in each (prefix, completion)."""
    return np.array(
        [choice_mask(np.array([*p, *c], dtype=np.int64), len(p), given)[1:].sum()
         for p, c in sequences],
        dtype=np.float32,
    )  # fmt: skip


def dpo_loss(
    policy_chosen: Any, policy_rejected: Any, ref_chosen: Any, ref_rejected: Any, beta: float,
    sft: float = 0.0, chosen_tokens: Any = None,
) -> tuple[Any, dict[str, float]]:  # fmt: skip
    """The mean DPO loss over pairs (tensors of sequence log-probs, shape (pairs,)), and its
    diagnostics: ``accuracy`` (share of pairs whose implicit reward prefers the chosen),
    ``chosen_reward`` / ``rejected_reward`` (mean ``beta * (log pi - log ref)``), ``nll``
    (the policy's NLL of the chosen per token). With ``sft`` > 0, plus ``sft`` times that NLL
    (RPO; ``chosen_tokens``: the chosen completions' counted tokens, shape (pairs,))."""
    import torch

    chosen = beta * (policy_chosen - ref_chosen)
    rejected = beta * (policy_rejected - ref_rejected)
    logits = chosen - rejected
    loss = -torch.nn.functional.logsigmoid(logits).mean()
    count = torch.ones_like(policy_chosen) if chosen_tokens is None else chosen_tokens
    nll = (-policy_chosen / count.clamp(min=1)).mean()
    if sft > 0:
        loss = loss + sft * nll
    stats = {
        "accuracy": float((logits > 0).float().mean()),
        "chosen_reward": float(chosen.detach().mean()),
        "rejected_reward": float(rejected.detach().mean()),
        "nll": float(nll.detach()),
    }
    return loss, stats


def kl_estimate(policy_logp: np.ndarray, ref_logp: np.ndarray) -> float:
    """KL(pi || ref) per sequence, estimated on sequences sampled from the policy: the mean of
    ``log pi(y) - log ref(y)`` (0 when the two models are the same)."""
    if len(policy_logp) == 0:
        return 0.0
    return float(np.mean(np.asarray(policy_logp) - np.asarray(ref_logp)))
