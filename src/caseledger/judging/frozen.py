"""Frozen dataclasses that pickle and copy alike, compiled or not.

A wheel carries the evaluation modules compiled by mypyc (``hatch_build.py``), and the
``__setstate__`` mypyc gives a frozen dataclass goes through its frozen ``__setattr__``: a
pickled or deep-copied evaluation would fail with the wheel and work from the sources. So
the frozen classes handed to users reduce themselves to their class and their fields, which
their constructor takes back (``def __reduce__(self): return reduced(self)``).
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

__all__ = ["reduced"]


def reduced(record: Any) -> tuple[Any, tuple[Any, ...]]:
    """``record.__reduce__()`` for a frozen dataclass whose fields all go to its constructor."""
    return type(record), tuple(getattr(record, field.name) for field in fields(record))
