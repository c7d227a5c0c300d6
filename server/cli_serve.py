"""`icims-agents serve` and `icims-agents keys ...`: the HTTP service and its API keys."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from server.cli_state import state
from tools.icims.codes import JOB_APPROVED
from tools.settings import Settings


def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    demo_keys: Annotated[
        bool,
        typer.Option(
            help="Against the local sandbox only: print a ready-to-use demo key per role (issued anew "
            "at each start, valid 12 hours; off as soon as keys made with `icims-agents keys create` "
            "exist, revoked once a real admin key does)."
        ),
    ] = True,
) -> None:
    """Run the icims-agents service: run and approvals API, web pages, copilot (docs at /docs).

    Refuses to start (exit 2) when iCIMS is not the local sandbox and any secret is still a
    sandbox or placeholder value (see `tools.settings.Settings`)."""
    import uvicorn

    from server.app import create_app
    from server.auth import DEMO_KEY_TTL_SECONDS, KeyStore, issue_demo_keys
    from server.events import uvicorn_limits

    settings = state.settings()  # exits 2, naming the setting, on sandbox secrets against a tenant
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = f"http://{host}:{port}"
    typer.echo(f"icims-agents service on {url}  (API docs: {url}/docs, inbox: {url}/ui)")
    keys = KeyStore.for_data_dir(settings.data_dir)
    try:
        if not settings.sandbox_mode:
            keys.revoke_demo_keys()
            typer.echo(
                f"{len(keys.list())} API key(s) configured; demo keys are only issued against the local "
                "sandbox (icims-agents keys create / list)."
            )
        elif demo_keys:
            recruiter_id, manager_id = _busiest_owners(settings)
            issued = issue_demo_keys(keys, recruiter_id=recruiter_id, hiring_manager_id=manager_id)
            if issued:
                hours = DEMO_KEY_TTL_SECONDS // 3600
                typer.echo(
                    f"Demo API keys (send as `X-API-Key: <key>`; valid {hours} hours, new ones at every "
                    "start, revoked once a real admin key exists):"
                )
                for principal, key in issued:
                    who = f" (person {principal.recruiter_id})" if principal.recruiter_id is not None else ""
                    typer.echo(f"  {principal.role:<15} {key}{who}")
            else:
                typer.echo(
                    f"{len(keys.list())} API key(s) configured; no demo keys issued (icims-agents keys list)."
                )
    finally:
        keys.close()
    uvicorn.run(create_app(settings), host=host, port=port, **uvicorn_limits())


def _busiest_owners(settings: Settings) -> tuple[int | None, int | None]:
    """The recruiter and hiring manager with the most mirrored requisitions (demo keys act as them)."""
    from collections import Counter

    from tools.mirror import MirrorStore

    recruiters: Counter[int] = Counter()
    managers: Counter[int] = Counter()
    try:
        with MirrorStore(settings.mirror_database_url) as store:
            for record in store.iter_records("jobs"):
                folder = record.data.get("folder")
                # Open requisitions are what a demo rediscovers: they outweigh every closed one.
                weight = 1_000_000 if isinstance(folder, dict) and folder.get("id") == JOB_APPROVED else 1
                for key, counter in (("recruiter", recruiters), ("hiringmanager", managers)):
                    link = record.data.get(key)
                    if isinstance(link, dict) and isinstance(link.get("id"), int):
                        counter[link["id"]] += weight
    except Exception:  # no mirror yet: demo keys without a requisition owner
        return None, None
    top = lambda c: c.most_common(1)[0][0] if c else None  # noqa: E731
    return top(recruiters), top(managers)


keys_app = typer.Typer(
    help="API keys for the service (stored hashed in data_dir; shown once).", no_args_is_help=True
)


@keys_app.command("create")
def keys_create(
    role: Annotated[str, typer.Option("--role", help="recruiter, hiring_manager, admin or auditor.")],
    name: Annotated[
        str | None, typer.Option("--name", help="Who holds the key (shown in audit records).")
    ] = None,
    recruiter_id: Annotated[
        int | None,
        typer.Option(
            "--recruiter-id",
            help="iCIMS person id of the recruiter (or hiring manager): the requisitions they may see.",
        ),
    ] = None,
) -> None:
    """Create an API key and print it once (only its hash is kept)."""
    from server.auth import ROLES, KeyStore

    if role not in ROLES:
        raise typer.BadParameter(f"choose one of {', '.join(ROLES)}", param_hint="--role")
    if role in ("recruiter", "hiring_manager") and recruiter_id is None:
        typer.echo(f"warning: a {role} key without --recruiter-id sees no requisitions", err=True)
    settings = state.settings()
    keys = KeyStore.for_data_dir(settings.data_dir)
    try:
        principal, key = keys.create(role, name=name, recruiter_id=recruiter_id)
    finally:
        keys.close()
    typer.echo(key)
    typer.echo(
        f"key id {principal.key_id}, role {principal.role}, name {principal.name}"
        + (f", recruiter id {principal.recruiter_id}" if principal.recruiter_id is not None else "")
        + ". Store it now: it cannot be shown again.",
        err=True,
    )


@keys_app.command("list")
def keys_list() -> None:
    """List API keys (ids, names, roles; never the keys)."""
    from server.auth import KeyStore

    keys = KeyStore.for_data_dir(state.settings().data_dir)
    try:
        rows = keys.list()
    finally:
        keys.close()
    for k in rows:
        rid = "" if k.recruiter_id is None else str(k.recruiter_id)
        typer.echo(
            f"{k.key_id}  {k.role:<15} {rid:>8}  {k.name}{'  (demo)' if k.demo else ''}  {k.created_at}"
            + (f"  expires {datetime.fromtimestamp(k.expires_at, UTC).isoformat()}" if k.expires_at else "")
        )


@keys_app.command("revoke")
def keys_revoke(key_id: Annotated[str, typer.Argument(help="The key id (second part of the key).")]) -> None:
    """Revoke an API key."""
    from server.auth import KeyStore

    keys = KeyStore.for_data_dir(state.settings().data_dir)
    try:
        done = keys.revoke(key_id)
    finally:
        keys.close()
    if not done:
        typer.echo(f"no active key {key_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {key_id}")
