"""``compose batch --ray``: the batch's songs as Ray tasks (``pip install 'songc[ray]'``).

The same task function as the local pool (:func:`composer.batch.compose_task`), another
executor: ``workers`` Ray actors, each one worker process that imports the composer, loads the
model and the compiled kernels once (module-level caches) and then composes song after song
(one song is one actor call, with its own seed in its task). Results come back as rows with
the files' bytes, and the driver writes them, so the cluster's nodes need no shared folder;
they need songc installed (the same version: the bytes of a song depend on it).

``address`` None starts a local Ray runtime for the batch (``--ray``) and stops it after;
an address (``--ray-address ADDR``, e.g. ``ray://head:10001`` or ``auto``) joins an existing
cluster and leaves it running. With ``--device cuda`` each actor asks Ray for a quarter of a
GPU (:data:`ACTORS_PER_GPU`) and checks its own GPU (on a cluster, the driver's need not have
one); never run on a GPU here.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from typing import Any

from composer.batch import THREAD_VARS, Executor, Task, _threads, compose_task
from grammar.errors import SpecError

INSTALL = "pip install 'songc[ray]'"
# Actors sharing one GPU with --device cuda: the model is small (a batch of 16-64 rows is far
# from filling a GPU) and each actor's search and draw run on its CPU.
ACTORS_PER_GPU = 4


def require_ray() -> Any:
    """The ``ray`` module, or SpecError naming ``--ray`` and how to install it."""
    try:
        import ray
    except ImportError:
        raise SpecError("--ray", f"Ray is not installed; install the extra: {INSTALL}") from None
    return ray


class _Worker:
    """One Ray worker process: composes the songs sent to it (model and kernels loaded once,
    on its first song, and kept by the process)."""

    def compose(self, task: Task, device: str) -> dict[str, Any]:
        return compose_task(task, device)

    def model_loads(self) -> int:
        """How many times this process has loaded a model (the shipped one: once)."""
        import sys

        gen = sys.modules.get("composer.generators.transformer.generator")
        return 0 if gen is None else gen.load.cache_info().misses


def check_reachable(address: str) -> None:
    """SpecError naming ``--ray-address`` unless ``address`` is ``auto`` or a HOST:PORT (or
    ``ray://HOST:PORT``) that accepts a connection within 5 s: Ray itself retries an
    unreachable address for minutes."""
    if address == "auto":
        return
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not host or not port.isdigit():
        raise SpecError(
            "--ray-address", f"'{address[:80]}' is not HOST:PORT, ray://HOST:PORT or auto"
        )
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=5).close()
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        raise SpecError(
            "--ray-address", f"cannot reach a Ray cluster at '{address[:80]}': {why}"
        ) from None


def ray_pool(address: str | None, workers: int) -> Executor:
    """The executor of ``workers`` actors (0: one per CPU of the cluster) on a local runtime
    (``address`` None: as many CPUs as this machine has, or ``workers`` if more) or on the
    cluster at ``address``. SpecError if Ray is not installed."""
    ray = require_ray()
    if workers < 0:
        raise SpecError("--workers", f"must be at least 1, got {workers}")
    local = address is None
    if address is not None:
        check_reachable(address)
    cpus = os.cpu_count() or 1
    n = workers or (cpus if local else 0)

    def run(todo: list[Task], device: str) -> Iterator[dict[str, Any]]:
        started = not ray.is_initialized()
        if started:
            kwargs: dict[str, Any] = {
                "include_dashboard": False,
                "log_to_driver": False,
                "logging_level": logging.ERROR,
            }
            if local:
                kwargs["num_cpus"] = max(n, cpus)
            try:
                ray.init(address=address, **kwargs)
            except (ConnectionError, ValueError, RuntimeError) as exc:
                text = " ".join(str(exc).split())[:200]
                field, what = ("--ray", "start") if local else ("--ray-address", "join")
                raise SpecError(field, f"cannot {what} a Ray cluster: {text}") from None
        try:
            count = n or max(1, int(ray.cluster_resources().get("CPU", 1)))
            # each actor's share of a local machine's cores; on a cluster, one thread per CPU
            threads = _threads(count) if local else 1
            env = {v: str(threads) for v in THREAD_VARS}
            # on a GPU, a share of one per actor (Ray hides the GPUs from actors that ask for
            # none); Ray numbers an actor's GPUs from 0, so "cuda:N" is "cuda" there
            gpus = 0.0 if device == "cpu" else 1 / ACTORS_PER_GPU
            on = device if device == "cpu" else "cuda"
            actor = ray.remote(num_cpus=1, num_gpus=gpus, runtime_env={"env_vars": env})(_Worker)
            actors = [actor.remote() for _ in range(min(count, len(todo)))]
            queue = list(reversed(todo))
            running: dict[Any, tuple[Any, Task]] = {}

            def submit(a: Any) -> None:
                if queue:
                    t = queue.pop()
                    running[a.compose.remote(t, on)] = (a, t)

            for a in actors:
                submit(a)
            while running:
                [ref], _ = ray.wait(list(running), num_returns=1)
                a, t = running.pop(ref)
                try:
                    row = ray.get(ref)
                except ray.exceptions.RayError as exc:  # the worker died: one error, go on
                    text = " ".join(str(exc).split())[:200]
                    row = {"name": t.name, "spec": t.origin, "seed": t.seed, "status": "error",
                           "seconds": 0.0, "error": f"ray: {text}",
                           "spec_sha": t.spec_sha}  # fmt: skip
                    a = actor.remote()
                yield row
                submit(a)
        finally:
            if started:
                ray.shutdown()

    return run
