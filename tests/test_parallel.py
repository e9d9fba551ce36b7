"""Spreading pure work over forked processes: same answers, same errors, in order."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import pytest

from caseledger.readmodels import parallel
from caseledger.readmodels.parallel import block_results_in_processes, worker_count

R = TypeVar("R")


@pytest.fixture(autouse=True)
def _small_shares(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "MIN_ITEMS_PER_WORKER", 1)


def map_in_processes(function: Callable[[int], R], items: list[int], workers: int) -> list[R]:
    """``[function(x) for x in items]`` through the block runner."""
    with block_results_in_processes(
        lambda block: [function(x) for x in block], items, workers
    ) as results:
        return list(results)


def _square(x: int) -> tuple[int, int]:
    return x, x * x


def _fails_on_thirteen(x: int) -> int:
    if x == 13:
        raise ValueError(f"item {x} is unlucky")
    return x


@pytest.mark.parametrize("workers", [1, 2, 3, 7])
def test_results_come_back_in_item_order_whatever_the_number_of_workers(workers: int) -> None:
    items = list(range(50))
    assert map_in_processes(_square, items, workers) == [_square(x) for x in items]


def test_a_worker_s_error_is_raised_in_the_caller_with_its_message() -> None:
    assert worker_count(40, 4) == 4, "this test must fork"
    # 13 falls in the share of worker 1 of 4 (items 1, 5, 9, 13, ...): a forked worker
    with pytest.raises(ValueError, match="item 13 is unlucky"):
        map_in_processes(_fails_on_thirteen, list(range(40)), 4)


def test_few_items_or_other_threads_keep_the_work_in_this_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import threading

    monkeypatch.setattr(parallel, "MIN_ITEMS_PER_WORKER", 10)
    assert worker_count(15, 4) == 1
    assert worker_count(40, 4) == 4
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert worker_count(40, 4) == 1  # a fork would copy the other thread's locks
    finally:
        stop.set()
        thread.join()


@pytest.mark.parametrize("workers", [1, 3])
def test_a_function_of_blocks_gives_one_result_per_item_in_item_order(
    workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "CHUNK", 64)
    items = list(range(200))
    here: list[int] = []

    def squares(block: Sequence[int]) -> list[tuple[int, int]]:
        here.append(len(block))  # the blocks this process took
        return _squares(block)

    with block_results_in_processes(squares, items, workers) as results:
        assert list(results) == [_square(x) for x in items]
    if workers == 1:
        assert here == [64, 64, 64, 8]


def test_each_forked_worker_finishes_when_no_block_is_left(tmp_path: Path) -> None:
    def finish() -> None:
        (tmp_path / str(os.getpid())).write_text("closed")

    with block_results_in_processes(_squares, list(range(90)), 3, finish=finish) as results:
        assert list(results) == [_square(x) for x in range(90)]
    finished = sorted(p.name for p in tmp_path.iterdir())
    assert len(finished) == 2 and str(os.getpid()) not in finished, "one per forked worker"
    # the pipes of workers are widened where the system allows it (Linux): only speed differs
    assert parallel._PIPE_BYTES >= 1 << 16


def _squares(block: Sequence[int]) -> list[tuple[int, int]]:
    return [_square(x) for x in block]
