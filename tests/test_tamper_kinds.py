"""Each kind of tampering named by issue 13, done with SQL on a demo ledger (cases and
parallel-approval projects) after a signed checkpoint was taken, is detected by ``verify``
against that checkpoint, naming the case and version; on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from caseledger import CaseLedger, Checkpoint, SealError, Signer, new_signer
from caseledger.demo import demo_month
from caseledger.domain.chain import GENESIS_HASH, event_hash
from tests import tamper
from tests.conftest import fixed_clock
from tests.helpers import RECEIVED, command


@dataclass
class Demo:
    url: str
    ledger: CaseLedger
    signer: Signer
    checkpoint: Checkpoint

    def breaks(self) -> dict[tuple[str, int], str]:
        report = self.ledger.verify(checkpoint=self.checkpoint, key=self.signer.verifier)
        assert not report.ok
        return {(b.case_no, b.version): b.problem for b in report.breaks}

    def problems(self) -> tuple[str, ...]:
        report = self.ledger.verify(checkpoint=self.checkpoint, key=self.signer.verifier)
        return report.problems


def _table(url: str) -> tuple[str, str]:
    if url.startswith("sqlite"):
        return "stored_events", "rowid"
    return "caseledger_events", "notification_id"


def _rows(url: str) -> list[tuple[int, str, int, str, bytes]]:
    table, position = _table(url)
    rows = tamper.execute(
        url,
        f"SELECT {position}, originator_id, originator_version, topic, state FROM {table} "
        f"ORDER BY {position}",
    )
    return [(int(p), str(c), int(v), str(t), bytes(s)) for p, c, v, t, s in rows]


@pytest.fixture
def demo(open_ledger: Any, ledger_url: str) -> Iterator[Demo]:
    """The demo's first month (cases and projects, 78 events), checkpointed."""
    ledger: CaseLedger = open_ledger()
    ledger.record_batch(demo_month(1))
    signer = new_signer("caseledger.demo")
    yield Demo(ledger_url, ledger, signer, ledger.checkpoint(signer))


def _a_case_with(url: str, versions: int) -> str:
    counts: dict[str, int] = {}
    for _, case_no, _, _, _ in _rows(url):
        counts[case_no] = counts.get(case_no, 0) + 1
    return next(c for c, n in counts.items() if n >= versions and not c.startswith("#"))


def test_the_untouched_demo_ledger_verifies_against_its_checkpoint(demo: Demo) -> None:
    report = demo.ledger.verify(checkpoint=demo.checkpoint, key=demo.signer.verifier)
    assert report.ok and report.checkpoint == report.events + report.packs == 80


