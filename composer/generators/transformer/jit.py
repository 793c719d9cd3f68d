"""The compiled inner loops of sampling (numba): a decoding step's normalisation and attention,
and, for every row of a batch, the section grammar, the pitch rules, temperature,
top-p and the draw.

Python-level code (:mod:`composer.generators.transformer.processors`,
:mod:`composer.generators.transformer.decoder`,
:mod:`composer.generators.transformer.sampling`) owns the arrays and calls these; the
``LogitsProcessor``s and
the fused sampler call the same functions, so the two decoding paths cannot disagree on a rule.
Every njit function is in this one file: numba keys a function's on-disk cache on its own
source file only, so a kernel calling into another file would not be recompiled when that file
changed; the token kinds these kernels read as constants come from
:mod:`composer.generators.transformer.tokens`, so the cache is keyed on both files
(:func:`kernels.batch.share_cache_stamp`).

Grammar state: one int64 row per sequence, columns ``ST_*``; ``state`` is what the row expects
next (``S_*``). Grammar tables (built by ``SectionGrammar``), as one tuple ``g``:
``(kind, value, chord_ids, n_chords, positions_from, durations_upto, pitch_tok, special)``
with ``special = [Bar_None, EOS_None, PAD_None]``. Pitch rules, as one tuple ``rules``:
``(modes, params, tables, pitch_ids, pitch_values, *rhythm)``: rule ``k`` is a mask
(``RULE_MASK``: pitches outside ``tables[k, bar, position]`` are removed, unless that would
remove every pitch still allowed), a bias (``RULE_BIAS``: ``params[k]`` added to the logits of
the pitches in the table where the table is not all true) or a leap limit (``RULE_LEAP``: a mask
of the pitches within ``params[k]`` semitones of the previous note).

The rhythm rules (the melody plan's, :func:`apply_rhythm_row`) follow in the same tuple:
``(dur_ids, dur_values, pos_ids, pos_values, end_ids, marks, need, dur_ok, rh)``: the Duration
and Position token ids with their values in 16ths, ``[Bar_None, EOS_None]``, every bar's phrase
mark (``MARK_*``), the long note and the rest (16ths) a phrase end needs per mark (``need[m] =
(long, rest)``), the durations the style's vocabulary allows, and ``rh = (budget of 16th notes,
budget of dotted eighths, positions per bar, on, opening)`` (a budget < 0: none; ``on`` 0: no
rhythm rules; ``opening``: the latest position of the section's first note, < 0: any). Each is a
mask applied only if it leaves a token that the earlier ones allowed, in the order phrase end,
budgets, vocabulary, opening.
"""

from __future__ import annotations

import math
import sys

import numpy as np
from numba import njit, prange

from composer.generators.transformer import tokens
from composer.generators.transformer.tokens import (
    BAR,
    CHORD,
    DURATION,
    EOS,
    PAD,
    PHRASE,
    PITCH,
    POSITION,
)
from kernels.batch import share_cache_stamp

# grammar state columns
ST_STATE, ST_BAR, ST_CHORD, ST_CURSOR, ST_POS, ST_PITCH, ST_LAST, ST_N16, ST_NDOT = range(9)
ST_COLUMNS = 9  # ST_N16, ST_NDOT: the 16th notes and dotted eighths written so far
# what a row expects next
S_BAR, S_CHORD, S_FIRST, S_PITCH, S_DUR, S_NEXT, S_DONE = range(7)
# pitch rule modes
RULE_MASK, RULE_BIAS, RULE_LEAP = range(3)
# a bar's phrase mark in the rhythm rules
MARK_NONE, MARK_END, MARK_FINAL = range(3)

# The decoder kernels may reassociate sums (vectorised dot products); they never see inf/nan
# tricks. The sampler kernels use -inf for removed tokens: no fastmath there.
_FAST = {"reassoc", "contract", "arcp"}


def new_state(rows: int) -> np.ndarray:
    """The state of ``rows`` sequences before their first generated token."""
    st = np.zeros((rows, ST_COLUMNS), dtype=np.int64)
    st[:, ST_STATE] = S_BAR
    st[:, ST_BAR] = -1
    st[:, ST_PITCH] = -1
    st[:, ST_LAST] = -1
    return st


