"""The Python examples in the README and in docs/ run, in order, one namespace per file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from caseledger import EVENT_TYPES

ROOT = Path(__file__).parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_python_examples_of_the_page_run(
    page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__docs__"}
    blocks = BLOCK.findall(page.read_text(encoding="utf-8"))
    for number, block in enumerate(blocks, start=1):
        code = compile(block, f"{page.name} (example {number})", "exec")
        exec(code, namespace)


def test_the_event_model_page_lists_every_event_type() -> None:
    text = (ROOT / "docs" / "event-model.md").read_text(encoding="utf-8")
    for event_type, body in EVENT_TYPES.items():
        assert f"| `{event_type}` | {body.zh} |" in text
