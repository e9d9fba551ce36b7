"""The ``Project`` aggregate: a parallel-approval project (并联审批项目), rebuilt from its events.

A project groups cases of several departments into stages, with a lead unit (牵头单位)
answerable for the whole, and an overall limit from its rule pack. Its lifecycle: it is
registered, cases are linked to its stages, stages are completed, and it is completed once
every stage is, or withdrawn. Like ``Case``, ``start`` and ``record`` either give the next
event or raise a typed error and change nothing; ``apply`` folds without judging.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from caseledger.domain.events import (
    CaseLinked,
    ProjectCompleted,
    ProjectRegistered,
    ProjectStageCompleted,
    ProjectWithdrawn,
)
from caseledger.domain.records import (
    PROJECT_PREFIX,
    ProjectCommand,
    RecordedEvent,
    project_stream,
)
from caseledger.domain.stream import EventStream
from caseledger.domain.values import Party, ProjectStage
from caseledger.domain.vocabulary import ProjectKind, ProjectStatus
from caseledger.errors import IllegalTransition, InvalidCommand, ProjectNotFound

__all__ = ["Project"]


@dataclass
class Project(EventStream):
    """The state of one parallel-approval project, as its events left it."""

    noun: ClassVar[str] = "project"

    project_no: str
    status: ProjectStatus = ProjectStatus.OPEN
    title: str | None = None
    kind: ProjectKind | None = None
    lead: Party | None = None
    rule_pack: str | None = None
    series: str | None = None
    stages: tuple[ProjectStage, ...] = ()
    cases: dict[str, int] = field(default_factory=dict)
    """Linked case numbers and the stage (from 1) each belongs to."""
    stages_completed: tuple[int, ...] = ()

    @property
    def id(self) -> str:
        return project_stream(self.project_no)

    @property
    def stream_id(self) -> str:
        return self.id

    @classmethod
    def empty(cls, stream_id: str) -> Project:
        return cls(project_no=stream_id[len(PROJECT_PREFIX) :])

    # -- commands ----------------------------------------------------------------------------
    @classmethod
    def check_start(cls, command: ProjectCommand) -> None:
        """Raise if ``command`` cannot open a project: only 'project_registered' does."""
        if not isinstance(command.event, ProjectRegistered):
            raise ProjectNotFound(
                command.project_no,
                hint="a project starts with a 'project_registered' event, not "
                f"{command.event.type!r}",
            )

    def check(self, command: ProjectCommand) -> None:
        """Raise if the lifecycle refuses ``command`` now; record nothing."""
        if command.project_no != self.project_no:
            raise InvalidCommand(
                [("project_no", f"command is for {command.project_no!r}, not {self.project_no!r}")]
            )
        self._check_transition(command)

    def allowed_actions(self) -> list[str]:
        """Event types the project's lifecycle allows now."""
        if self.status is not ProjectStatus.OPEN:
            return []
        actions = ["case_linked"]
        if len(self.stages_completed) < len(self.stages):
            actions.append("project_stage_completed")
        else:
            actions.append("project_completed")
        return [*actions, "project_withdrawn"]

    # -- state ---------------------------------------------------------------------------
    def apply(self, event: RecordedEvent) -> None:
        """Fold one recorded event into the state."""
        body = event.event
        if isinstance(body, ProjectRegistered):
            self.title, self.kind, self.lead = body.title, body.kind, body.lead
            self.rule_pack, self.series, self.stages = body.rule_pack, body.series, body.stages
        elif isinstance(body, CaseLinked):
            self.cases = {**self.cases, body.case_no: body.stage}
        elif isinstance(body, ProjectStageCompleted):
            self.stages_completed = (*self.stages_completed, body.stage)
        elif isinstance(body, ProjectCompleted):
            self.status = ProjectStatus.COMPLETED
        elif isinstance(body, ProjectWithdrawn):
            self.status = ProjectStatus.WITHDRAWN
        self._applied(event)

    # -- internals -------------------------------------------------------------------------
    def _refuse(self, command: ProjectCommand, reason: str = "") -> IllegalTransition:
        return IllegalTransition(
            self.id, self.status.value, command.event.type, self.allowed_actions(), reason=reason
        )

    def _check_transition(self, command: ProjectCommand) -> None:
        body = command.event
        if isinstance(body, ProjectRegistered):
            raise self._refuse(command, f"project {self.project_no!r} is already registered")
        if self.status is not ProjectStatus.OPEN:
            raise self._refuse(command, f"the project is {self.status.label}")
        if isinstance(body, CaseLinked | ProjectStageCompleted) and body.stage > len(self.stages):
            raise self._refuse(
                command, f"stage {body.stage} does not exist; the project has {len(self.stages)}"
            )
        if isinstance(body, CaseLinked) and body.case_no in self.cases:
            raise self._refuse(
                command,
                f"case {body.case_no!r} is already linked (stage {self.cases[body.case_no]})",
            )
        if isinstance(body, ProjectStageCompleted) and body.stage in self.stages_completed:
            raise self._refuse(command, f"stage {body.stage} is already completed")
        if isinstance(body, ProjectCompleted):
            missing = [
                str(n) for n in range(1, len(self.stages) + 1) if n not in self.stages_completed
            ]
            if missing:
                raise self._refuse(command, f"stages not completed yet: {', '.join(missing)}")