# --- grammar -----------------------------------------------------------------------------------


@njit(cache=True)
def advance(st, r, tok, g):
    """Row ``r`` consumes token ``tok``."""
    kind, value, n_chords = g[0], g[1], g[3]
    k = kind[tok]
    if k == BAR:
        bar = min(st[r, ST_BAR] + 1, n_chords.shape[0] - 1)
        st[r, ST_BAR] = bar
        st[r, ST_CURSOR] = 0
        st[r, ST_CHORD] = 0
        st[r, ST_STATE] = S_CHORD if n_chords[bar] > 0 else S_FIRST
    elif k in (CHORD, PHRASE):  # the bar's given tokens: its chords, then its phrase mark
        st[r, ST_CHORD] += 1
        if st[r, ST_CHORD] >= n_chords[max(st[r, ST_BAR], 0)]:
            st[r, ST_STATE] = S_FIRST
    elif k == POSITION:
        st[r, ST_POS] = value[tok]
        st[r, ST_STATE] = S_PITCH
    elif k == PITCH:
        st[r, ST_PITCH] = value[tok]
        st[r, ST_STATE] = S_DUR
    elif k == DURATION:
        st[r, ST_CURSOR] = st[r, ST_POS] + value[tok]
        st[r, ST_LAST] = st[r, ST_PITCH]
        st[r, ST_STATE] = S_NEXT
        if value[tok] == 1:
            st[r, ST_N16] += 1
        elif value[tok] == 3:
            st[r, ST_NDOT] += 1
    elif k in (EOS, PAD):
        st[r, ST_STATE] = S_DONE


@njit(cache=True)
def advance_all(st, tokens, g):
    """Every row consumes the columns of ``tokens`` (rows, n), left to right."""
    for c in range(tokens.shape[1]):
        for r in range(tokens.shape[0]):
            advance(st, r, tokens[r, c], g)


@njit(cache=True)
def allowed_row(st, r, g, out):
    """``out`` (vocab booleans): the tokens row ``r`` may take next."""
    chord_ids, n_chords, positions_from, durations_upto, pitch_tok, special = (
        g[2], g[3], g[4], g[5], g[6], g[7],
    )  # fmt: skip
    per_bar = positions_from.shape[0] - 1
    out[:] = False
    s = st[r, ST_STATE]
    bar = max(st[r, ST_BAR], 0)
    if s == S_BAR:
        out[special[0]] = True
    elif s == S_CHORD:
        out[chord_ids[bar, st[r, ST_CHORD]]] = True
    elif s == S_FIRST:
        out[:] = positions_from[0]
    elif s == S_PITCH:
        out[:] = pitch_tok
    elif s == S_DUR:
        out[:] = durations_upto[per_bar - st[r, ST_POS]]
    elif s == S_NEXT:
        out[:] = positions_from[min(st[r, ST_CURSOR], per_bar)]
        out[special[1] if st[r, ST_BAR] >= n_chords.shape[0] - 1 else special[0]] = True
    else:
        out[special[2]] = True


@njit(cache=True)
def allowed_all(st, g, out):
    for r in range(st.shape[0]):
        allowed_row(st, r, g, out[r])


@njit(cache=True)
def _mask_unless_empty(scores, ids, keep):
    """``scores[ids[j]] = -inf`` where not ``keep[j]``, unless no kept id is still allowed."""
    usable = False
    for j in range(ids.shape[0]):
        if keep[j] and scores[ids[j]] > -np.inf:
            usable = True
            break
    if usable:
        for j in range(ids.shape[0]):
            if not keep[j]:
                scores[ids[j]] = -np.inf


