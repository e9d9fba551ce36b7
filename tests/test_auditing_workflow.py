"""The auditor's workflow of docs/auditing.md §5 runs as shown: every ``$ `` command of its
``console`` blocks is run in order in one empty folder, and its output and exit code must be
the ones the page shows (keys, signatures, root hashes and the ledger's id are random, so
those are compared by their form; a line ``...`` stands for any lines).

``python tests/test_auditing_workflow.py`` prints the transcript of the page's commands as
they run now, to paste into the page.
"""

from __future__ import annotations

import os
import re
import shlex
import sqlite3
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from caseledger.cli import app

PAGE = Path(__file__).parent.parent / "docs" / "auditing.md"
BLOCK = re.compile(r"^```console\n(.*?)^```", re.MULTILINE | re.DOTALL)
EXIT = re.compile(r"^\[exit (\d+)\]$")
VARIABLE = [
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<id>"),
    (re.compile(r"\+[0-9a-f]{8}\+"), "+<key id>+"),
    (re.compile(r"[A-Za-z0-9+/]{40,}={0,2}"), "<base64>"),
]
ENV = {"CASELEDGER_DB": "sqlite:///ledger.db", "COLUMNS": "200"}


def commands() -> list[tuple[str, list[str], int]]:
    """Each command of the page: its line, the output shown, the exit code shown (0)."""
    found = []
    for block in BLOCK.findall(PAGE.read_text(encoding="utf-8")):
        for chunk in re.split(r"^\$ ", block, flags=re.MULTILINE)[1:]:
            line, *output = chunk.rstrip("\n").split("\n")
            code = 0
            if output and (match := EXIT.match(output[-1])):
                code = int(match.group(1))
                output.pop()
            found.append((line, output, code))
    return found


def run(line: str) -> tuple[list[str], int]:
    """Run one command of the page in the current folder: its output lines, exit code."""
    words = shlex.split(line)
    if words[0] == "cat":
        return Path(words[1]).read_text(encoding="utf-8").rstrip("\n").split("\n"), 0
    if words[0] == "sqlite3":
        with sqlite3.connect(words[1]) as db:
            rows = db.execute(words[2]).fetchall()
        return ["|".join(str(v) for v in row) for row in rows], 0
    assert words[0] == "caseledger", f"the page may run caseledger, cat and sqlite3: {line}"
    result = CliRunner().invoke(app, words[1:], env=ENV)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    output = result.output.rstrip("\n")
    return (output.split("\n") if output else []), result.exit_code


def _form(line: str) -> str:
    for pattern, placeholder in VARIABLE:
        line = pattern.sub(placeholder, line)
    return line.rstrip()


def matches(shown: list[str], got: list[str]) -> bool:
    """``got`` has the lines ``shown`` (compared by form), where ``...`` is any lines."""
    if not shown:
        return not got
    if shown[0] == "...":
        return any(matches(shown[1:], got[i:]) for i in range(len(got) + 1))
    return bool(got) and _form(shown[0]) == _form(got[0]) and matches(shown[1:], got[1:])


def test_the_auditors_workflow_runs_as_the_page_shows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    page = commands()
    assert len(page) >= 12
    for line, shown, code in page:
        got, exit_code = run(line)
        assert exit_code == code, f"$ {line}\n" + "\n".join(got)
        assert matches(shown, got), (
            f"$ {line}\nshown:\n" + "\n".join(shown) + "\ngot:\n" + ("\n".join(got))
        )


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)
        for line, _, _ in commands():
            got, code = run(line)
            sys.stdout.write(f"$ {line}\n" + "".join(f"{g}\n" for g in got))
            if code:
                sys.stdout.write(f"[exit {code}]\n")
