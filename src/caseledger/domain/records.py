"""Commands (what a caller asks to record) and recorded events (what the ledger keeps).

A :class:`Command` is one event as the caller states it: the case, an idempotency key,
when it happened (business time), who did it, and what happened; a
:class:`ProjectCommand` is the same for a parallel-approval project. Each case and each
project is a stream: a project's stream id is its number after ``#`` (``PROJECT_PREFIX``),
which no case number can start with. A :class:`RecordedEvent`
adds its place in the case's stream (``version``), when it was recorded, and the hash
chain: ``prev_hash`` is the hash of the case's previous event and ``hash`` commits to this
event's whole stored content (see :mod:`caseledger.domain.chain`).
"""

from __future__ import annotations

import datetime as dt
import difflib
import enum
import hashlib
import re
import types
import typing
from collections.abc import Mapping
from typing import Annotated, Any

import orjson
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
)

from caseledger.domain import vocabulary
from caseledger.domain.chain import canonical_json
from caseledger.domain.events import (
    STORED_EVENT_TYPES,
    AnyEvent,
    AnyProjectEvent,
    AnyStoredEvent,
    PackRecorded,
)
from caseledger.domain.limits import check_command_size, check_input, check_model_lists
from caseledger.domain.values import Actor, CaseNo, CommandId, Frozen

__all__ = [
    "PACK_PREFIX",
    "PROJECT_PREFIX",
    "Command",
    "PackCommand",
    "ProjectCommand",
    "RecordedEvent",
    "is_case_stream",
    "is_pack_stream",
    "is_project_stream",
    "pack_stream",
    "parse_command",
    "problems_of",
    "project_stream",
]

PROJECT_PREFIX = "#"
"""A project's stream id is its number after this mark (case numbers never start with it)."""

PACK_PREFIX = "@"
"""A recorded pack version's stream id is its content hash after this mark."""

StreamId = Annotated[
    str,
    StringConstraints(pattern=r"^[#@]?[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$"),
    Field(description="A case number, # and a project number, or @ and a pack's content hash."),
]


def project_stream(project_no: str) -> str:
    """The stream id of project ``project_no``."""
    return PROJECT_PREFIX + project_no


def is_project_stream(stream_id: str) -> bool:
    """Whether ``stream_id`` is a project's (else it is a case's)."""
    return stream_id.startswith(PROJECT_PREFIX)


def pack_stream(content_hash: str) -> str:
    """The stream id of the pack version whose content hash is ``content_hash``."""
    return PACK_PREFIX + content_hash


def is_pack_stream(stream_id: str) -> bool:
    """Whether ``stream_id`` is a recorded pack version's."""
    return stream_id.startswith(PACK_PREFIX)


def is_case_stream(stream_id: str) -> bool:
    """Whether ``stream_id`` is a case's (not a project's, nor a pack version's)."""
    return not stream_id.startswith((PROJECT_PREFIX, PACK_PREFIX))


HexDigest = str


EARLIEST_YEAR, LATEST_YEAR = 1950, 2100
"""Business and recording times must fall in these years (a typo like 0026 is refused)."""


def _whole_minute_offset(moment: dt.datetime) -> dt.datetime:
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise ValueError(
            f"year {moment.year} is outside {EARLIEST_YEAR}..{LATEST_YEAR}; check the date"
        )
    offset = moment.utcoffset()  # whole minutes: no seconds past one (a day is whole too)
    if offset is not None and (offset.seconds % 60 or offset.microseconds):
        raise ValueError(
            f"the UTC offset {offset} has seconds; give an offset in whole minutes, e.g. +08:00"
        )
    return moment


Moment = Annotated[AwareDatetime, AfterValidator(_whole_minute_offset)]
"""A timezone-aware time whose offset is whole minutes (ISO 8601 can store it exactly)."""


class Command(Frozen):
    """Record that ``event`` happened to case ``case_no`` at ``at``, done by ``actor``."""

    case_no: CaseNo
    command_id: CommandId
    at: Moment = Field(description="Business time, timezone-aware.")
    actor: Actor
    event: AnyEvent

    @property
    def type(self) -> str:
        return self.event.type

    @property
    def stream_id(self) -> str:
        return self.case_no