@njit(cache=True)
def apply_rhythm_row(scores, st, r, rules):
    """The melody plan's rhythm rules on row ``r``'s scores (in place), where a duration or
    the next note's position (or the bar's end) comes next. At a bar with a phrase mark, the
    phrase ends long or on a rest: the bar's last note lasts ``long`` 16ths or leaves ``rest``
    16ths before the barline (durations that could not, positions too late for a note that
    could, and the bar's end after a note that did not, are removed); then the 16th-note and
    dotted-eighth budgets; then the style's durations (and positions where none of those
    would fit before the barline)."""
    dur_ids, dur_values, pos_ids, pos_values, end_ids, marks, need, dur_ok, rh = rules[5:]
    if rh[3] == 0:
        return
    s = st[r, ST_STATE]
    bar = min(max(st[r, ST_BAR], 0), marks.shape[0] - 1)
    mark = marks[bar]
    per_bar = rh[2]
    long, rest = need[mark, 0], need[mark, 1]
    if s == S_DUR:
        pos = st[r, ST_POS]
        keep = np.empty(dur_ids.shape[0], dtype=np.bool_)
        if mark != MARK_NONE:
            for j in range(dur_ids.shape[0]):
                d = dur_values[j]
                keep[j] = d >= long or per_bar - pos - d >= rest
            _mask_unless_empty(scores, dur_ids, keep)
        for j in range(dur_ids.shape[0]):
            d = dur_values[j]
            keep[j] = not (
                (d == 1 and rh[0] >= 0 and st[r, ST_N16] >= rh[0])
                or (d == 3 and rh[1] >= 0 and st[r, ST_NDOT] >= rh[1])
            )
        _mask_unless_empty(scores, dur_ids, keep)
        _mask_unless_empty(scores, dur_ids, dur_ok)
    elif s in (S_FIRST, S_NEXT):
        # a note may start only where a duration the style and the budgets allow still fits
        shortest = per_bar + 1
        for j in range(dur_ids.shape[0]):
            d = dur_values[j]
            capped = (d == 1 and rh[0] >= 0 and st[r, ST_N16] >= rh[0]) or (
                d == 3 and rh[1] >= 0 and st[r, ST_NDOT] >= rh[1]
            )
            if dur_ok[j] and not capped and d >= 1:
                shortest = min(shortest, d)
        if mark != MARK_NONE:
            _phrase_end_positions(scores, st, r, s, pos_ids, pos_values, end_ids, per_bar, long,
                                  rest, min(shortest, per_bar))  # fmt: skip
        usable = False
        for j in range(pos_ids.shape[0]):
            if pos_values[j] + shortest <= per_bar and scores[pos_ids[j]] > -np.inf:
                usable = True
        for j in range(end_ids.shape[0]):
            if scores[end_ids[j]] > -np.inf:
                usable = True
        if usable:
            for j in range(pos_ids.shape[0]):
                if pos_values[j] + shortest > per_bar:
                    scores[pos_ids[j]] = -np.inf
        if s == S_FIRST and st[r, ST_BAR] <= 0 and rh.shape[0] > 4 and rh[4] >= 0:
            # the section opens within its first beat, not with a bar of rests and a pickup
            keep = np.empty(pos_ids.shape[0], dtype=np.bool_)
            for j in range(pos_ids.shape[0]):
                keep[j] = pos_values[j] <= rh[4]
            _mask_unless_empty(scores, pos_ids, keep)


@njit(cache=True)
def _phrase_end_positions(
    scores, st, r, s, pos_ids, pos_values, end_ids, per_bar, long, rest, shortest
):
    """In a phrase's last bar: no note starting too late to end the phrase, and the bar's end
    only after a note that ended it (long enough, or leaving the rest). ``shortest``: the
    shortest duration the style and budgets still allow."""
    latest = per_bar - min(long, rest + shortest)  # the last onset a phrase-ending note fits at
    cursor = st[r, ST_CURSOR]
    ended = s == S_NEXT and (cursor - st[r, ST_POS] >= long or per_bar - cursor >= rest)
    usable = False
    for j in range(pos_ids.shape[0]):
        if pos_values[j] <= latest and scores[pos_ids[j]] > -np.inf:
            usable = True
    for j in range(end_ids.shape[0]):
        if ended and scores[end_ids[j]] > -np.inf:
            usable = True
    if usable:
        for j in range(pos_ids.shape[0]):
            if pos_values[j] > latest:
                scores[pos_ids[j]] = -np.inf
        if not ended:
            for j in range(end_ids.shape[0]):
                scores[end_ids[j]] = -np.inf


