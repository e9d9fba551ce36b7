"""Reading ``pack.toml`` files, with problems that name the file, the line or field, and the fix."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from caseledger.errors import PackError, PackProblem
from caseledger.rules.model import PackData

__all__ = ["field_path", "locate", "parse_pack", "read_pack_file"]

_FIXES = {
    "missing": "add the field",
    "extra_forbidden": "remove it, or check its spelling against the pack schema "
    "(caseledger packs schema)",
    "date_from_datetime_parsing": "write dates as YYYY-MM-DD, unquoted",
    "date_parsing": "write dates as YYYY-MM-DD, unquoted",
    "date_type": "write dates as YYYY-MM-DD, unquoted",
    "enum": "use one of the values listed",
    "literal_error": "use one of the values listed",
    "int_parsing": "write a whole number",
    "int_type": "write a whole number",
    "string_pattern_mismatch": "use only the characters the pattern allows",
    "greater_than_equal": "use a larger number",
    "less_than_equal": "use a smaller number",
}


def field_path(loc: tuple[int | str, ...]) -> str:
    """``('items', 'X-1', 0, 'name')`` → ``items.X-1[0].name``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def locate(text: str, loc: tuple[int | str, ...]) -> int | None:
    """Best effort: the line of ``text`` where the field at ``loc`` is written."""
    keys = [str(p) for p in loc if isinstance(p, str)]
    lines = text.splitlines()
    start = 0
    for depth, key in enumerate(keys):
        quoted = re.escape(key)
        pattern = re.compile(rf'^\s*(\[\[?[^\]]*(\b|"){quoted}("|\b)[^\]]*\]\]?|"?{quoted}"?\s*=)')
        for number in range(start, len(lines)):
            if pattern.search(lines[number]):
                start = number
                break
        else:
            return start + 1 if depth else None
    return start + 1


def parse_pack(text: str, *, file: str, extra_items: dict[str, Any] | None = None) -> PackData:
    """Parse and validate the text of a ``pack.toml``."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        match = re.search(r"line (\d+)", str(error))
        where = f"line {match.group(1)}" if match else ""
        problem = PackProblem(file, where, f"not valid TOML: {error}", "fix the syntax")
        raise PackError([problem]) from None
    if extra_items:
        items = raw.setdefault("items", {})
        clashes = sorted(set(items) & set(extra_items))
        if clashes:
            raise PackError(
                [
                    PackProblem(
                        file,
                        f"items.{code}",
                        "listed both in the file and by the caseledger_items hook",
                        "list it in one place",
                    )
                    for code in clashes
                ]
            )
        items.update(extra_items)
    try:
        return PackData.model_validate(raw)
    except ValidationError as error:
        problems = []
        for detail in error.errors():
            loc = detail["loc"]
            line = locate(text, loc)
            where = field_path(loc) + (f" (line {line})" if line else "")
            message = detail["msg"]
            if detail["type"] == "extra_forbidden":
                message = "unknown field"
            problems.append(PackProblem(file, where, message, _FIXES.get(detail["type"], "")))
        raise PackError(problems) from None


def read_pack_file(path: Path, *, extra_items: dict[str, Any] | None = None) -> PackData:
    """Read and validate one ``pack.toml``."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise PackError(
            [PackProblem(str(path), "", f"cannot read: {error.strerror}", "check the path")]
        ) from error
    return parse_pack(text, file=str(path), extra_items=extra_items)
