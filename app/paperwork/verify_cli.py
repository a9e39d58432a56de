"""`techauction verify-pdf FILE`: what it checks and prints (the command in app/cli.py is thin)."""

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.markup import escape

from app.paperwork import signing
from app.paperwork.verify import check_pdf


def _trust_root(cert: Path | None, settings: Any):
    if cert is None:
        return signing.configured_certificate(settings)
    return signing.PdfSigner(cert.read_text()).trust_root


def run(file: Path, *, cert: Path | None, ledger: bool, settings: Any, say: Callable[..., None]) -> int:
    """0 when FILE is intact and signed by the platform, 1 otherwise (problems printed)."""
    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)  # its tracebacks; we say what failed
    logging.getLogger("pyhanko_certvalidator").setLevel(logging.CRITICAL)
    try:
        data = file.read_bytes()
        root = _trust_root(cert, settings)
    except (OSError, ValueError) as exc:
        say(f"[bold red]PDF VERIFICATION FAILED[/bold red]\n[red]  x {escape(str(exc))}[/red]")
        return 1
    check = check_pdf(data, root)
    say(f"file:      {escape(str(file))}", soft_wrap=True, highlight=False)
    say(f"sha256:    {check.sha256}", highlight=False)
    say(f"signer:    {escape(check.signer or '—')}", soft_wrap=True, highlight=False)
    say(f"signed at: {check.signed_at.isoformat() if check.signed_at else '—'}", highlight=False)
    if root is None:
        say("[yellow]no platform certificate configured (or --cert): the signer was not "
            "checked against it[/yellow]")
    if ledger:
        say(f"ledger:    {asyncio.run(_ledger_line(settings, check.sha256))}", highlight=False)
    if not check.ok:
        say("[bold red]PDF VERIFICATION FAILED[/bold red]")
        for problem in check.problems:
            say(f"[red]  x {escape(problem)}[/red]", soft_wrap=True, highlight=False)
        return 1
    say("[green]signature valid, document intact[/green]")
    return 0


async def _ledger_line(settings: Any, sha256: str) -> str:
    """Which audit-ledger entry recorded this digest (needs the database)."""
    from app.db import create_engine, create_sessionmaker
    from app.paperwork.service import ledger_entry_for

    engine = create_engine(settings.sqlalchemy_url)
    try:
        async with create_sessionmaker(engine)() as session:
            entry = await ledger_entry_for(session, sha256)
    finally:
        await engine.dispose()
    if entry is None:
        return "no entry records this SHA-256"
    when = f"{entry.occurred_at:%Y-%m-%dT%H:%M:%SZ}"
    return f"entry #{entry.sequence} {entry.action} {entry.entity_type} {entry.entity_id} at {when}"
