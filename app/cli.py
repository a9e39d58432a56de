"""The techauction command line."""

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from app.settings import get_settings

app = typer.Typer(no_args_is_help=True, help="Auctions of sci-tech outcomes.")
console = Console(stderr=True)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="uvicorn worker processes")] = 1,
    access_log: Annotated[bool, typer.Option(help="log every request")] = True,
) -> None:
    """Serve the API (with no TECHAUCTION_REDIS_URL, on an embedded Redis shared by all workers)."""
    from app import serving

    serving.serve(host=host, port=port, workers=workers, access_log=access_log, say=console.print)


@app.command()
def worker() -> None:
    """Close due rounds on time (run as many as you like: closing is idempotent). With no
    TECHAUCTION_REDIS_URL, on the embedded Redis under the var dir: serve's if it runs, else
    one started here (and stopped on exit)."""
    asyncio.run(_run_worker())


async def _run_worker() -> None:
    import signal

    import app.models  # noqa: F401 -- every mapped table, so foreign keys resolve at flush
    from app.auctions.engine import Engine
    from app.closing.closer import run_closer
    from app.db import create_engine, create_sessionmaker
    from app.redis import create_redis, redis_url_or_embedded

    settings = get_settings()
    try:
        url, embedded = redis_url_or_embedded(settings)
    except RuntimeError as exc:
        console.print(f"[red]{exc}: set TECHAUCTION_REDIS_URL (the API's Redis)[/red]")
        raise typer.Exit(2) from None
    if not settings.redis_url:
        console.print(f"worker: embedded Redis on {url}", soft_wrap=True)
    db_engine = create_engine(settings.sqlalchemy_url)
    redis = create_redis(url, cluster=settings.redis_cluster)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    console.print("worker: closing due rounds")
    try:
        await run_closer(Engine(redis, settings.redis_prefix), create_sessionmaker(db_engine), stop=stop)
    finally:
        await redis.aclose()
        await db_engine.dispose()
        if embedded is not None:
            embedded.stop()


@app.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="target revision")] = "head",
) -> None:
    """Bring the database schema up to date (Alembic)."""
    from app import migrate as migrations

    settings = get_settings()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    migrations.upgrade(settings.sqlalchemy_url, revision)
    console.print(f"database migrated to {revision}")


audit_app = typer.Typer(no_args_is_help=True, help="The audit ledger.")
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the ledger's hash chain; exit 1 naming the first bad entry."""
    result = asyncio.run(_verify_ledger())
    if result.ok:
        console.print(f"ledger ok: {result.entries} entries, head {result.head}")
        return
    console.print(
        f"[red]ledger broken at sequence {result.first_bad_sequence}:[/red] {result.reason}"
    )
    raise typer.Exit(1)


async def _verify_ledger():
    from app.audit import ledger
    from app.db import create_engine, create_sessionmaker

    engine = create_engine(get_settings().sqlalchemy_url)
    try:
        async with create_sessionmaker(engine)() as session:
            return await ledger.verify(session)
    finally:
        await engine.dispose()


@app.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Option(help="the admin's email (sign-in name)")],
    password: Annotated[str, typer.Option(help="at least 8 characters, not easily guessed")],
) -> None:
    """Create an operator admin user (the first user of a new installation)."""
    from pydantic import ValidationError

    from app.errors import AppError
    from app.identity.schemas import UserCreate
    from app.security import Role

    try:
        data = UserCreate(email=email, password=password, role=Role.admin)
    except ValidationError as exc:
        console.print(f"[red]invalid input:[/red] {exc.errors()[0]['msg']}")
        raise typer.Exit(2) from None
    try:
        user_id = asyncio.run(_create_user(data))
    except AppError as exc:
        console.print(f"[red]{exc.code}:[/red] {exc.detail}")
        raise typer.Exit(1) from None
    console.print(f"admin {data.email} created (id {user_id})")


async def _create_user(data) -> int:
    from app.db import create_engine, create_sessionmaker
    from app.identity import service

    settings = get_settings()
    engine = create_engine(settings.sqlalchemy_url)
    try:
        async with create_sessionmaker(engine)() as session:
            user = await service.create_user(session, data=data, settings=settings, actor_id=None)
            await session.commit()
            return user.id
    finally:
        await engine.dispose()


DEMO_URL = "http://127.0.0.1:8000"