class ProjectCommand(Frozen):
    """Record that ``event`` happened to parallel-approval project ``project_no``."""

    project_no: CaseNo = Field(description="The project number (项目编号).")
    command_id: CommandId
    at: Moment = Field(description="Business time, timezone-aware.")
    actor: Actor
    event: AnyProjectEvent

    @property
    def type(self) -> str:
        return self.event.type

    @property
    def stream_id(self) -> str:
        return project_stream(self.project_no)


class PackCommand(Frozen):
    """Record the content of a pack version (the ledger makes it, on first use)."""

    command_id: CommandId
    at: Moment = Field(description="Business time of the acceptance that first used it.")
    actor: Actor
    event: PackRecorded

    @property
    def type(self) -> str:
        return self.event.type

    @property
    def stream_id(self) -> str:
        return pack_stream(self.event.content_hash)


class RecordedEvent(Frozen):
    """One event of a case's (or a project's) stream, as stored, with its place in the hash
    chain. ``case_no`` is the stream id: a case number, or ``#`` and a project number."""

    case_no: StreamId
    version: int = Field(ge=1)
    command_id: CommandId
    at: Moment
    actor: Actor
    event: AnyStoredEvent
    recorded_at: Moment
    prev_hash: HexDigest = Field(pattern=r"^[0-9a-f]{64}$")
    hash: HexDigest = Field(pattern=r"^[0-9a-f]{64}$")

    # eventsourcing's DomainEventProtocol
    @property
    def originator_id(self) -> str:
        return self.case_no

    @property
    def originator_version(self) -> int:
        return self.version

    @property
    def type(self) -> str:
        return self.event.type

    @property
    def project_no(self) -> str | None:
        """The project's number, if this is a project's event."""
        return self.case_no[len(PROJECT_PREFIX) :] if is_project_stream(self.case_no) else None

    @classmethod
    def chain(
        cls,
        command: Command | ProjectCommand | PackCommand,
        *,
        version: int,
        prev_hash: HexDigest,
        recorded_at: dt.datetime,
    ) -> RecordedEvent:
        """The event ``command`` becomes as version ``version``, linked to ``prev_hash``."""
        return cls.chain_state(
            command, version=version, prev_hash=prev_hash, recorded_at=recorded_at
        )[0]

    @classmethod
    def chain_state(
        cls,
        command: Command | ProjectCommand | PackCommand,
        *,
        version: int,
        prev_hash: HexDigest,
        recorded_at: dt.datetime,
    ) -> tuple[RecordedEvent, dict[str, Any]]:
        """:meth:`chain`, with the event's :meth:`stored_state` (hash included): the state
        is made once, hashed, and can be stored as it is."""
        event, stored = cls.chain_stored(
            command, version=version, prev_hash=prev_hash, recorded_at=recorded_at
        )
        return event, orjson.loads(stored)

    @classmethod
    def chain_stored(
        cls,
        command: Command | ProjectCommand | PackCommand,
        *,
        version: int,
        prev_hash: HexDigest,
        recorded_at: dt.datetime,
    ) -> tuple[RecordedEvent, bytes]:
        """:meth:`chain`, with the event's stored state (hash included) as canonical JSON
        (:func:`~caseledger.domain.chain.canonical_json`): the bytes a plain store keeps.

        Built without validating again what the command's validation established: only
        ``recorded_at`` (the ledger's clock), ``version`` and ``prev_hash`` are new, and are
        checked here. The state is encoded once, in two parts (:func:`_encoded_state`):
        the payload hashed holds them as the state without its hash, the stored bytes with
        the hash between them."""
        recording = _RECORDING[0]
        if recorded_at is not recording[0]:  # a batch records all at one time
            _RECORDING_TIME.validate_python(recorded_at)
            recording = _RECORDING[0] = (recorded_at, orjson.dumps(_iso(recorded_at)))
        if version < 1 or not _HEX64.match(prev_hash):
            raise ValueError(f"version {version} or previous hash {prev_hash!r} is malformed")
        stream_id, body = command.stream_id, command.event
        head, tail = _encoded_state(command, prev_hash, recording[1])
        payload = (
            b'{"case_no":', orjson.dumps(stream_id), b',"state":', head, tail, b',"topic":',
            orjson.dumps(body.type), b',"version":', str(version).encode(), b"}",
        )  # fmt: skip
        digest = hashlib.sha256(b"".join(payload)).hexdigest()
        stored = b"".join((head, b',"hash":"', digest.encode(), b'"', tail))
        fields = {
            "case_no": stream_id,
            "version": version,
            "command_id": command.command_id,
            "at": command.at,
            "actor": command.actor,
            "event": body,
            "recorded_at": recorded_at,
            "prev_hash": prev_hash,
            "hash": digest,
        }
        return _constructed(cls, fields), stored

    def stored_state(self, *, include_hash: bool = True) -> dict[str, Any]:
        """The JSON-ready state stored for this event: everything but the case number, the
        version and the type, which the store keeps as originator id, version and topic."""
        state = _stored_state(self, self.recorded_at, self.prev_hash)
        if include_hash:
            state["hash"] = self.hash
        return state

    def command(self) -> Command | ProjectCommand | PackCommand:
        """The command that recorded this event (used to recognise a retry)."""
        if isinstance(self.event, PackRecorded):
            return PackCommand(
                command_id=self.command_id, at=self.at, actor=self.actor, event=self.event
            )
        project_no = self.project_no
        if project_no is not None:
            return ProjectCommand(
                project_no=project_no,
                command_id=self.command_id,
                at=self.at,
                actor=self.actor,
                event=self.event,
            )
        return Command(
            case_no=self.case_no,
            command_id=self.command_id,
            at=self.at,
            actor=self.actor,
            event=self.event,
        )