def test_a_flipped_byte_of_a_stored_state_is_named(demo: Demo) -> None:
    case_no = _a_case_with(demo.url, 3)
    state = bytearray(tamper.state_of(demo.url, case_no, 2))
    state[len(state) // 2] ^= 0x01
    tamper.set_state(demo.url, case_no, 2, bytes(state))
    assert (case_no, 2) in demo.breaks()


def test_a_deleted_middle_event_is_named(demo: Demo) -> None:
    case_no = _a_case_with(demo.url, 3)
    tamper.delete(demo.url, case_no, 2)
    assert "deleted" in demo.breaks()[case_no, 2] or "missing" in demo.breaks()[case_no, 2]


def test_a_deleted_last_event_is_named_as_cut_off(demo: Demo) -> None:
    case_no = _a_case_with(demo.url, 3)
    last = max(v for _, c, v, _, _ in _rows(demo.url) if c == case_no)
    tamper.delete(demo.url, case_no, last)
    assert demo.ledger.verify().ok  # the chain alone cannot see it
    assert "cut off" in demo.breaks()[case_no, last]


def test_a_deleted_whole_case_is_named(demo: Demo) -> None:
    case_no = _a_case_with(demo.url, 3)
    table, _ = _table(demo.url)
    tamper.execute(demo.url, f"DELETE FROM {table} WHERE originator_id = ?", (case_no,))
    assert demo.ledger.verify().ok
    assert "the whole case is gone" in demo.breaks()[case_no, 1]


def test_a_deleted_project_is_named(demo: Demo) -> None:
    project = next(c for _, c, _, _, _ in _rows(demo.url) if c.startswith("#"))
    table, _ = _table(demo.url)
    tamper.execute(demo.url, f"DELETE FROM {table} WHERE originator_id = ?", (project,))
    assert "the whole case is gone" in demo.breaks()[project, 1]


def test_two_swapped_events_are_named(demo: Demo) -> None:
    case_no = _a_case_with(demo.url, 3)
    second, third = (tamper.state_of(demo.url, case_no, v) for v in (2, 3))
    tamper.set_state(demo.url, case_no, 2, third)
    tamper.set_state(demo.url, case_no, 3, second)
    breaks = demo.breaks()
    assert (case_no, 2) in breaks and (case_no, 3) in breaks


def _forged(url: str, case_no: str) -> bytes:
    """A first event for ``case_no`` whose chain hash is right: a copy of a real one."""
    rows = _rows(url)
    state = json.loads(next(s for _, c, v, _, s in rows if v == 1 and not c.startswith("#")))
    state.pop("hash")
    state["prev_hash"] = GENESIS_HASH
    state["hash"] = event_hash(case_no, 1, "received", state)
    return json.dumps(state, ensure_ascii=False).encode()


def test_a_forged_event_inserted_among_the_signed_ones_is_named(demo: Demo) -> None:
    table, position = _table(demo.url)
    at = _rows(demo.url)[40][0]
    top = _rows(demo.url)[-1][0]
    for p in range(top, at, -1):  # make room, from the end (the column is unique)
        tamper.execute(demo.url, f"UPDATE {table} SET {position} = ? WHERE {position} = ?",
                       (p + 1, p))  # fmt: skip
    tamper.execute(
        demo.url,
        f"INSERT INTO {table} ({position}, originator_id, originator_version, topic, state) "
        "VALUES (?, ?, 1, 'received', ?)",
        (at + 1, "QZ-FORGED", _forged(demo.url, "QZ-FORGED")),
    )
    if not demo.url.startswith("sqlite"):  # in the log's recording order, among the signed:
        # the transaction id of the event before it (with its own, it would come last)
        tamper.execute(
            demo.url,
            f"UPDATE {table} SET transaction_id = (SELECT transaction_id FROM {table} "
            f"WHERE {position} = ?) WHERE {position} = ?",
            (at, at + 1),
        )
    assert demo.ledger.verify().ok  # its chain is right
    assert "inserted among the signed events" in demo.breaks()["QZ-FORGED", 1]


def _rewrite(url: str, case_no: str) -> list[int]:
    """Change the case's first event and recompute every hash of its chain, as an insider
    who knows the hash rule would; the versions rewritten."""
    previous = GENESIS_HASH
    versions = []
    for _, c, version, topic, data in _rows(url):
        if c != case_no:
            continue
        state = json.loads(data)
        state.pop("hash")
        if version == 1:
            state["actor"]["person"] = "FORGED"
        state["prev_hash"] = previous
        state["hash"] = previous = event_hash(case_no, version, topic, state)
        tamper.set_state(url, case_no, version, json.dumps(state, ensure_ascii=False).encode())
        versions.append(version)
    return versions


def test_a_case_rewritten_with_every_hash_recomputed_is_named(demo: Demo) -> None:
    case_no = _a_case_with(demo.url, 3)
    versions = _rewrite(demo.url, case_no)
    assert demo.ledger.verify().ok  # every chain is right
    breaks = demo.breaks()
    assert all("altered since the checkpoint" in breaks[case_no, v] for v in versions)


def test_a_rewrite_of_the_events_and_of_the_tree_is_caught_whole(demo: Demo) -> None:
    from caseledger.audit.log import TreeLog

    case_no = _a_case_with(demo.url, 3)
    _rewrite(demo.url, case_no)
    for table in ("caseledger_tree_leaves", "caseledger_tree_nodes"):
        tamper.execute(demo.url, f"DELETE FROM {table}")
    tamper.execute(demo.url, "UPDATE caseledger_tree SET size = 0, last_position = 0")
    TreeLog(demo.ledger.store).extend()  # the insider rebuilds the tree too
    [problem] = demo.problems()
    assert "do not hash to the checkpoint's root" in problem or "forked" in problem


@pytest.mark.parametrize("column", ["originator_id", "originator_version", "topic", "state"])
def test_a_flipped_bit_in_any_column_of_a_row_is_named_by_case_and_version(
    demo: Demo, column: str
) -> None:
    case_no = _a_case_with(demo.url, 3)
    table, _ = _table(demo.url)
    [(value,)] = tamper.execute(
        demo.url,
        f"SELECT {column} FROM {table} WHERE originator_id = ? AND originator_version = 2",
        (case_no,),
    )
    if isinstance(value, int):
        changed: Any = value ^ 4
    else:
        raw = bytearray(value.encode() if isinstance(value, str) else bytes(value))
        raw[1] ^= 0x20
        changed = raw.decode() if isinstance(value, str) else bytes(raw)
    tamper.execute(
        demo.url,
        f"UPDATE {table} SET {column} = ? WHERE originator_id = ? AND originator_version = 2",
        (changed, case_no),
    )
    assert (case_no, 2) in demo.breaks()


def test_a_log_that_forked_from_the_checkpoint_is_named(sqlite_url: str, tmp_path: Path) -> None:
    """A copy of the database file (the same ledger: its identity came with it) that went
    its own way after its 30th event."""
    with CaseLedger(sqlite_url, clock=fixed_clock) as ledger:
        ledger.record_batch(demo_month(1))
        signer = new_signer("caseledger.demo")
        demo = Demo(sqlite_url, ledger, signer, ledger.checkpoint(signer))
    path = demo.url.removeprefix("sqlite:///")
    shutil.copy(path, tmp_path / "copy.db")  # the same ledger (its identity came along)
    with CaseLedger(f"sqlite:///{tmp_path}/copy.db", clock=fixed_clock) as copy:
        url = f"sqlite:///{tmp_path}/copy.db"
        table, position = _table(url)
        tamper.execute(url, f"DELETE FROM {table} WHERE {position} > 30")
        for name in ("caseledger_tree_leaves", "caseledger_tree_nodes"):
            tamper.execute(url, f"DELETE FROM {name}")
        tamper.execute(url, "UPDATE caseledger_tree SET size = 0, last_position = 0")
        for n in range(60):  # went its own way, by the rules, past the checkpoint's size
            copy.record(command(f"QZ-COPY-{n}", 1, RECEIVED, "2026-10-12T09:00:00+08:00"))
        with pytest.raises(SealError, match="does not extend its last checkpoint"):
            copy.checkpoint(demo.signer)  # the copy's tree is made whole by the attempt
        report = copy.verify(checkpoint=demo.checkpoint, key=demo.signer.verifier)
    assert not report.ok and report.breaks == ()
    [problem] = report.problems
    assert "forked from the checkpoint" in problem


def test_an_event_appended_after_a_seal_with_an_earlier_time_fails_the_seal(
    open_ledger: Any, ledger_url: str
) -> None:
    """The seal counts its events and says when it was taken; both are checked."""
    import datetime as dt

    ledger: CaseLedger = open_ledger()
    ledger.record_batch(demo_month(1)[:20])
    seal = ledger.seal()
    case_no = _a_case_with(ledger_url, 2)
    rows = [r for r in _rows(ledger_url) if r[1] == case_no]
    _, _, version, _, data = rows[-1]
    state = json.loads(data)
    state.pop("hash")
    state["prev_hash"] = json.loads(data)["hash"]
    state["recorded_at"] = (fixed_clock() - dt.timedelta(days=1)).isoformat()
    state["event"] = {"complaint_id": "T1", "summary": "s"}
    state["hash"] = event_hash(case_no, version + 1, "complaint_filed", state)
    table, _ = _table(ledger_url)
    tamper.execute(
        ledger_url,
        f"INSERT INTO {table} (originator_id, originator_version, topic, state) "
        "VALUES (?, ?, 'complaint_filed', ?)",
        (case_no, version + 1, json.dumps(state, ensure_ascii=False).encode()),
    )
    assert ledger.verify().ok  # the chain takes it
    report = ledger.verify(seal=seal)
    [late] = [b for b in report.breaks if b.case_no == case_no]
    assert late.version == version + 1 and "before the seal" in late.problem


@given(data=st.data())
def test_any_bit_flipped_in_any_stored_row_is_reported_never_raised(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    """Issue 13's crashes: flips in the topic column (bytes in a TEXT column) and versions
    that are not integers end in a report naming the case and version, with or without a
    checkpoint."""
    url = f"sqlite:///{tmp_path_factory.mktemp('flips')}/ledger.db"
    with CaseLedger(url, clock=fixed_clock) as ledger:
        for n in (1, 2):
            ledger.record(command(f"QZ-{n}", 1, RECEIVED, "2026-10-12T09:00:00+08:00"))
        signer = new_signer("t")
        checkpoint = ledger.checkpoint(signer)
        case_no = data.draw(st.sampled_from(["QZ-1", "QZ-2"]), label="case")
        column = data.draw(st.sampled_from(["originator_id", "originator_version", "topic",
                                            "state"]), label="column")  # fmt: skip
        [(value,)] = tamper.execute(
            url, f"SELECT {column} FROM stored_events WHERE originator_id = ?", (case_no,)
        )
        if isinstance(value, int):
            kind = data.draw(st.sampled_from(["bit", "text"]), label="kind")
            changed: Any = value ^ (1 << data.draw(st.integers(0, 30))) if kind == "bit" else "1x"
        else:
            raw = bytearray(value.encode() if isinstance(value, str) else value)
            position = data.draw(st.integers(0, len(raw) - 1), label="position")
            raw[position] ^= 1 << data.draw(st.integers(0, 7), label="bit")
            changed = bytes(raw)  # stored as a BLOB, whatever the column says
        tamper.execute(
            url, f"UPDATE stored_events SET {column} = ? WHERE originator_id = ?",
            (changed, case_no),
        )  # fmt: skip
        plain = ledger.verify()
        signed = ledger.verify(checkpoint=checkpoint, key=signer.verifier)
    assert not signed.ok and not plain.ok
    assert (case_no, 1) in {(b.case_no, b.version) for b in signed.breaks}


def test_a_damaged_tree_over_intact_events_is_no_tampering_and_is_rebuilt(demo: Demo) -> None:
    """The tree is a cache: the events decide. Damaged or dropped, it is made again by the
    next checkpoint, which the events of the last one allow."""
    tamper.execute(demo.url, "DELETE FROM caseledger_tree_nodes")
    tamper.execute(demo.url, "UPDATE caseledger_tree_leaves SET hash = ? WHERE leaf_index = 3",
                   (b"\0" * 32,))  # fmt: skip
    assert demo.ledger.verify(checkpoint=demo.checkpoint, key=demo.signer.verifier).ok
    again = demo.ledger.checkpoint(demo.signer)
    assert (again.size, again.root) == (demo.checkpoint.size, demo.checkpoint.root)
    for table in ("caseledger_tree_leaves", "caseledger_tree_nodes", "caseledger_tree"):
        tamper.execute(demo.url, f"DROP TABLE {table}")
    assert demo.ledger.verify(checkpoint=demo.checkpoint, key=demo.signer.verifier).ok
    assert demo.ledger.checkpoint(demo.signer).root == demo.checkpoint.root


def test_events_changed_and_the_tree_dropped_are_caught_whole(demo: Demo) -> None:
    case_no = _a_case_with(demo.url, 3)
    last = max(v for _, c, v, _, _ in _rows(demo.url) if c == case_no)
    tamper.delete(demo.url, case_no, last)  # no chain shows it
    for table in ("caseledger_tree_leaves", "caseledger_tree_nodes", "caseledger_tree"):
        tamper.execute(demo.url, f"DROP TABLE {table}")
    report = demo.ledger.verify(checkpoint=demo.checkpoint, key=demo.signer.verifier)
    assert not report.ok and any("the ledger's tree" in p for p in report.problems)
    with pytest.raises(SealError, match=r"its last checkpoint .*cannot be signed"):
        demo.ledger.checkpoint(demo.signer)


def test_every_bit_flipped_in_the_topic_and_version_columns_is_reported_not_raised(
    sqlite_url: str,
) -> None:
    """Issue 13 counted 16 of 2,997 single-bit flips of stored rows ending in ``TypeError``
    (the topic column, where SQLite keeps the flipped bytes as a BLOB) and a traceback for
    a version that is no integer. Every flip of those two columns of every row is named."""
    with CaseLedger(sqlite_url, clock=fixed_clock) as ledger:
        for n in (1, 2):
            ledger.record(command(f"QZ-{n}", 1, RECEIVED, "2026-10-12T09:00:00+08:00"))
        rows = _rows(sqlite_url)
        for position, case_no, version, topic, _ in rows:
            where = "WHERE rowid = ?"
            for index in range(len(topic)):
                for bit in range(8):
                    raw = bytearray(topic.encode())
                    raw[index] ^= 1 << bit
                    tamper.execute(sqlite_url, f"UPDATE stored_events SET topic = ? {where}",
                                   (bytes(raw), position))  # fmt: skip
                    assert [(b.case_no, b.version) for b in ledger.verify().breaks] == [
                        (case_no, version)
                    ]
            tamper.execute(sqlite_url, f"UPDATE stored_events SET topic = ? {where}",
                           (topic, position))  # fmt: skip
            for changed in ("1x", 1.5, None, b"\x01"):  # ("1" is stored as 1: the same)
                tamper.execute(sqlite_url, f"UPDATE stored_events SET originator_version = ? "
                               f"{where}", (changed, position))  # fmt: skip
                report = ledger.verify()
                assert [(b.case_no, b.version) for b in report.breaks] == [(case_no, 1)]
                assert "unreadable stored row" in report.breaks[0].problem
            tamper.execute(sqlite_url, f"UPDATE stored_events SET originator_version = ? "
                           f"{where}", (version, position))  # fmt: skip
        assert ledger.verify().ok


def test_two_events_of_different_cases_swapped_in_the_log_are_named_as_moved(
    demo: Demo,
) -> None:
    """The order across cases is in no chain; it is in the tree."""
    table, position = _table(demo.url)
    rows = _rows(demo.url)
    n = next(i for i in range(10, len(rows)) if rows[i][1] != rows[i + 1][1])
    first, second = rows[n], rows[n + 1]  # neighbours of two cases: no chain can tell
    for old, new in ((first[0], -1), (second[0], first[0]), (-1, second[0])):
        tamper.execute(demo.url, f"UPDATE {table} SET {position} = ? WHERE {position} = ?",
                       (new, old))  # fmt: skip
    assert demo.ledger.verify().ok  # every chain still holds
    breaks = demo.breaks()
    assert any("moved" in problem for problem in breaks.values())
    assert {(first[1], first[2]), (second[1], second[2])} & breaks.keys()
