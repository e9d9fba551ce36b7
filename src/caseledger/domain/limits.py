"""The bounds of one command: how deep, how long and how large its input may be.

Every command is checked against these before it is validated field by field, whether it
comes as a mapping (``CaseLedger.record``) or as a line of a JSON Lines file. An input past
a bound is refused with :class:`~caseledger.errors.InputLimitExceeded`, which names the
bound, its maximum and where in the input it was passed; a number that is not finite
(``NaN``, ``Infinity``) is refused with :class:`~caseledger.errors.InvalidCommand` (JSON has
no such number, and orjson would silently write it as ``null``).

The check walks the input with a stack of its own, never by recursion, so no input,
however deep, can exhaust Python's stack. The field models keep their own, tighter bounds
(a name is at most 200 characters, a text 2,000); these bound what no model has seen yet.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NamedTuple

from caseledger.errors import InputLimitExceeded, InvalidCommand

__all__ = [
    "COMMAND_LIMITS",
    "CommandLimits",
    "check_command_size",
    "check_input",
    "check_model_lists",
]


class CommandLimits(NamedTuple):
    max_bytes: int
    max_depth: int
    max_items: int
    max_string_chars: int


"""The bounds of one command (see :data:`COMMAND_LIMITS`)."""

COMMAND_LIMITS = CommandLimits(
    max_bytes=262_144,
    max_depth=16,
    max_items=1_000,
    max_string_chars=10_000,
)
"""``max_bytes``: one command (one line of a file) as UTF-8 JSON, 256 KiB; ``max_depth``:
objects and lists nested in one another (a command needs 4); ``max_items``: the items of one
list or the keys of one object; ``max_string_chars``: one string, key or value."""


def check_command_size(size: int, limits: CommandLimits = COMMAND_LIMITS) -> None:
    """Refuse a command whose JSON form is ``size`` bytes, when that is over the bound."""
    if size > limits.max_bytes:
        raise InputLimitExceeded("max_bytes", limits.max_bytes, "", size)


def check_input(value: Any, limits: CommandLimits = COMMAND_LIMITS) -> None:
    """Refuse ``value`` (a command's mapping, or its parsed JSON) if it passes a bound, or
    holds a number that is not finite; accept anything else (its fields are the models'
    business). Walks with its own stack: no depth of input reaches Python's recursion limit.
    """
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    max_chars = limits.max_string_chars
    while stack:
        item, path, depth = stack.pop()
        kind = type(item)
        if kind is str:
            if len(item) > max_chars:
                raise InputLimitExceeded("max_string_chars", max_chars, path, len(item))
        elif kind is float:
            if not math.isfinite(item):
                raise InvalidCommand(
                    [(path, f"{item!r} is not a JSON number; give a finite number")]
                )
        elif isinstance(item, Mapping):
            _check_container(item, path, depth, limits)
            for key, inner in item.items():
                if type(key) is str and len(key) > max_chars:
                    raise InputLimitExceeded("max_string_chars", max_chars, path, len(key))
                stack.append((inner, f"{path}.{key}" if path else str(key), depth + 1))
        elif isinstance(item, list | tuple):
            _check_container(item, path, depth, limits)
            stack.extend((inner, f"{path}.{n}" if path else str(n), depth + 1)
                         for n, inner in enumerate(item))  # fmt: skip
        elif isinstance(item, float) and not math.isfinite(item):  # a float subclass
            raise InvalidCommand([(path, f"{item!r} is not a JSON number; give a finite number")])


def check_model_lists(model: Any, path: str, limits: CommandLimits = COMMAND_LIMITS) -> None:
    """Refuse a validated model (an event body) holding a list longer than the bound: what
    the models' own bounds leave open."""
    for name, value in model.__dict__.items():
        if type(value) is tuple and len(value) > limits.max_items:
            raise InputLimitExceeded("max_items", limits.max_items, f"{path}.{name}", len(value))


def _check_container(item: Any, path: str, depth: int, limits: CommandLimits) -> None:
    if depth >= limits.max_depth:
        raise InputLimitExceeded("max_depth", limits.max_depth, path, depth + 1)
    if len(item) > limits.max_items:
        raise InputLimitExceeded("max_items", limits.max_items, path, len(item))
