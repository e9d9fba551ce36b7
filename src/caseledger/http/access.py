"""Who may do what: the bearer token of a request, and the roles each action needs.

``window`` records commands whose actor acts for its own department; ``supervision`` reads
everything; ``auditor`` reads, verifies and seals; ``admin`` makes and revokes tokens. A
server started for local use (``--no-auth-for-local-use``) treats every request as one that
may do everything. Every refusal is logged (logger ``caseledger.http``) with the token's id,
never its secret.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from caseledger.domain.records import Command, ProjectCommand
from caseledger.errors import NotAuthenticated, NotPermitted
from caseledger.http.tokens import Token, TokenStore

__all__ = ["COOKIE", "LOCAL", "PERMITTED", "Action", "Principal", "authenticate", "log"]

log = logging.getLogger("caseledger.http")

Action = Literal["record", "read", "audit", "tokens"]
PERMITTED: dict[str, frozenset[str]] = {
    "record": frozenset({"window"}),
    "read": frozenset({"supervision", "auditor"}),
    "audit": frozenset({"auditor"}),
    "tokens": frozenset({"admin"}),
}
"""The roles that may take each action."""

_ACTIONS: dict[str, str] = {
    "record": "record commands",
    "read": "read the ledger",
    "audit": "verify or seal the ledger",
    "tokens": "make, list or revoke tokens",
}

COOKIE = "caseledger_token"
"""The cookie the web board keeps a token in after its login page (read for GET only)."""


@dataclass(frozen=True)
class Principal:
    """Who a request acts for: its token, or (``token`` None) the local operator."""

    token: Token | None

    @property
    def role(self) -> str:
        return "local" if self.token is None else self.token.role

    @property
    def name(self) -> str:
        return "local use" if self.token is None else f"token {self.token.token_id}"

    def require(self, action: Action, *, path: str) -> None:
        """Refuse (:class:`NotPermitted`, logged) an action the role may not take."""
        if self.token is None or self.token.role in PERMITTED[action]:
            return
        roles = " or ".join(sorted(PERMITTED[action]))
        log.warning("refused %s (%s) %s: may not %s", self.name, self.role, path, action)
        raise NotPermitted(
            self.role, _ACTIONS[action], fix=f"this needs a token of the role {roles}"
        )

    def require_departments(
        self, commands: Iterable[Command | ProjectCommand], *, path: str
    ) -> None:
        """A window token records only commands whose actor acts for its department."""
        self.require("record", path=path)
        if self.token is None or self.token.department is None:
            return
        own = self.token.department
        for command in commands:
            if command.actor.department != own:
                log.warning(
                    "refused %s (window of %s) %s: a command for %s",
                    self.name,
                    own,
                    path,
                    command.actor.department,
                )
                raise NotPermitted(
                    "window",
                    f"record for {command.actor.department!r} (command {command.command_id!r})",
                    fix=f"this token records only for its own department {own!r}",
                )


LOCAL = Principal(None)


def authenticate(
    tokens: TokenStore | None, authorization: str | None, cookie: str | None, *, path: str
) -> Principal:
    """The principal of a request from its ``Authorization`` header (or, for the web board's
    GET pages, its cookie); ``tokens`` None means a server for local use."""
    if tokens is None:
        return LOCAL
    secret = None
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            log.warning("refused %s: an Authorization header that is not a bearer token", path)
            raise NotAuthenticated("the Authorization header is not 'Bearer SECRET'")
        secret = value.strip()
    elif cookie:
        secret = cookie
    if secret is None:
        log.warning("refused %s: no token", path)
        raise NotAuthenticated("no bearer token was sent")
    token = tokens.authenticate(secret)
    if token is None:
        log.warning("refused %s: an unknown, forged or revoked token", path)
        raise NotAuthenticated("the token is unknown, forged or revoked")
    return Principal(token)
