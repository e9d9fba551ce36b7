"""``serve`` (the HTTP API and the web board, on uvicorn) and ``tokens`` (who may use it)."""

from __future__ import annotations

import tempfile
from typing import Annotated

import typer

from caseledger.cli.common import PlainCommand, PlainGroup, fail, open_ledger, out, reports_errors
from caseledger.cli.render import ID, TEXT, new_table
from caseledger.demo import DEMO_LAST_DAY, demo_month

__all__ = ["serve_command", "tokens_app"]

tokens_app = typer.Typer(
    help="Bearer tokens of the HTTP API (kept hashed in the ledger's database).",
    no_args_is_help=True,
    cls=PlainGroup,
)


def _needs_http() -> None:
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as error:
        raise fail(
            f"the HTTP server needs the http extra ({error.name} is missing): "
            "pip install 'caseledger[http]'"
        ) from None


_LOOPBACK = ("127.0.0.1", "::1", "localhost")


@reports_errors
def serve_command(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(metavar="HOST", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, metavar="PORT", help="Port.")] = 8000,
    demo: Annotated[
        bool,
        typer.Option(help="Record the demo month first (into a temporary ledger unless --db)."),
    ] = False,
    no_auth_for_local_use: Annotated[
        bool,
        typer.Option(
            "--no-auth-for-local-use",
            help="Ask no token of any request: only for a server nobody else can reach.",
        ),
    ] = False,
    max_body: Annotated[
        int, typer.Option(min=1024, metavar="BYTES", help="Largest request body taken.")
    ] = 8 * 1024 * 1024,
) -> None:
    """Serve the HTTP API (/api/v1, OpenAPI at /api/v1/openapi.json) and the web board."""
    _needs_http()
    if no_auth_for_local_use and host not in _LOOPBACK:
        raise fail(
            f"--no-auth-for-local-use serves without tokens: only on this machine's loopback "
            f"(127.0.0.1, ::1, localhost), not on {host!r}; make tokens with `caseledger "
            "tokens new` to serve other machines"
        )
    import uvicorn

    from caseledger.http.app import create_app

    settings = ctx.find_root().obj
    with tempfile.TemporaryDirectory(prefix="caseledger-demo-") as folder:
        source = ctx.find_root().get_parameter_source("db")
        given = source is not None and source.name != "DEFAULT"  # --db or CASELEDGER_DB
        if demo and not given:  # never into the ledger of the current folder
            settings = type(settings)(
                f"sqlite:///{folder}/demo.db", settings.packs_dirs, settings.allow_pack_code, True
            )
            ctx.find_root().obj = settings
        with open_ledger(ctx, create=demo) as ledger:
            if demo:
                result = ledger.record_batch(demo_month(), source="demo")
                out.print(
                    f"demo: {result.recorded} events recorded into {ledger.location.redacted}",
                    highlight=False,
                )
            app = create_app(
                ledger,
                auth=not no_auth_for_local_use,
                max_body=max_body,
                default_day=DEMO_LAST_DAY if demo else None,
            )
            if no_auth_for_local_use:
                out.print("no tokens asked (--no-auth-for-local-use)", highlight=False)
            out.print(
                f"serving {ledger.location.redacted} on http://{host}:{port}/", highlight=False
            )
            uvicorn.run(app, host=host, port=port, log_level="info")


@tokens_app.command("new", cls=PlainCommand)
@reports_errors
def new_token(
    ctx: typer.Context,
    role: Annotated[
        str, typer.Option(metavar="ROLE", help="window, supervision, auditor or admin.")
    ],
    department: Annotated[
        str | None,
        typer.Option(metavar="DEPT", help="For a window: the department it records for."),
    ] = None,
    label: Annotated[str, typer.Option(metavar="TEXT", help="What the token is for.")] = "",
) -> None:
    """Make a token; its secret is printed once (only its hash is kept)."""
    from caseledger.http.tokens import TokenStore

    with open_ledger(ctx) as ledger:
        token, secret = TokenStore(ledger.store).create(role, department=department, label=label)
    bound = f", {token.department}" if token.department else ""
    out.print(
        f"token {token.token_id} ({token.role}{bound}); its secret, shown once:",
        highlight=False,
        soft_wrap=True,
    )
    print(secret)


@tokens_app.command("list", cls=PlainCommand)
@reports_errors
def list_tokens(ctx: typer.Context) -> None:
    """List the tokens (never their secrets), revoked ones too."""
    from caseledger.http.tokens import TokenStore

    with open_ledger(ctx) as ledger:
        tokens = TokenStore(ledger.store).list()
    table = new_table(
        "tokens",
        [("id", ID), ("role", ID), ("department", TEXT), ("label", TEXT), ("made", ID),
         ("revoked", ID)],
    )  # fmt: skip
    for t in tokens:
        table.add_row(
            t.token_id, t.role, t.department or "-", t.label or "-", t.created_at,
            t.revoked_at or "-",
        )  # fmt: skip
    out.print(table)


@tokens_app.command("revoke", cls=PlainCommand)
@reports_errors
def revoke_token(
    ctx: typer.Context,
    token_id: Annotated[str, typer.Argument(metavar="ID", help="The token's id (tokens list).")],
) -> None:
    """Revoke a token: every request with it is refused from now on."""
    from caseledger.http.tokens import TokenStore

    with open_ledger(ctx) as ledger:
        token = TokenStore(ledger.store).revoke(token_id)
    out.print(f"token {token.token_id} revoked at {token.revoked_at}", highlight=False)
