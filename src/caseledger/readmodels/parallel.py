"""Spreading pure, per-item work over forked processes (rebuilding read models).

``block_results_in_processes(function, items)`` gives the results of ``function`` over
blocks of consecutive items (which can read all their data at once), item by item, in
order, whatever the number of workers, as they come, so the caller can use (write) the first
while the rest are computed: each item's result depends on that item alone, so the answer
is the same byte for byte. The items are cut in blocks that this
process and its forked workers (POSIX) take in turn, so the workers share the parent's
loaded packs without pickling them; only results travel back, a block at a time, through
pipes wide enough that a worker seldom waits for this process to read them. It runs in
this process alone when forking is not safe or not worth it: no ``fork`` start method,
other threads alive (a fork copies their locks), one core, or few items. A worker that
fails has the rest of its share redone here, so the caller sees the real error, raised
where it can be read.

**Why fork, and how with a PostgreSQL pool.** The workers need what this process loaded
(rule packs, their compiled rules, the store's decoder), much of it not picklable, so they
are forked rather than spawned (``spawn`` and ``forkserver`` start a new interpreter that
would have to load and receive it all). A fork is only safe when this process runs no other
thread: a thread holding a lock (psycopg's pool, logging, the allocator) at the moment of
the fork leaves it locked forever in the child. psycopg's connection pool runs threads (a
scheduler and its workers), so the caller passes ``prepare``: a context entered just
before the forks and left just after them, which stops such threads (the store's
:meth:`~caseledger.store.event_store.SpanReader.forking` closes the pool, so its threads
end and its connections close, and puts a new pool in its place afterwards). The count of
threads is checked inside it: if any other thread is still alive (a web server's, a
follower's LISTEN loop, the caller's own), nothing is forked and the work is done here.
The children never touch the parent's connections: each opens its own (see ``finish``).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from multiprocessing.connection import Connection, wait
from typing import Any, TypeVar

try:
    import fcntl
except ImportError:  # not on Windows, where no fork is either
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "MIN_ITEMS_PER_WORKER",
    "block_results_in_processes",
    "worker_count",
]

T = TypeVar("T")
R = TypeVar("R")

MIN_ITEMS_PER_WORKER = 1000
"""Below this many items per worker, forking costs more than it saves."""
CHUNK = 500
"""At most how many items make a block: the work a process takes, and sends back, at once."""


def worker_count(items: int, workers: int | None = None) -> int:
    """How many processes would share ``items`` (``workers`` None: one per core)."""
    if threading.active_count() > 1:
        return 1
    return _wanted(items, workers)


def _wanted(items: int, workers: int | None) -> int:
    """How many processes are worth forking for ``items``, whatever the threads alive."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    wanted = workers if workers is not None else (os.cpu_count() or 1)
    return max(1, min(wanted, items // MIN_ITEMS_PER_WORKER))


@contextmanager
def block_results_in_processes(
    function: Callable[[Sequence[T]], list[R]],
    items: Sequence[T],
    workers: int | None = None,
    *,
    finish: Callable[[], None] | None = None,
    prepare: Callable[[], AbstractContextManager[object]] | None = None,
) -> Iterator[Iterator[R]]:
    """``function(x) for x in items`` for a ``function`` of a block of consecutive items,
    which returns their results in order (one read of the database for many items, say).
    ``finish`` is called in each forked process when it has no block left to take (to
    close what it opened there). ``prepare`` makes the context the forks happen in (to
    stop this process's threads for them, see the module's docstring); it is entered only
    when forking is worth it."""
    count = _wanted(len(items), workers)
    started: list[tuple[Any, Connection]] = []
    done: list[bool] = []
    try:
        if count > 1:
            with prepare() if prepare is not None else nullcontext():
                count = worker_count(len(items), workers)  # with the threads it stopped
                if count > 1:
                    context = multiprocessing.get_context("fork")
                    blocks = _Blocks(len(items), count, context.Value("q", 0))
                    for _ in range(1, count):
                        started.append(_start(context, function, items, blocks, finish))
        if count == 1:
            starts = range(0, len(items), CHUNK)
            yield (r for start in starts for r in function(items[start : start + CHUNK]))
            return
        yield _collected(function, items, blocks, [r for _, r in started], done)
    finally:
        for process, receiver in started:
            receiver.close()
            # every result read: the worker is finishing (closing what it opened); else
            # the caller stopped early, or failed, and the work is no longer wanted
            process.join(timeout=_FINISH_SECONDS if done else 0)
            if process.is_alive():
                process.terminate()
            process.join()


def _start(
    context: Any,
    function: Callable[[Sequence[Any]], list[Any]],
    items: Sequence[Any],
    blocks: _Blocks,
    finish: Callable[[], None] | None,
) -> tuple[Any, Connection]:
    """A forked worker, and the end of the pipe its results come through."""
    receiver, sender = context.Pipe(duplex=False)
    _widen(sender)
    process = context.Process(
        target=_worker, args=(function, items, blocks, sender, finish), daemon=True
    )
    process.start()
    sender.close()
    return process, receiver


_FINISH_SECONDS = 5.0
"""How long a worker with nothing left to do may take to finish before it is stopped."""
_PIPE_BYTES = 1 << 20
"""How much a worker's pipe should hold: several blocks of results, so that a worker does
not wait for this process (busy with its own block) to read what it sent."""


def _widen(connection: Connection) -> None:
    """Ask the system (Linux) for a pipe of ``_PIPE_BYTES``; elsewhere, or when refused,
    the pipe keeps its size: only the speed differs."""
    resize = getattr(fcntl, "F_SETPIPE_SZ", None) if fcntl is not None else None
    if resize is None:
        return
    with suppress(OSError):
        fcntl.fcntl(connection.fileno(), resize, _PIPE_BYTES)


class _Blocks:
    """The items cut in blocks, each handed out once, to whichever process asks first: a
    process busy with other work (writing the results) simply takes fewer."""

    def __init__(self, items: int, workers: int, claimed: Any) -> None:
        self.size = max(1, min(CHUNK, items // (workers * 8)))
        self.count = -(-items // self.size)
        self._claimed = claimed

    def claim(self) -> int | None:
        with self._claimed.get_lock():
            block: int = self._claimed.value
            if block >= self.count:
                return None
            self._claimed.value = block + 1
        return block

    def of(self, items: Sequence[T], block: int) -> Sequence[T]:
        return items[block * self.size : (block + 1) * self.size]


def _collected(
    function: Callable[[Sequence[T]], list[R]],
    items: Sequence[T],
    blocks: _Blocks,
    receivers: list[Connection],
    done: list[bool],
) -> Iterator[R]:
    """The results block by block, in item order: this process takes a block itself
    whenever the next one to give is not back yet."""
    ready: dict[int, list[R] | None] = {}  # None: to compute here (its worker failed)
    live = list(receivers)
    for block in range(blocks.count):
        while block not in ready:
            for receiver in wait(live, timeout=0) if live else []:
                _receive(receiver, live, ready)
            if block in ready:
                break
            mine = blocks.claim()
            if mine is not None:
                ready[mine] = function(blocks.of(items, mine))
            elif live:
                for receiver in wait(live):
                    _receive(receiver, live, ready)
            else:  # claimed by a worker that died without a word
                ready[block] = None
        result = ready.pop(block)
        if result is None:  # redone here, to raise the worker's error where it can be read
            result = function(blocks.of(items, block))
        yield from result
    done.append(True)


def _receive(receiver: Any, live: list[Connection], ready: dict[int, Any]) -> None:
    try:
        block, result = receiver.recv()
    except EOFError:
        live.remove(receiver)
        return
    ready[block] = result


def _worker(
    function: Callable[[Sequence[Any]], list[Any]],
    items: Sequence[Any],
    blocks: _Blocks,
    sender: Connection,
    finish: Callable[[], None] | None,
) -> None:
    try:
        while (block := blocks.claim()) is not None:
            try:
                result = function(blocks.of(items, block))
            except BaseException:  # the parent redoes this block and raises the error itself
                sender.send((block, None))
                return
            sender.send((block, result))
    finally:
        sender.close()
        if finish is not None:
            finish()
