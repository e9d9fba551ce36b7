"""The HTTP API against the real server (``caseledger serve`` on 127.0.0.1), on SQLite and on
PostgreSQL: recording (idempotent retries, all-or-nothing batches), who may do what, bad
input as problem details (never a 500, never a partial write), and every reading."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from caseledger import CaseLedger
from tests.helpers import ACCEPTED, RECEIVED, WINDOW_A, at, command
from tests.http_server import DEPARTMENT, Server, postgres_schema, running_server

ROOT = Path(__file__).parent.parent
PROBLEM = "application/problem+json"


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("log") / "serve.log"
    if request.param == "sqlite":
        db = f"sqlite:///{tmp_path_factory.mktemp('http')}/ledger.db"
        with running_server(db, log=log) as running:
            yield running
    else:
        with postgres_schema() as db, running_server(db, log=log) as running:
            yield running


def _events(server: Server) -> int:
    with server.client("auditor") as client:
        events: int = client.get("/api/v1/verify").json()["events"]
    return events


def _problem(response: httpx.Response, status: int, title: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    problem: dict[str, object] = response.json()
    assert problem["title"] == title and problem["status"] == status
    assert isinstance(problem["detail"], str) and problem["detail"]
    return problem


def test_a_command_is_recorded_once_and_its_retry_answers_with_the_original_result(
    server: Server,
) -> None:
    line = command("HTTP-1", 1, RECEIVED, at(12))
    with server.client("window") as client:
        first = client.post("/api/v1/commands", json=line)
        again = client.post("/api/v1/commands", json=line)
        changed = client.post("/api/v1/commands", json={**line, "at": at(12, 10)})
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["already_recorded"] is False
    assert again.json() == {**first.json(), "already_recorded": True}
    problem = _problem(changed, 409, "CommandIdReused")
    assert "a retry must resend the same command unchanged" in str(problem["detail"])


def test_a_batch_with_one_bad_item_records_nothing_and_names_the_item(server: Server) -> None:
    before = _events(server)
    good = command("HTTP-2", 1, RECEIVED, at(12))
    bad = command("HTTP-2", 2, {**ACCEPTED, "rule_pack": "no_such_pack"}, at(12, 9, 30))
    with server.client("window") as client:
        refused = client.post("/api/v1/batches", json=[good, bad])
        missing = client.get("/api/v1/cases/HTTP-2", headers=_reader(server))
        lines = "\n".join(json.dumps(c, ensure_ascii=False) for c in (good,))
        recorded = client.post(
            "/api/v1/batches", content=lines, headers={"content-type": "application/x-ndjson"}
        )
    problem = _problem(refused, 422, "BatchRejected")
    errors = problem["errors"]
    assert isinstance(errors, list) and [e["position"] for e in errors] == [2]
    assert "no_such_pack" in str(problem["detail"])
    assert missing.status_code == 404
    assert recorded.status_code == 200 and recorded.json()["recorded"] == 1
    assert _events(server) == before + 1


def _reader(server: Server) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.tokens['supervision']}"}


def test_a_window_records_only_for_its_own_department_and_only_records(server: Server) -> None:
    before = _events(server)
    other = {**WINDOW_A, "department": "市住房和城乡建设局"}
    with server.client("window") as client:
        foreign = client.post(
            "/api/v1/commands", json=command("HTTP-3", 1, RECEIVED, at(12), other)
        )
        batch = client.post(
            "/api/v1/batches",
            json=[
                command("HTTP-4", 1, RECEIVED, at(12)),
                command("HTTP-5", 1, RECEIVED, at(12), other),
            ],
        )
        reading = client.get("/api/v1/board")
    assert other["department"] != DEPARTMENT
    assert "its own department" in str(_problem(foreign, 403, "NotPermitted")["detail"])
    _problem(batch, 403, "NotPermitted")
    _problem(reading, 403, "NotPermitted")
    with server.client("supervision") as client:
        _problem(
            client.post("/api/v1/commands", json=command("HTTP-6", 1, RECEIVED, at(12))),
            403,
            "NotPermitted",
        )
        _problem(client.get("/api/v1/verify"), 403, "NotPermitted")
        _problem(client.get("/api/v1/tokens"), 403, "NotPermitted")
    assert _events(server) == before


def test_missing_forged_and_revoked_tokens_are_refused_with_401(server: Server) -> None:
    with httpx.Client(base_url=server.base) as anonymous:
        _problem(anonymous.get("/api/v1/board"), 401, "NotAuthenticated")
        forged = {"Authorization": "Bearer clt_" + "x" * 43}
        _problem(anonymous.get("/api/v1/board", headers=forged), 401, "NotAuthenticated")
        basic = {"Authorization": "Basic dXNlcjpwYXNz"}
        _problem(anonymous.get("/api/v1/board", headers=basic), 401, "NotAuthenticated")
    with server.client("admin") as admin:
        made = admin.post("/api/v1/tokens", json={"role": "supervision", "label": "temporary"})
        assert made.status_code == 201
        secret, token_id = made.json()["secret"], made.json()["token_id"]
        listed = admin.get("/api/v1/tokens").json()
        assert token_id in [t["token_id"] for t in listed]
        assert all("secret" not in t and "digest" not in t for t in listed)
        headers = {"Authorization": f"Bearer {secret}"}
        assert httpx.get(f"{server.base}/api/v1/packs", headers=headers).status_code == 200
        assert admin.delete(f"/api/v1/tokens/{token_id}").json()["active"] is False
        _problem(admin.delete("/api/v1/tokens/nope"), 404, "TokenNotFound")
        _problem(admin.post("/api/v1/tokens", json={"role": "window"}), 422, "InvalidToken")
    revoked = httpx.get(f"{server.base}/api/v1/packs", headers=headers)
    _problem(revoked, 401, "NotAuthenticated")
    assert server.log is not None
    logged = server.log.read_text(encoding="utf-8")
    assert "refused GET /api/v1/board: no token" in logged
    assert "refused GET /api/v1/packs: an unknown, forged or revoked token" in logged
    assert secret not in logged and "x" * 43 not in logged


@pytest.mark.parametrize(
    ("body", "status", "title"),
    [
        (b'{"case_no": "HTTP-7", ', 400, "InvalidRequest"),
        (b"", 400, "InvalidRequest"),
        (b"[1, 2]", 422, "InvalidCommand"),
        (
            b'{"case_no": 7, "command_id": [], "at": "yesterday", "actor": 1, "event": {}}',
            422,
            "InvalidCommand",
        ),
        (b'{"case_no": "HTTP-7", "case_no": "HTTP-8"}', 422, "InvalidCommand"),
        (b"\xff\xfe", 400, "InvalidRequest"),
    ],
    ids=["malformed", "empty", "not-an-object", "wrong-types", "duplicate-key", "not-utf8"],
)
def test_a_bad_body_is_a_problem_and_records_nothing(
    server: Server, body: bytes, status: int, title: str
) -> None:
    before = _events(server)
    with server.client("window") as client:
        response = client.post("/api/v1/commands", content=body)
    _problem(response, status, title)
    assert _events(server) == before


def test_a_huge_body_an_unknown_route_and_a_wrong_method_are_problems(server: Server) -> None:
    before = _events(server)
    huge = b"[" + b'{"x": 1},' * 1_000_000 + b"{}]"
    with server.client("window") as client:
        _problem(client.post("/api/v1/batches", content=huge), 413, "Request Too Large")
        chunks = iter([b"[", b" " * (9 * 1024 * 1024), b"]"])
        _problem(client.post("/api/v1/batches", content=chunks), 413, "Request Too Large")
        _problem(client.get("/api/v1/no-such-thing"), 404, "Not Found")
        _problem(client.post("/api/v1/batches", json=[]), 422, "BatchRejected")
        empty = client.post("/api/v1/batches", content=b"\n# nothing\n", headers=_NDJSON)
        _problem(empty, 422, "BatchRejected")
        _problem(client.post("/api/v1/batches", json={"lines": []}), 400, "InvalidRequest")
        wrong = client.put("/api/v1/commands", json={})
        _problem(wrong, 405, "Method Not Allowed")
        assert "POST" in wrong.headers["allow"]
    with server.client("supervision") as client:
        _problem(client.get("/api/v1/board", params={"as_of": "soon"}), 400, "InvalidRequest")
        _problem(client.get("/api/v1/board", params={"offset": -1}), 422, "Invalid Parameter")
        _problem(
            client.get("/api/v1/statistics", params={"by": "colour"}), 422, "Invalid Parameter"
        )
        _problem(
            client.get("/api/v1/board", params={"as_of": "2999-01-01"}), 422, "CalendarRangeError"
        )
        _problem(
            client.get("/api/v1/board", params={"department": "市市场监管"}),
            422,
            "UnknownFilterValue",
        )
        _problem(client.get("/api/v1/cases/NOPE-1"), 404, "CaseNotFound")
    assert _events(server) == before


def test_every_reading_answers_as_the_library_does(server: Server) -> None:
    day = "2026-11-20"
    with CaseLedger(server.db, create=False) as ledger:
        board = ledger.board(dt.date(2026, 11, 20)).as_dict()
        case_no = board["cases"][0]["case_no"]
        history = ledger.history(case_no)
    with server.client("supervision") as client:
        served = client.get("/api/v1/board", params={"as_of": day}).json()
        assert served["cases"] == board["cases"] and served["matching"] == len(board["cases"])
        page = client.get("/api/v1/board", params={"as_of": day, "offset": 1, "limit": 2}).json()
        assert page["cases"] == board["cases"][1:3]
        red = client.get("/api/v1/board", params={"as_of": day, "light": "red"}).json()
        assert red["matching"] == board["red"]
        case = client.get(f"/api/v1/cases/{case_no}").json()
        assert case["version"] == len(history) and case["events"][0]["hash"] == history[0].hash
        lines = client.get(
            f"/api/v1/cases/{case_no}/history", headers={"accept": "application/x-ndjson"}
        ).text.splitlines()
        assert [json.loads(line)["hash"] for line in lines] == [e.hash for e in history]
        evaluation = client.get(f"/api/v1/cases/{case_no}/evaluation", params={"as_of": day}).json()
        assert evaluation["light"] == board["cases"][0]["light"]
        assert evaluation["explanation"][0].startswith(f"case {case_no} as of")
        stats = client.get("/api/v1/statistics", params={"as_of": day, "by": "month"}).json()
        assert sum(r["received"] for r in stats["rows"]) > 0
        assert client.get("/api/v1/scores", params={"as_of": day}).status_code == 200
        projects = client.get("/api/v1/projects", params={"as_of": day}).json()
        assert projects
        project = client.get(f"/api/v1/projects/{projects[0]['project_no']}", params={"as_of": day})
        assert project.json()["light"] == projects[0]["light"]
        assert "national" in [p["name"] for p in client.get("/api/v1/packs").json()]
    with server.client("auditor") as client:
        assert client.get("/api/v1/verify").json()["ok"] is True
        seal = client.post("/api/v1/seals")
        assert seal.status_code == 201 and seal.json()["events"] >= len(history)
        checked = client.post("/api/v1/verify", content=seal.content)
        assert checked.status_code == 200 and checked.json()["ok"] is True
        altered = seal.json() | {"events": seal.json()["events"] + 1}
        problem = _problem(client.post("/api/v1/verify", json=altered), 422, "SealError")
        assert "its root does not match its heads" in str(problem["detail"])
        _problem(client.post("/api/v1/verify", content=b"[]"), 422, "SealError")


def test_the_committed_openapi_document_is_what_the_server_serves(server: Server) -> None:
    served = httpx.get(f"{server.base}/api/v1/openapi.json").json()
    committed = ROOT / "docs" / "schema" / "openapi.json"
    if os.environ.get("CASELEDGER_REGENERATE_OPENAPI") == "1":
        committed.write_text(json.dumps(served, indent=2, ensure_ascii=False) + "\n", "utf-8")
    assert served["openapi"].startswith("3.1")
    assert served == json.loads(committed.read_text(encoding="utf-8")), (
        "regenerate with: CASELEDGER_REGENERATE_OPENAPI=1 pytest tests/test_http_api.py -k openapi"
    )


def test_the_web_boards_pages_and_downloads_say_what_the_api_says(server: Server) -> None:
    import csv
    import io
    import re

    from openpyxl import load_workbook

    day = "2026-11-20"
    with httpx.Client(base_url=server.base, timeout=30) as browser:
        refused = browser.post("/login", content=b"token=clt_forged", headers=_FORM)
        assert refused.status_code == 401 and "令牌无效" in refused.text
        login = browser.post(
            "/login", content=f"token={server.tokens['supervision']}&next=/board", headers=_FORM
        )
        assert login.status_code == 303 and login.headers["location"] == "/board"
        elsewhere = f"token={server.tokens['supervision']}&next=//evil.example"
        assert (
            browser.post("/login", content=elsewhere, headers=_FORM).headers["location"] == "/board"
        )
        with server.client("supervision") as api:
            cases = api.get("/api/v1/board", params={"as_of": day}).json()["cases"]
            months = api.get("/api/v1/statistics", params={"as_of": day, "by": "month"}).json()
        second = browser.get("/board", params={"as_of": day, "page": 2, "size": 2})
        shown = re.findall(r'class="case-link" href="/cases/([^?"]+)', second.text)
        assert len(cases) > 4 and shown == [c["case_no"] for c in cases[2:4]]
        assert "size=2&amp;page=3" in second.text and "size=2&amp;page=1" in second.text
        book = load_workbook(io.BytesIO(browser.get("/board.xlsx", params={"as_of": day}).content))
        sheet = book.active
        assert sheet is not None
        rows = list(sheet.iter_rows(values_only=True))
        assert [r[0] for r in rows[1:]] == [c["case_no"] for c in cases]
        text = browser.get("/statistics.csv", params={"as_of": day, "by": "month"}).text
        table = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
        assert [(r[0], int(r[1])) for r in table[1:]] == [
            (r["key"], r["received"]) for r in months["rows"]
        ]
        case_no = cases[0]["case_no"]
        early = browser.get(f"/cases/{case_no}", params={"as_of": "2026-10-01"})
        assert early.status_code == 404 and "received after" in early.text
        wrong = browser.get("/board", params={"department": "市市场监管"})
        assert wrong.status_code == 422 and "UnknownFilterValue" in wrong.text
    with httpx.Client(base_url=server.base) as anonymous:
        page = anonymous.get("/board")
        assert page.status_code == 401 and "登录" in page.text


_NDJSON = {"content-type": "application/x-ndjson"}
_FORM = {"content-type": "application/x-www-form-urlencoded"}


def test_the_curl_examples_of_the_http_page_run_against_the_server(server: Server) -> None:
    import re
    import subprocess

    page = (ROOT / "docs" / "http.md").read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"^```sh\n(.*?)^```", page, re.M | re.S) if "curl " in b]
    assert len(blocks) >= 3
    env = {**os.environ, "TOKEN": server.tokens["window"],
           "SUPERVISION_TOKEN": server.tokens["supervision"]}  # fmt: skip
    for block in blocks:
        script = "\n".join(line for line in block.splitlines() if not line.startswith("TOKEN="))
        script = script.replace("http://127.0.0.1:8000", server.base).replace(
            "curl -s ", "curl -sSf "
        )
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script], env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, (block, done.stdout, done.stderr)
        assert '"status":5' not in done.stdout


def test_an_auditor_gets_the_checkpoint_a_receipt_and_a_consistency_proof_that_verify_offline(
    server: Server, tmp_path: Path
) -> None:
    from caseledger import new_signer
    from caseledger.audit import offline

    signer = new_signer("caseledger.http.test")
    with CaseLedger(server.db, create=False) as ledger:
        case_no = ledger.case_numbers()[0]
        first = ledger.checkpoint(signer)
        ledger.record(command("HTTP-CP-1", 1, RECEIVED, at(20)))
        second = ledger.checkpoint(signer)
    with server.client("auditor") as client:
        latest = client.get("/api/v1/checkpoints/latest")
        assert latest.status_code == 200 and latest.text == second.text
        receipt = client.get(f"/api/v1/cases/{case_no}/receipt")
        assert receipt.status_code == 200
        (tmp_path / "receipt.json").write_bytes(receipt.content)
        offline.verify_file(tmp_path / "receipt.json", signer.verifier)
        proof = client.post("/api/v1/consistency", content=first.text.encode())
        assert proof.status_code == 200, proof.text
        (tmp_path / "consistency.json").write_bytes(proof.content)
        offline.verify_file(tmp_path / "consistency.json", signer.verifier)
        _problem(client.get("/api/v1/cases/NO-SUCH-CASE/receipt"), 404, "CaseNotFound")
        _problem(
            client.post("/api/v1/consistency", content=b"not a checkpoint"), 422, "MalformedProof"
        )
    with server.client("supervision") as client:
        assert client.get("/api/v1/checkpoints/latest").status_code == 403