@app.command()
def demo(
    url: Annotated[str, typer.Option(help="the running server (`make run`'s by default)")] = DEMO_URL,
    lots: Annotated[int, typer.Option(min=1, max=20, help="lots in the session")] = 5,
    lot_seconds: Annotated[int, typer.Option(min=2, max=3600, help="lot length (no extensions)")] = 30,
    gap_seconds: Annotated[int, typer.Option(min=0, max=600, help="pause between lots")] = 5,
    bidders: Annotated[int, typer.Option(min=2, max=50, help="simulated enterprises")] = 4,
    seed: Annotated[int | None, typer.Option(help="random seed of the bidders (repeatable runs)")] = None,
    admin_email: Annotated[str | None, typer.Option(help="an existing admin's email (see below)")] = None,
    admin_password: Annotated[str | None, typer.Option(help="that admin's password")] = None,
    serve: Annotated[bool, typer.Option(help="migrate and serve at --url for the demo's length")] = False,
) -> None:
    """Seed a live session over HTTP and run it with simulated bidders; print the room's URL.

    Through the API at --url: an institute with approved listings (lot 1 is the new-energy
    simulation test platform), verified enterprises, a live session of short lots, session
    registrations approved; then bidders raise by random increments, some in the last seconds
    (soft-close extensions), until the session finishes. Without --admin-email, a demo admin is
    created directly in the configured database (TECHAUCTION_* settings, by default the embedded
    one `make run` serves from); against any other server pass --admin-email and --admin-password.
    With --serve the demo migrates and serves the API itself (embedded default) while it runs.
    """
    import httpx
    from rich.markup import escape

    from app.demo import DemoError, DemoOptions, run_demo

    if (admin_email is None) != (admin_password is None):
        console.print("[red]give both --admin-email and --admin-password, or neither[/red]")
        raise typer.Exit(2)
    options = DemoOptions(url=url.rstrip("/"), lots=lots, lot_seconds=lot_seconds,
                          gap_seconds=gap_seconds, bidders=bidders, seed=seed)
    server = _serve_for_demo(options.url) if serve else None
    try:
        if admin_email is None:
            admin_email, admin_password = _demo_admin()
        asyncio.run(run_demo(options, admin_email=admin_email, admin_password=admin_password,
                             say=console.print))
    except DemoError as exc:
        console.print(f"[red]the server refused:[/red] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(1) from None
    except (httpx.HTTPError, TimeoutError) as exc:
        console.print(f"[red]demo failed:[/red] {escape(repr(exc))} (is `make run` serving {url}?)")
        raise typer.Exit(1) from None
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=20)


def _demo_admin() -> tuple[str, str]:
    """A new admin with a random passphrase, made in the configured database; its credentials."""
    import secrets

    from rich.markup import escape
    from sqlalchemy.exc import SQLAlchemyError

    from app.demo import password
    from app.errors import AppError
    from app.identity.schemas import UserCreate
    from app.security import Role

    email, secret = f"demo-admin-{secrets.token_hex(4)}@example.com", password()
    try:
        asyncio.run(_create_user(UserCreate(email=email, password=secret, role=Role.admin)))
    except (AppError, OSError, SQLAlchemyError) as exc:
        console.print(f"[red]could not create the demo admin in the database:[/red] {escape(str(exc))} "
                      "(run `techauction migrate`, or pass --admin-email and --admin-password)")
        raise typer.Exit(1) from None
    console.print(f"demo admin {email} created")
    return email, secret


