"""Progress of ``compose train`` on a terminal (rich, on stderr); silent otherwise."""

from __future__ import annotations

import sys
from types import TracebackType

from rich.progress import TaskID, TimeRemainingColumn

from composer.app.progress import stderr_bar


class TrainProgress:
    """One bar per stage (parse the corpus, train); the latest losses in the description."""

    def __init__(self, enabled: bool, log: bool = False) -> None:
        self.enabled = enabled
        self.log = log  # without a terminal: one line per validation on stderr
        self._bar = stderr_bar(False, TimeRemainingColumn())
        self._tasks: dict[str, TaskID] = {}
        self.val: float | None = None

    def __enter__(self) -> TrainProgress:
        if self.enabled:
            self._bar.__enter__()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.enabled:
            self._bar.__exit__(t, e, tb)

    def __call__(self, stage: str, done: int, total: int, info: dict[str, float]) -> None:
        if "val" in info:
            self.val = info["val"]
        if self.log and not self.enabled and stage == "train" and ("val" in info or done % 50 == 0):
            val = "-" if self.val is None else f"{self.val:.4f}"
            print(
                f"train step {done}/{total}: loss {info.get('loss', 0):.4f} val {val} "
                f"{info.get('tok/s', 0):.0f} tok/s",
                file=sys.stderr,
                flush=True,
            )
        if not self.enabled:
            return
        if stage not in self._tasks:
            self._tasks[stage] = self._bar.add_task(stage, total=total)
        text = stage
        if "loss" in info:
            text += f" loss {info['loss']:.3f}"
        if self.val is not None:
            text += f" val {self.val:.3f}"
        if "tok/s" in info:
            text += f" {info['tok/s']:.0f} tok/s"
        self._bar.update(self._tasks[stage], completed=done, total=total, description=text)


def train_progress(quiet: bool) -> TrainProgress:
    return TrainProgress(enabled=not quiet and sys.stderr.isatty(), log=not quiet)
