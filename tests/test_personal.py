"""The personal reward model: it learns a known taste from a few dozen simulated ratings, saves
and loads per profile without overwriting, and active learning asks the most uncertain pair."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from composer.preferences.active import next_pair, pair_scores, prior_model
from composer.preferences.features import ITEM_FEATURES, column, item_features
from composer.preferences.listeners import LISTENERS, Listener
from composer.preferences.model import PersonalModel, cross_validate, fit
from composer.preferences.profiles import (
    check_name,
    load_profile,
    profiles,
    save_profile,
    versions,
)
from grammar.errors import SpecError
from kernels.features import FEATURES

N = len(ITEM_FEATURES)


def synthetic_items(n: int, seed: int) -> np.ndarray:
    """Item rows with realistic scales: kernel features drawn around plausible values."""
    rng = np.random.default_rng(seed)
    kernel = rng.random((n, len(FEATURES)))
    kernel[:, FEATURES.index("mean_pitch")] = rng.normal(70, 3, n)
    kernel[:, FEATURES.index("note_density")] = rng.normal(20, 6, n)
    return item_features(kernel, rng.integers(0, 12, n), rng.normal(10, 2, n))


def rate(listener: Listener, x: np.ndarray, n: int, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    i = rng.integers(0, x.shape[0], n)
    j = (i + rng.integers(1, x.shape[0], n)) % x.shape[0]
    return x[i], x[j], listener.answer(x[i], x[j], rng)


def heldout_accuracy(model: PersonalModel, listener: Listener, x: np.ndarray) -> float:
    rng = np.random.default_rng(99)
    i = rng.integers(0, x.shape[0], 2000)
    j = (i + rng.integers(1, x.shape[0], 2000)) % x.shape[0]
    truth = listener.prefers(x[i], x[j])
    keep = truth != 0.5
    return float(np.mean((model.prob(x[i], x[j])[keep] > 0.5) == (truth[keep] == 1.0)))


@pytest.mark.parametrize("name", ["high", "drummer"])
def test_learns_a_known_taste_from_a_few_dozen_ratings(name: str) -> None:
    listener = LISTENERS[name]
    train, test = synthetic_items(300, 1), synthetic_items(300, 2)
    a, b, o = rate(listener, train, 40, seed=3)
    model = fit(a, b, o)
    acc = heldout_accuracy(model, listener, test)
    assert acc > 0.75, acc  # chance is 0.5
    # the taste is found where it lives: its feature carries the largest head weight
    assert int(np.argmax(np.abs(model.w))) == column(listener.taste[0][0])
    # and it is better than the prior alone (the shipped reward knows nothing of this taste)
    assert acc > heldout_accuracy(prior_model(train), listener, test) + 0.15


def test_no_ratings_worth_the_name_leave_the_prior() -> None:
    x = synthetic_items(50, 4)
    model = fit(x[:0], x[:0], np.zeros(0))
    assert model.a == 1.0 and not model.w.any()  # exactly the shipped reward


def test_cross_validation_reports_held_out_accuracy() -> None:
    listener = LISTENERS["high"]
    a, b, o = rate(listener, synthetic_items(300, 5), 40, seed=6)
    acc = cross_validate(a, b, o)
    assert acc is not None and 0.6 < acc <= 1.0
    assert cross_validate(a[:3], b[:3], o[:3]) is None  # too few to say anything
    # labels unrelated to the items: near chance
    noise = np.random.default_rng(7).integers(0, 2, 40).astype(float)
    shuffled = cross_validate(a, b, noise)
    assert shuffled is not None and shuffled < 0.7


def test_fit_rejects_malformed_input() -> None:
    x = synthetic_items(4, 8)
    with pytest.raises(ValueError, match="outcomes"):
        fit(x[:2], x[2:], [1.0, 2.0])
    with pytest.raises(ValueError, match="rows"):
        fit(x[:2, :5], x[2:, :5], [1.0, 0.0])


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SONGC_HOME", str(tmp_path / "data"))
    return tmp_path / "data"


def test_profiles_save_and_load_round_trip_without_overwriting(home: Path) -> None:
    listener = LISTENERS["dark"]
    x = synthetic_items(200, 9)
    m1 = fit(*rate(listener, x, 30, seed=10), meta={"rater": "ann"})
    p1 = save_profile("ann", m1)
    first = p1.read_bytes()
    loaded = load_profile("ann")
    np.testing.assert_allclose(loaded.utility(x), m1.utility(x))
    assert loaded.meta == {"rater": "ann"} and loaded.ratings == 30 and loaded.l2 == m1.l2
    m2 = fit(*rate(listener, x, 50, seed=11))
    p2 = save_profile("ann", m2)
    assert p1 != p2 and p1.read_bytes() == first  # a new version; the old one untouched
    assert [p.name for p in versions("ann")] == ["model-v0001.json", "model-v0002.json"]
    np.testing.assert_allclose(load_profile("ann").utility(x), m2.utility(x))  # newest wins
    assert profiles() == ["ann"]
    assert p1.parent == home / "profiles" / "ann"


def test_a_damaged_profile_is_one_line(home: Path) -> None:
    folder = home / "profiles" / "bob"
    folder.mkdir(parents=True)
    (folder / "model-v0001.json").write_text('{"schema_version": 99}')
    with pytest.raises(SpecError, match=r"profile: 'bob' \(model-v0001.json\) cannot be read"):
        load_profile("bob")
    (folder / "model-v0002.json").write_text("{not json")
    with pytest.raises(SpecError, match="not JSON"):
        load_profile("bob")


@pytest.mark.parametrize("bad", ["", "a/b", "../up", ".hidden", "x" * 41, "me.yaml", "sp ace"])
def test_bad_profile_names(bad: str, home: Path) -> None:
    with pytest.raises(SpecError, match="is not a profile name"):
        check_name(bad)
    with pytest.raises(SpecError, match="is not a profile name"):
        load_profile(bad)


def test_an_unknown_profile_names_the_ones_there_are(home: Path) -> None:
    with pytest.raises(SpecError, match=r"no profile 'zed'.*compose learn"):
        load_profile("zed")
    save_profile("ann", fit(*rate(LISTENERS["high"], synthetic_items(50, 1), 10, seed=1)))
    with pytest.raises(SpecError, match=r"no profile 'zed'.*profiles: ann"):
        load_profile("zed")


def _one_feature_model(feature: str, weight: float, precision: np.ndarray) -> PersonalModel:
    w = np.zeros(N)
    w[column(feature)] = weight
    return PersonalModel(np.zeros(N), np.ones(N), 0.0, w, 1.0, precision, 0.0, 1.0, 0)


def test_active_selection_asks_the_least_certain_pair() -> None:
    """A hand-made pool: utility = mean_pitch; pair (0, 3) is the closest call."""
    x = np.zeros((5, N))
    x[:, column("mean_pitch")] = [60.0, 72.0, 66.0, 60.5, 80.0]
    model = _one_feature_model("mean_pitch", 1.0, np.eye(N + 1))
    pairs = np.array([[0, 1], [1, 2], [0, 3], [2, 4]])
    assert next_pair(model, x, pairs, criterion="margin") == (0, 3)
    assert next_pair(model, x, None, criterion="margin") == (0, 3)  # every pair of the items
    assert next_pair(model, x, pairs, criterion="margin", exclude={(3, 0)}) == (1, 2)
    with pytest.raises(ValueError, match="no pair left"):
        next_pair(model, x, pairs[:1], exclude={(0, 1)})


def test_information_prefers_what_the_model_does_not_know() -> None:
    """Two coin-flip pairs (predicted 1/2): one differs only in a feature the model is sure
    does not matter, the other in one it knows nothing about; ask the second."""
    x = np.zeros((4, N))
    x[0, column("syncopation")], x[1, column("syncopation")] = 0.1, 0.9  # well known: w = 0
    x[2, column("pc_entropy")], x[3, column("pc_entropy")] = 1.0, 3.0  # unknown
    precision = np.eye(N + 1)
    precision[1 + column("syncopation"), 1 + column("syncopation")] = 1e4
    precision[1 + column("pc_entropy"), 1 + column("pc_entropy")] = 0.1
    model = _one_feature_model("mean_pitch", 1.0, precision)
    pairs = np.array([[0, 1], [2, 3]])
    scores = pair_scores(model, x[pairs[:, 0]], x[pairs[:, 1]])
    assert scores[1] > scores[0] > -1e-12
    assert next_pair(model, x, pairs) == (2, 3)
    # the margin criterion cannot tell them apart (both exactly 1/2): first wins
    assert next_pair(model, x, pairs, criterion="margin") == (0, 1)


def test_listeners_answer_their_taste_with_noise() -> None:
    x = synthetic_items(400, 12)
    high = LISTENERS["high"]
    up = x.copy()
    up[:, column("mean_pitch")] += 3.0  # one unit of this listener's utility higher
    answers = high.answer(up, x, np.random.default_rng(0))
    assert 0.8 < answers.mean() < 0.95  # sigmoid(1 / 0.5) = 0.88
    assert (high.prefers(up, x) == 1.0).all()
    assert len({tuple(v.taste) for v in LISTENERS.values()}) == len(LISTENERS) == 5


def test_the_studio_call_works_before_and_after_learning(home: Path) -> None:
    from composer.preferences.active import next_pair_for

    rng = np.random.default_rng(13)
    kernel = rng.random((6, len(FEATURES)))
    i, j = next_pair_for("newcomer", kernel, 2)  # no profile yet: the prior decides
    assert 0 <= i < 6 and 0 <= j < 6 and i != j
    save_profile("newcomer", fit(*rate(LISTENERS["high"], synthetic_items(100, 3), 20, seed=4)))
    i, j = next_pair_for("newcomer", kernel, 2)
    assert 0 <= i < 6 and 0 <= j < 6 and i != j
    with pytest.raises(SpecError, match="is not a profile name"):
        next_pair_for("../x", kernel, 2)
