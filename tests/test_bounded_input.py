"""Every input is typed and bounded: nesting, lengths and the size of one command are
limited (``caseledger.domain.limits``), numbers that are not finite are refused, and no
input, however malformed, raises anything but the library's own errors; a refused input
records nothing."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from caseledger import CaseLedger, CaseLedgerError, InputLimitExceeded, InvalidCommand
from caseledger.cli import app
from caseledger.domain.limits import COMMAND_LIMITS
from caseledger.errors import BatchItemError, BatchRejected
from caseledger.interchange.files import record_file
from caseledger.interchange.jsonl import ParsedLine, parse_lines
from tests.conftest import fixed_clock
from tests.helpers import RECEIVED, at, command, snapshot

VALID = command("QZ-9", 1, RECEIVED, at(12))


def _nested(depth: int, leaf: Any = 1) -> Any:
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*path, key))
    return found


def _put(value: Any, path: tuple[Any, ...], leaf: Any) -> Any:
    if not path:
        return leaf
    return {**value, path[0]: _put(value.get(path[0], {}), path[1:], leaf)}


JSON_LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
    st.sampled_from(["received", "accepted", "a", "national", "2026-10-12T09:00:00+08:00"]),
)  # fmt: skip
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)
MUTATIONS = st.tuples(
    st.sampled_from(_paths(VALID)),
    st.one_of(JSON_VALUES, st.integers(0, 3000).map(_nested)),
)


@given(MUTATIONS)
def test_a_malformed_command_raises_only_the_librarys_own_errors(
    mutation: tuple[tuple[Any, ...], Any],
) -> None:
    path, leaf = mutation
    data = _put(VALID, path, leaf)
    with CaseLedger("sqlite:///:memory:", clock=fixed_clock) as ledger:
        try:
            ledger.record(data)
        except CaseLedgerError:
            assert snapshot(ledger) == []


@given(MUTATIONS, st.binary(max_size=40))
def test_a_malformed_line_gives_only_line_errors_never_an_exception(
    mutation: tuple[tuple[Any, ...], Any], noise: bytes
) -> None:
    path, leaf = mutation
    try:
        line = orjson.dumps(_put(VALID, path, leaf))
    except orjson.JSONEncodeError:  # NaN is written as null, deep nesting refused: make text
        line = orjson.dumps(VALID)[:-1] + b', "x": ' + b"[" * 3000 + b"]" * 3000 + b"}"
    for text in (line, line[: len(noise)] + noise, noise):
        for item in parse_lines([text]):
            assert isinstance(item, ParsedLine | BatchItemError)


def test_deep_nesting_is_refused_naming_the_limit(ledger: CaseLedger) -> None:
    for deep in (_nested(COMMAND_LIMITS.max_depth), _nested(100_000)):
        with pytest.raises(InputLimitExceeded) as refused:
            ledger.record({**VALID, "actor": deep})
        assert refused.value.limit == "max_depth"
        assert refused.value.maximum == COMMAND_LIMITS.max_depth
        assert "max_depth" in str(refused.value)
    line = orjson.dumps(VALID)[:-1] + b', "x": ' + b"[" * 900 + b"]" * 900 + b"}"
    (problem,) = parse_lines([line])
    assert isinstance(problem, BatchItemError)
    assert "max_depth" in problem.message
    assert snapshot(ledger) == []


def test_not_a_finite_number_is_refused_never_stored_as_null(ledger: CaseLedger) -> None:
    for value in (math.nan, math.inf, -math.inf):
        for path in (("actor", "window"), ("event",), ("event", "documents")):
            with pytest.raises(InvalidCommand, match="not a JSON number"):
                ledger.record(_put(VALID, path, value))
    for text in (b"NaN", b"Infinity", b"-Infinity"):
        line = orjson.dumps(VALID).replace(b'"window_a"', text)
        (problem,) = parse_lines([line])
        assert isinstance(problem, BatchItemError)
    assert snapshot(ledger) == []


def test_a_huge_event_is_refused_naming_the_limit(ledger: CaseLedger, tmp_path: Path) -> None:
    names = [f"材料{n}" for n in range(100_000)]
    with pytest.raises(InputLimitExceeded) as refused:
        ledger.record({**VALID, "event": {**RECEIVED, "documents": names}})
    assert (refused.value.limit, refused.value.path) == ("max_items", "event.documents")
    few_long = [f"{n}" + "长" * 190 for n in range(600)]  # each name valid, the whole too big
    with pytest.raises(InputLimitExceeded) as refused:
        ledger.record({**VALID, "event": {**RECEIVED, "documents": few_long}})
    assert refused.value.limit == "max_bytes"
    with pytest.raises(InputLimitExceeded, match="max_string_chars"):
        ledger.record({**VALID, "actor": {"person": "x" * 20_000}})
    big = tmp_path / "big.jsonl"
    big.write_bytes(orjson.dumps({**VALID, "event": {**RECEIVED, "documents": names}}) + b"\n")
    with pytest.raises(BatchRejected) as rejected:
        record_file(ledger, big)
    assert [e.position for e in rejected.value.errors] == [1]
    assert "max_bytes" in rejected.value.errors[0].message
    assert snapshot(ledger) == []


def test_the_command_line_refuses_a_deep_file_in_one_typed_line(tmp_path: Path) -> None:
    bad = tmp_path / "deep.jsonl"
    deep = orjson.dumps(VALID)[:-1] + b', "x": ' + b"[" * 1000 + b"]" * 1000 + b"}"
    bad.write_bytes(orjson.dumps(VALID) + b"\n" + deep + b"\n")
    result = CliRunner().invoke(app, ["--db", f"sqlite:///{tmp_path}/l.db", "record", str(bad)])
    assert result.exit_code == 1, result.output
    assert "max_depth" in result.output
    assert "Traceback" not in result.output


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(MUTATIONS, st.binary(max_size=60))
def test_record_of_any_file_exits_0_or_1_with_a_typed_error_never_a_crash(
    tmp_path: Path, mutation: tuple[tuple[Any, ...], Any], noise: bytes
) -> None:
    path, leaf = mutation
    try:
        line = orjson.dumps(_put(VALID, path, leaf))
    except orjson.JSONEncodeError:
        line = b"[" * 2000
    bad = tmp_path / "fuzzed.jsonl"
    bad.write_bytes(orjson.dumps(VALID) + b"\n" + line + b"\n" + noise + b"\n")
    db = f"sqlite:///{tmp_path}/fuzzed.db"
    result = CliRunner().invoke(app, ["--db", db, "record", str(bad)])
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    if result.exit_code == 1:
        assert result.stderr.startswith("error: ")