@njit(cache=True)
def apply_rules_row(scores, st, r, rules, ok):
    """Apply the pitch rules to row ``r``'s scores (in place) where a pitch comes next, and the
    rhythm rules where a duration, a position or a bar's end does."""
    if st[r, ST_STATE] != S_PITCH:
        apply_rhythm_row(scores, st, r, rules)
        return
    modes, params, tables, pitch_ids, pitch_values = rules[:5]
    bar = max(st[r, ST_BAR], 0)
    pos = st[r, ST_POS]
    last = st[r, ST_LAST]
    for k in range(modes.shape[0]):
        mode = modes[k]
        any_usable = False
        all_ok = True
        for p in range(pitch_ids.shape[0]):
            if mode == RULE_LEAP:
                ok[p] = last < 0 or abs(pitch_values[p] - last) <= params[k]
            else:
                ok[p] = tables[k, bar, pos, p]
            if ok[p]:
                if scores[pitch_ids[p]] > -np.inf:
                    any_usable = True
            else:
                all_ok = False
        if mode == RULE_BIAS:
            if not all_ok:
                for p in range(pitch_ids.shape[0]):
                    if ok[p]:
                        scores[pitch_ids[p]] += params[k]
        elif any_usable:
            for p in range(pitch_ids.shape[0]):
                if not ok[p]:
                    scores[pitch_ids[p]] = -np.inf


@njit(cache=True)
def apply_rules_all(scores, st, rules):
    ok = np.empty(rules[3].shape[0], dtype=np.bool_)
    for r in range(scores.shape[0]):
        apply_rules_row(scores[r], st, r, rules, ok)


# --- the fused sampling step -------------------------------------------------------------------


@njit(cache=True)
def row_probs(logits, st, r, g, rules, temperature, top_p, probs):
    """Row ``r``'s next-token distribution into ``probs`` (vocab, float64): grammar mask, pitch
    rules, ``/ temperature``, then top-p as transformers' ``TopPLogitsWarper`` (drop the least
    likely tokens while their cumulative probability is ``<= 1 - top_p``; keep one at least)."""
    vocab = logits.shape[0]
    allowed = np.empty(vocab, dtype=np.bool_)
    scores = np.empty(vocab, dtype=np.float32)
    ok = np.empty(rules[3].shape[0], dtype=np.bool_)
    allowed_row(st, r, g, allowed)
    for t in range(vocab):
        scores[t] = logits[t] if allowed[t] else -np.inf
    apply_rules_row(scores, st, r, rules, ok)
    probs[:] = 0.0
    idx = np.flatnonzero(scores > -np.inf)
    if idx.shape[0] == 1:
        probs[idx[0]] = 1.0
        return
    vals = np.empty(idx.shape[0], dtype=np.float64)
    for j in range(idx.shape[0]):
        vals[j] = scores[idx[j]] / temperature
    order = np.argsort(vals)  # ascending, like the warper's sort
    n = order.shape[0]
    top = vals[order[n - 1]]
    total = 0.0
    for j in range(n):
        vals[j] = math.exp(vals[j] - top)
        total += vals[j]
    cut, cum = 0, 0.0  # the first position (ascending) that is kept
    for j in range(n - 1):
        cum += vals[order[j]]
        if cum / total > 1.0 - top_p:
            break
        cut = j + 1
    kept = 0.0
    for j in range(cut, n):
        kept += vals[order[j]]
    for j in range(cut, n):
        probs[idx[order[j]]] = vals[order[j]] / kept


@njit(cache=True)
def probs_all(logits, st, g, rules, temperature, top_p, out):
    """:func:`row_probs` of every row, without advancing (for checks against the processors)."""
    for r in range(logits.shape[0]):
        row_probs(logits[r], st, r, g, rules, temperature, top_p, out[r])


