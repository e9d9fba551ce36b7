"""Value objects that events are made of: identifiers, actors, parties, notices."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from caseledger.domain.vocabulary import PartyKind

__all__ = [
    "Actor",
    "CaseNo",
    "CommandId",
    "ContentHash",
    "Frozen",
    "ItemCode",
    "MissingDocument",
    "Name",
    "PackVersionText",
    "Party",
    "ProjectStage",
    "Slug",
    "Text",
    "WrittenNotice",
]

CaseNo = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$"),
    Field(description="The case number (办件编号): letters, digits and . _ : / -, at most 64."),
]
CommandId = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"),
    Field(description="Idempotency key of the command; a retry resends the same id."),
]
ItemCode = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"),
    Field(description="Code of the item (事项编码) in the catalogue of the rule pack."),
]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
PackVersionText = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9A-Za-z][0-9A-Za-z.+-]{0,31}$"),
    Field(description="A rule pack's version, as its pack.toml gives it."),
]
ContentHash = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9a-f]{64}$"),
    Field(description="A SHA-256 content hash, in lowercase hex."),
]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class Frozen(BaseModel):
    """Base of every value and event model: immutable, and unknown fields are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=False)


class Actor(Frozen):
    """Who did something: a person in a role, at a window of a department."""

    person: Name = Field(description="Staff number or name of the person.")
    role: Slug = Field(
        description="Role, e.g. window_a (A岗), window_b (B岗), chief_representative (首席代表), "
        "section_chief (审批科长), department_head, reviewer, supervisor, applicant, system."
    )
    department: Name = Field(description="Department or body the person acts for.")
    window: Name | None = Field(default=None, description="Window (窗口), when at one.")


class Party(Frozen):
    """A window, department or body that a case is sent to or that pushes a request."""

    kind: PartyKind
    code: Name
    name: Name | None = None


class ProjectStage(Frozen):
    """One stage of a parallel-approval project, with the unit that leads it (牵头单位)."""

    name: Name
    lead: Party | None = Field(default=None, description="The stage's lead unit, if named.")


class MissingDocument(Frozen):
    """One document the applicant must still supply."""

    name: Name
    note: Text | None = None


class WrittenNotice(Frozen):
    """A written notice to the applicant (e.g. Art. 45: the time a procedure needs)."""

    number: Name
    date: dt.date
    expected_working_days: int | None = Field(default=None, ge=0, le=3650)