def _stored_state(
    source: Command | ProjectCommand | PackCommand | RecordedEvent,
    recorded_at: dt.datetime,
    prev_hash: str,
) -> dict[str, Any]:
    """The stored state of the event ``source`` records (or is), without its hash."""
    body = source.event
    state: dict[str, Any] = {
        "command_id": source.command_id,
        "at": _iso(source.at),
        "actor": json_form(source.actor),
        "recorded_at": _iso(recorded_at),
        "prev_hash": prev_hash,
        "event": json_form(body, exclude="type"),
    }
    class_version = STORED_EVENT_TYPES[body.type].class_version
    if class_version > 1:
        state["class_version"] = class_version
    return state


def json_form(model: BaseModel, *, exclude: str | None = None) -> dict[str, Any]:
    """``model.model_dump(mode="json")`` (without field ``exclude``) for the value and event
    models, made directly from the model's fields: what pydantic's serializer gives for
    strings, integers, ``None``, enumerations, dates, tuples and models (no model of
    caseledger's has a serializer, an alias or a computed field of its own), at a fraction
    of its cost. Any other value (a mapping, a time, a float...) is left to pydantic."""
    form: dict[str, Any] = {}
    for name, value in model.__dict__.items():
        kind = type(value)
        if kind is str or value is None or kind is int:
            form[name] = value
        elif kind in _PLAIN_ENUMS:
            form[name] = value.value
        elif kind is tuple:
            items = [_json_item(item) for item in value]
            if _UNPLAIN in items:
                return _dumped(model, exclude)
            form[name] = items
        elif isinstance(value, BaseModel):
            inner = json_form(value)
            form[name] = inner
        elif kind is dt.date:
            form[name] = value.isoformat()
        else:
            return _dumped(model, exclude)
    if exclude is not None:
        form.pop(exclude, None)
    return form


def _json_item(item: Any) -> Any:
    kind = type(item)
    if kind is str or item is None or kind is int:
        return item
    if kind in _PLAIN_ENUMS:
        return item.value
    if isinstance(item, BaseModel):
        return json_form(item)
    if kind is dt.date:
        return item.isoformat()
    return _UNPLAIN


def _dumped(model: BaseModel, exclude: str | None) -> dict[str, Any]:
    return model.model_dump(mode="json", exclude={exclude} if exclude else None)


_UNPLAIN = object()
"""A value :func:`json_form` leaves to pydantic."""
_PLAIN_ENUMS = frozenset(
    kind
    for kind in vars(vocabulary).values()
    if isinstance(kind, type) and issubclass(kind, enum.StrEnum) and kind is not enum.StrEnum
)
"""The enumerations of the vocabulary (string-valued: pydantic writes their value)."""


