"""The techauction command line."""

import asyncio
import os
from typing import Annotated

import typer
import uvicorn
from rich.console import Console

from app.settings import get_settings

app = typer.Typer(no_args_is_help=True, help="Auctions of sci-tech outcomes.")
console = Console(stderr=True)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="uvicorn worker processes")] = 1,
) -> None:
    """Serve the API (with no TECHAUCTION_REDIS_URL, on an embedded Redis shared by all workers)."""
    from app.redis import EmbeddedRedis

    settings = get_settings()
    embedded = None
    if not settings.redis_url:
        embedded = EmbeddedRedis(settings.var_dir)
        os.environ["TECHAUCTION_REDIS_URL"] = embedded.start()
        console.print(f"embedded Redis on {embedded.url}")
    try:
        uvicorn.run(
            "app.main:create_app", factory=True, host=host, port=port, workers=workers,
            proxy_headers=True, log_level="info",
        )
    finally:
        if embedded is not None:
            embedded.stop()


@app.command()
def worker() -> None:
    """Close due rounds on time (run as many as you like: closing is idempotent)."""
    asyncio.run(_run_worker())


async def _run_worker() -> None:
    import signal

    from app.auctions.engine import Engine
    from app.auctions.worker import run_closer
    from app.db import create_engine, create_sessionmaker
    from app.redis import create_redis

    settings = get_settings()
    if not settings.redis_url:
        console.print("[red]the worker needs TECHAUCTION_REDIS_URL (the API's Redis)[/red]")
        raise typer.Exit(2)
    db_engine = create_engine(settings.sqlalchemy_url)
    redis = create_redis(settings.redis_url, cluster=settings.redis_cluster)
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
    password: Annotated[str, typer.Option(help="at least 8 characters")],
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


if __name__ == "__main__":
    app()
