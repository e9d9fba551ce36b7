"""Spreading pure, per-item work over forked processes (rebuilding read models).

``map_in_processes(function, items)`` returns ``[function(x) for x in items]``, in order,
whatever the number of workers: each item's result depends on that item alone, so the
answer is the same byte for byte. Workers are forked (POSIX), so they share the parent's
decoded data and loaded packs without pickling them; only results travel back. It runs in
this process alone when forking is not safe or not worth it: no ``fork`` start method, other
threads alive (a fork copies their locks), one core, or few items. A worker that fails has
its share redone here, so the caller sees the real error, raised where it can be read.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from typing import Any, TypeVar

__all__ = ["MIN_ITEMS_PER_WORKER", "map_in_processes", "worker_count"]

T = TypeVar("T")
R = TypeVar("R")

MIN_ITEMS_PER_WORKER = 1000
"""Below this many items per worker, forking costs more than it saves."""

_work: tuple[Callable[[Any], Any], Sequence[Any], int] | None = None


def worker_count(items: int, workers: int | None = None) -> int:
    """How many processes would share ``items`` (``workers`` None: one per core)."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    if threading.active_count() > 1:
        return 1
    wanted = workers if workers is not None else (os.cpu_count() or 1)
    return max(1, min(wanted, items // MIN_ITEMS_PER_WORKER))


def map_in_processes(
    function: Callable[[T], R], items: Sequence[T], workers: int | None = None
) -> list[R]:
    """``[function(x) for x in items]``, computed by up to ``workers`` processes."""
    count = worker_count(len(items), workers)
    if count == 1:
        return [function(x) for x in items]
    global _work
    context = multiprocessing.get_context("fork")
    started: list[tuple[Any, Connection]] = []
    _work = (function, items, count)
    try:
        for share in range(1, count):
            receiver, sender = context.Pipe(duplex=False)
            process = context.Process(target=_worker, args=(share, sender), daemon=True)
            process.start()
            sender.close()
            started.append((process, receiver))
        shares: list[list[R]] = [[function(x) for x in items[0::count]]]
        for share, (process, receiver) in enumerate(started, start=1):
            try:
                done, result = receiver.recv()
            except EOFError:  # the worker died without a word
                done, result = False, None
            receiver.close()
            process.join()
            shares.append(result if done else [function(x) for x in items[share::count]])
    finally:
        _work = None
        for process, _ in started:
            if process.is_alive():
                process.terminate()
                process.join()
    results: list[Any] = [None] * len(items)
    for share, values in enumerate(shares):
        results[share::count] = values
    return results


def _worker(share: int, sender: Connection) -> None:
    assert _work is not None
    function, items, count = _work
    try:
        result = [function(x) for x in items[share::count]]
    except BaseException:  # the parent redoes this share and raises the error itself
        sender.send((False, None))
    else:
        sender.send((True, result))
    finally:
        sender.close()