def _encoded_state(
    command: Command | ProjectCommand | PackCommand, prev_hash: str, recorded_json: bytes
) -> tuple[bytes, bytes]:
    """The canonical JSON of the stored state of ``command``'s event without its hash, in
    two parts: the keys before ``hash`` and those after (``prev_hash`` and ``recorded_at``),
    written in the sorted order of :func:`~caseledger.domain.chain.canonical_json`
    (``actor``, ``at``, ``class_version``, ``command_id``, ``event``, ``hash``, ``prev_hash``,
    ``recorded_at``), each value as canonical JSON: what
    ``canonical_json(_stored_state(...))`` gives, without building the dictionary.
    ``recorded_json``: the JSON string of the time of recording."""
    body = command.event
    class_version = STORED_EVENT_TYPES[body.type].class_version
    head = (
        b'{"actor":', _actor_json(command.actor), b',"at":"', _iso(command.at).encode(),
        b'"', b',"class_version":%d' % class_version if class_version > 1 else b"",
        b',"command_id":', orjson.dumps(command.command_id),
        b',"event":', canonical_json(json_form(body, exclude="type")),
    )  # fmt: skip
    tail = (b',"prev_hash":"', prev_hash.encode(), b'","recorded_at":', recorded_json, b"}")
    return b"".join(head), b"".join(tail)


def _actor_json(actor: Actor) -> bytes:
    """The canonical JSON of an actor's JSON form; an import's few actors are encoded once."""
    key = tuple(actor.__dict__.values())
    found = _ACTORS.get(key)
    if found is None:
        if len(_ACTORS) >= 4096:
            _ACTORS.clear()
        found = _ACTORS[key] = canonical_json(json_form(actor))
    return found


_ACTORS: dict[tuple[Any, ...], bytes] = {}
"""The canonical JSON of the actors last encoded, by their fields' values (all strings or
None: an actor is a model of names)."""


def _constructed(cls: type[RecordedEvent], fields: dict[str, Any]) -> RecordedEvent:
    """``cls.model_construct(**fields)`` for a model whose every field is given (no
    defaults to fill, no aliases): what ``model_construct`` does then, without its
    per-field walk, which costs more than the rest of recording an event."""
    event = cls.__new__(cls)
    object.__setattr__(event, "__dict__", fields)
    object.__setattr__(event, "__pydantic_fields_set__", set(fields))
    object.__setattr__(event, "__pydantic_extra__", None)
    object.__setattr__(event, "__pydantic_private__", None)
    return event


Model = typing.TypeVar("Model", bound=BaseModel)


def updated(model: Model, update: dict[str, Any]) -> Model:
    """``model.model_copy(update=update)`` for a model of caseledger's (no extra fields,
    no private attributes): the same copy, the updated fields counted as given, without
    pydantic's generic walk. Nothing is validated: ``update`` must hold valid values."""
    copied = type(model).__new__(type(model))
    object.__setattr__(copied, "__dict__", {**model.__dict__, **update})
    object.__setattr__(copied, "__pydantic_fields_set__", model.model_fields_set | update.keys())
    object.__setattr__(copied, "__pydantic_extra__", None)
    object.__setattr__(copied, "__pydantic_private__", None)
    return copied


_RECORDING_TIME: TypeAdapter[dt.datetime] = TypeAdapter(Moment)
_RECORDING: list[tuple[dt.datetime | None, bytes]] = [(None, b"")]
"""The time of recording last checked (the very object: a batch's every event has it), with
its ISO form as a JSON string."""
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def _iso(moment: dt.datetime) -> str:
    """ISO 8601 with the offset as given, e.g. ``2026-03-02T09:30:00+08:00``."""
    return moment.isoformat()


def parse_command(data: Mapping[str, Any], *, from_json: bool = False) -> Command | ProjectCommand:
    """A command from its JSON form (a line of the interchange format, or the same as a
    mapping), validated as strictly as the published schema: a moment is an ISO 8601 string
    with its offset, never a number; an integer is a JSON integer, never ``"5"``, ``5.0`` or
    ``true``. Raises pydantic's ``ValidationError``, ``TypeError`` for a value JSON
    cannot hold, :class:`~caseledger.errors.InputLimitExceeded` for an input past one of the
    bounds of :mod:`caseledger.domain.limits`, and ``InvalidCommand`` for a number that is
    not finite (orjson would write it as ``null``).

    ``from_json`` says ``data`` was just parsed from JSON text: then it holds no number that
    is not finite, and its bounds are walked only if it does not validate (a command that
    validates is as deep as the models and its strings as long; only its lists remain to
    be counted)."""
    if not from_json:
        check_input(data)
    kind: type[Command | ProjectCommand] = ProjectCommand if "project_no" in data else Command
    try:
        text = orjson.dumps(dict(data), default=_iso_value, option=orjson.OPT_PASSTHROUGH_DATETIME)
        check_command_size(len(text))
        command = kind.model_validate_json(text, strict=True)
    except (ValidationError, TypeError):
        if from_json:  # past a bound says it better than the models' many errors
            check_input(data)
        # the checks of Python values have their own, clearer messages (an offset in
        # seconds, a naive time): report those first; only then the strict JSON types
        kind.model_validate(data)
        raise
    if from_json:
        check_model_lists(command.event, "event")
    return command