def _serve_for_demo(url: str):
    """`techauction serve` at url's host and port in a child process, once it answers /healthz."""
    import subprocess
    import sys
    import time
    from urllib.parse import urlsplit

    import httpx

    parts = urlsplit(url)
    migrate()
    command = [sys.executable, "-m", "app.cli", "serve", "--host", parts.hostname or "127.0.0.1",
               "--port", str(parts.port or 80), "--no-access-log"]
    server = subprocess.Popen(command)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get(f"{url.rstrip('/')}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.terminate()
    console.print(f"[red]the server did not come up at {url}[/red]")
    raise typer.Exit(1)


@app.command()
def bench(
    quick: Annotated[bool, typer.Option(help="a short smoke run (a few seconds per scenario)")] = False,
    seconds: Annotated[float, typer.Option(min=1, max=120, help="length of each measured run")] = 10.0,
    reps: Annotated[int, typer.Option(min=1, max=20, help="runs per scenario (medians reported)")] = 3,
    connections: Annotated[int, typer.Option(min=2, max=1024, help="wrk connections")] = 64,
    bidders: Annotated[int, typer.Option(min=2, max=1000, help="qualified enterprise bidders")] = 64,
    workers: Annotated[int, typer.Option(min=1, max=16, help="uvicorn workers serving the app")] = 2,
    threads: Annotated[int, typer.Option(min=1, max=16, help="wrk threads")] = 1,
) -> None:
    """Benchmark bidding over HTTP with wrk against its floors and a PostgreSQL baseline."""
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    if not (root / "bench" / "run.py").exists():
        console.print("[red]bench/ is not here: run from a source checkout[/red]")
        raise typer.Exit(2)
    sys.path.insert(0, str(root))
    from bench.run import Options, main

    raise typer.Exit(main(Options(quick=quick, seconds=seconds, reps=reps,
                                  connections=connections, bidders=bidders, workers=workers,
                                  threads=threads)))


@app.command("export")
def export_settlements(
    output: Annotated[Path, typer.Option("--output", "-o", dir_okay=False,
                                         help="file to write; FILE.manifest.json goes beside it")],
    fmt: Annotated[str, typer.Option("--format", help="csv or ndjson")] = "csv",
    created_from: Annotated[str | None, typer.Option(
        "--from", help="created at or after (ISO 8601 with zone)")] = None,
    created_to: Annotated[str | None, typer.Option(
        "--to", help="created before (ISO 8601 with zone)")] = None,
    institute: Annotated[int | None, typer.Option(min=1, help="the institute's organisation id")] = None,
) -> None:
    """Export settlements straight from the database, with a signed manifest beside the file."""
    from app.exports import service as exports

    try:
        export = exports.Export(exports.ExportFormat(fmt), exports.ExportFilters(
            created_from=exports.parse_time(created_from) if created_from else None,
            created_to=exports.parse_time(created_to) if created_to else None,
            institute=institute,
        ))
    except ValueError as exc:
        console.print(f"[red]invalid option:[/red] {exc}")
        raise typer.Exit(2) from None
    try:
        asyncio.run(_export(export, output))
    except OSError as exc:
        console.print(f"[red]export failed:[/red] {exc}")
        raise typer.Exit(1) from None


async def _export(export, output: Path) -> None:
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from app.audit.signing import signer_from_settings
    from app.db import create_engine
    from app.exports import service as exports

    settings = get_settings()
    signer = signer_from_settings(settings)
    engine = create_engine(settings.sqlalchemy_url)
    columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    started = time.perf_counter()
    try:
        with Progress(*columns, console=console) as progress:
            task = progress.add_task("exporting settlements", total=None)

            def advance(done: int, total: int | None) -> None:
                progress.update(task, completed=done, total=total)

            manifest = await exports.export_to_file(engine, export, signer, output, advance)
    finally:
        await engine.dispose()
    seconds = time.perf_counter() - started
    console.print(
        f"exported {manifest['row_count']} rows to {output} in {seconds:.2f} s; "
        f"manifest {exports.manifest_path(output)} (sha256 {manifest['sha256']})", soft_wrap=True,
    )


@app.command("verify-export")
def verify_export(
    file: Annotated[Path, typer.Argument(help="the exported file")],
    manifest: Annotated[Path, typer.Argument(help="its manifest (FILE.manifest.json)")],
    public_key: Annotated[Path | None, typer.Option(
        "--public-key", help="trusted Ed25519 public key (PEM); default: the configured key")] = None,
) -> None:
    """Check an export offline: signature, SHA-256 and row count. Exit 0 only when intact."""
    from rich.markup import escape

    from app import keys
    from app.audit import signing
    from app.exports import service as exports

    def fail(*lines: str) -> None:
        console.print("[bold red]EXPORT VERIFICATION FAILED[/bold red]")
        for line in lines:
            console.print(f"[red]  x {escape(line)}[/red]", soft_wrap=True, highlight=False)
        raise typer.Exit(1)

    try:
        if public_key is not None:
            key = keys.parse_public_key(public_key.read_text())
        elif (key := signing.configured_public_key(get_settings())) is None:
            fail("no trusted public key: configure TECHAUCTION_SIGNING_KEY or pass --public-key")
        document = signing.load_document(manifest)
        if not file.is_file():
            fail(f"FILE {file} does not exist")
    except (OSError, ValueError) as exc:
        fail(str(exc))
    problems = exports.verify_export(file, document, key)
    if problems:
        fail(*problems)
    console.print(
        f"[green]export intact:[/green] {escape(str(file))} has {document['row_count']} rows and sha256 "
        f"{document['sha256']}, signed by key {document['key_id']}", soft_wrap=True,
    )


@app.command("verify-pdf")
def verify_pdf(
    file: Annotated[Path, typer.Argument(help="a signed confirmation or auction record (PDF)")],
    cert: Annotated[Path | None, typer.Option(
        "--cert", help="trusted platform certificate (PEM); default: the configured one")] = None,
    ledger: Annotated[bool, typer.Option(
        "--ledger", help="also look the SHA-256 up in the configured database's audit ledger")] = False,
) -> None:
    """Check a signed PDF offline: the platform's signature and that no byte changed. Prints
    signer, signing time and SHA-256; exit 0 only when intact (1 otherwise)."""
    from app.paperwork import verify_cli

    code = verify_cli.run(file, cert=cert, ledger=ledger, settings=get_settings(), say=console.print)
    if code:
        raise typer.Exit(code)


if __name__ == "__main__":
    app()