@njit(cache=True)
def draw_rows(logits, active, st, g, rules, temperature, top_p, u, out):
    """One step for the rows ``active`` (``logits[i]`` and ``u[i]`` are row ``active[i]``'s):
    the token whose cumulative probability (:func:`row_probs`, in id order) first exceeds
    ``u[i]`` goes to ``out[active[i]]`` and the row's grammar advances."""
    probs = np.empty(logits.shape[1], dtype=np.float64)
    for i in range(active.shape[0]):
        r = active[i]
        row_probs(logits[i], st, r, g, rules, temperature, top_p, probs)
        tok, acc = -1, 0.0
        for t in range(probs.shape[0]):
            if probs[t] > 0.0:
                tok = t
                acc += probs[t]
                if acc > u[i]:
                    break
        out[r] = tok
        advance(st, r, tok, g)


# --- decoder arithmetic ------------------------------------------------------------------------


@njit(cache=True, fastmath=_FAST)
def rms_norm(x, w, eps, out):
    """``out = w * x / sqrt(mean(x^2) + eps)`` per row (Llama's RMSNorm)."""
    rows, n = x.shape
    for r in range(rows):
        s = np.float32(0.0)
        for j in range(n):
            s += x[r, j] * x[r, j]
        inv = np.float32(1.0 / math.sqrt(s / n + eps))
        for j in range(n):
            out[r, j] = w[j] * (x[r, j] * inv)


@njit(cache=True, fastmath=_FAST)
def add_rms_norm(x, delta, w, eps, out):
    """The residual ``x += delta``, then ``out = rms_norm(x)``."""
    rows, n = x.shape
    for r in range(rows):
        for j in range(n):
            x[r, j] += delta[r, j]
    rms_norm(x, w, eps, out)


@njit(cache=True, fastmath=_FAST)
def _rotate(src, start, cos, sin, dst):
    """Rotary embedding of ``src[start:start + d]`` into ``dst`` (Llama's ``rotate_half``)."""
    half = dst.shape[0] // 2
    for j in range(half):
        a = src[start + j]
        b = src[start + j + half]
        dst[j] = a * cos[j] - b * sin[j]
        dst[j + half] = b * cos[j + half] + a * sin[j + half]


@njit(cache=True, fastmath=_FAST, parallel=True)
def attend(h, active, keys, values, pos, cos, sin, heads, kv_heads, scale, att):
    """Attention of one new token for each row of ``active`` (row ``i`` of ``h`` and ``att`` is
    the cache's row ``active[i]``). ``h`` is the (rows, (heads + 2 kv_heads) * d) output
    of the fused q/k/v product; its keys (rotated) and values are written at ``pos`` of the
    layer's cache: ``keys`` (rows, kv_heads, d, max_len), transposed so that a query's scores
    over all positions are ``d`` passes along contiguous memory, and ``values`` (rows,
    kv_heads, max_len, d). ``att`` (rows, heads * d) receives softmax(q k^T * scale) v over
    positions ``0..pos``."""
    d = values.shape[3]
    n = pos + 1
    group = heads // kv_heads
    for i in prange(active.shape[0]):
        q = np.empty(d, dtype=np.float32)
        k = np.empty(d, dtype=np.float32)
        acc = np.empty(d, dtype=np.float32)
        w = np.empty(n, dtype=np.float32)
        r = active[i]
        hr = h[i]
        for g in range(kv_heads):
            _rotate(hr, (heads + g) * d, cos, sin, k)
            for j in range(d):
                keys[r, g, j, pos] = k[j]
            vb = (heads + kv_heads + g) * d
            for j in range(d):
                values[r, g, pos, j] = hr[vb + j]
        for head in range(heads):
            g = head // group
            _rotate(hr, head * d, cos, sin, q)
            kr = keys[r, g]
            vr = values[r, g]
            w[:] = 0.0
            for j in range(d):
                qj = q[j] * scale
                kj = kr[j]
                for t in range(n):
                    w[t] += qj * kj[t]
            top = w[0]
            for t in range(1, n):
                top = max(top, w[t])
            total = np.float32(0.0)
            for t in range(n):
                w[t] = np.exp(w[t] - top)
                total += w[t]
            acc[:] = 0.0
            for t in range(n):
                wt = w[t]
                vt = vr[t]
                for j in range(d):
                    acc[j] += wt * vt[j]
            inv = np.float32(1.0) / total
            for j in range(d):
                att[i, head * d + j] = acc[j] * inv


share_cache_stamp((tokens, sys.modules[__name__]))