def _iso_value(value: Any) -> Any:
    """What orjson cannot write by itself: Python dates and times as ``isoformat`` writes
    them, offsets and all (orjson's own form would round an offset with seconds, which the
    ledger must refuse, not alter); models already built (an ``Actor``, an event) in their
    JSON form; any other mapping as a dict."""
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


# -- what was wrong, in words, with "did you mean" -------------------------------------------


def problems_of(error: ValidationError) -> list[tuple[str, str]]:
    """pydantic's errors as ``(field path, message)`` pairs, each in one line; a misspelt
    field name, event type or enumerated value names the close match (``did you mean
    'channel'?``) and an unknown field the fields there are."""
    root = _ROOTS.get(error.title)
    return [
        (".".join(str(part) for part in e["loc"]), _message(e, root))
        for e in error.errors(include_url=False)
    ]


def _roots() -> dict[str, type[BaseModel]]:
    return {"Command": Command, "ProjectCommand": ProjectCommand}


_ROOTS = _roots()
_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'")


def _close(word: object, candidates: list[str]) -> str:
    if not isinstance(word, str):
        return ""
    near = difflib.get_close_matches(word, candidates, n=3, cutoff=0.6)
    return f" (did you mean {' or '.join(repr(n) for n in near)}?)" if near else ""


def _message(e: Any, root: type[BaseModel] | None) -> str:
    kind, message, loc, ctx = e["type"], str(e["msg"]), tuple(e["loc"]), e.get("ctx") or {}
    if kind == "union_tag_invalid":
        expected = _QUOTED.findall(str(ctx.get("expected_tags", "")))
        tag = ctx.get("tag")
        return (
            f"{tag!r} is not an event type{_close(tag, expected)}; the event types are: "
            f"{', '.join(expected)}"
        )
    if kind == "extra_forbidden" and loc:
        model = _model_at(root, loc[:-1])
        if model is not None:
            known = [f.alias or name for name, f in model.model_fields.items()]
            return (
                f"unknown field {loc[-1]!r}{_close(str(loc[-1]), known)}; the fields here "
                f"are: {', '.join(known)}"
            )
    if kind in ("enum", "literal_error"):
        return message + _close(e.get("input"), _QUOTED.findall(str(ctx.get("expected", ""))))
    return message


def _model_at(root: type[BaseModel] | None, loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model that validates the object at ``loc`` (through lists, optional values and
    an event union's tag), or None if it cannot be told."""
    current: type[BaseModel] | dict[str, type[BaseModel]] | None = root
    for part in loc:
        if isinstance(current, dict):  # a union of models, chosen by its tag
            current = current.get(str(part))
            continue
        if current is None:
            return None
        if isinstance(part, int):
            continue
        field = current.model_fields.get(str(part))
        if field is None:
            return None
        models = _models(field.annotation)
        if len(models) == 1:
            current = models[0]
        elif models:
            current = {_tag(m): m for m in models}
        else:
            return None
    return current if isinstance(current, type) else None


def _tag(model: type[BaseModel]) -> str:
    field = model.model_fields.get("type")
    return str(field.default) if field is not None else model.__name__


def _models(annotation: Any) -> list[type[BaseModel]]:
    """The models an annotation names, through ``Annotated``, unions and containers."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = typing.get_origin(annotation)
    if origin is None:
        return []
    arguments = typing.get_args(annotation)
    if origin is Annotated:
        return _models(arguments[0])
    if origin in (typing.Union, types.UnionType, list, tuple, set, frozenset):
        return [m for argument in arguments for m in _models(argument)]
    return []
