"""`python -m bench.paperwork`: signed confirmations per second, and a 10,000-bid auction record.

Measures the documents' own work, render + sign, on the code path the API runs in its worker
thread (app.paperwork: fpdf2 with the embedded Noto Sans CJK subset, pyHanko's signature):
- confirmations: one after another for --seconds, --reps times; documents per second (median);
- the record of an auction with --bids bids: wall time, and peak memory as tracemalloc's peak
  of Python allocations and the process's peak RSS growth (getrusage).
Facts are made here (no database): reading them is a few indexed SELECTs and is not what this
measures. --samples DIR also writes one signed document of each kind (docs/paperwork/ pages
are rendered from them with pdftoppm). Results: bench/results/<UTC>-paperwork.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from app.paperwork import confirmation, record
from app.paperwork.signing import PdfSigner, read_or_create
from app.paperwork.verify import check_pdf
from app.settlements.rules import compute_terms

CLOSED = datetime(2026, 12, 8, 2, 30, 0, tzinfo=UTC)
TITLE = "一种高能量密度固态锂电池电解质及其制备方法"


def confirmation_facts(settlement_id: int = 1) -> confirmation.ConfirmationFacts:
    """A sale at 2,100,500.00 CNY, its money computed by the settlement rules."""
    rates = {"buyer_premium_rate": Decimal("0.05"), "seller_commission_rate": Decimal("0.03")}
    terms = compute_terms(hammer_price=Decimal("2100500.00"), deposit=Decimal("100000.00"),
                          as_of=CLOSED.date(), payment_days=30, **rates)
    return confirmation.ConfirmationFacts(
        settlement_id=settlement_id, attempt=1, auction_id=42, lot_number=7, listing_id=17,
        listing_title=TITLE, ip_type="patent",
        patent_numbers=("ZL202110123456.7", "ZL202210765432.1"),
        seller=confirmation.Party("中国科学院示范研究所", "12100000400000624D"),
        buyer=confirmation.Party("深圳示例新能源科技有限公司", "91440300MA5XXXXX2R"),
        paddle="8637", currency="CNY", hammer_price=terms.hammer_price,
        buyer_premium=terms.buyer_premium, seller_commission=terms.seller_commission,
        deposit_applied=terms.deposit_applied, amount_due=terms.amount_due, due_date=terms.due_date,
        closed_at=CLOSED, bid_count=23, bid_trail_sha256="9f2c" * 16, settled_at=CLOSED, **rates,
    )


def record_facts(bids: int) -> tuple[record.RecordFacts, list[record.BidLine]]:
    """An english auction with `bids` bids by 40 paddles, 10,000.00 apart, 2 s apart."""
    start = CLOSED - timedelta(seconds=2 * bids + 60)
    lines = [
        record.BidLine(i, 0, str(1000 + (i * 7) % 40), Decimal("1000000.00") + 10000 * i,
                       start + timedelta(seconds=2 * i, milliseconds=i % 1000),
                       ("online", "online", "absentee", "floor")[i % 4])
        for i in range(1, bids + 1)
    ]
    facts = record.RecordFacts(
        auction_id=42, lot_number=7, listing_id=17, listing_title=TITLE,
        seller="中国科学院示范研究所", currency="CNY", starting_price=Decimal("1000000.00"),
        bid_increment=Decimal("10000.00"), reserve_met="达到保留价 reserve met", outcome="成交 sold",
        hammer_price=lines[-1].amount if lines else None, winning_paddle=lines[-1].paddle if lines else None,
        opened_at=start, closed_at=CLOSED, bid_count=bids,
    )
    return facts, lines


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_confirmations(signer: PdfSigner, *, seconds: float, reps: int) -> dict:
    rates, sizes = [], []
    for _ in range(reps):
        count, started = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - started) < seconds:
            data = signer.sign(confirmation.render(confirmation_facts(count + 1)), reason="bench")
            sizes.append(len(data))
            count += 1
        rates.append(count / elapsed)
    return {"per_s_median": round(statistics.median(rates), 2), "per_s_runs": [round(r, 2) for r in rates],
            "ms_per_document": round(1000 / statistics.median(rates), 1),
            "bytes_median": int(statistics.median(sizes))}


def bench_record(signer: PdfSigner, *, bids: int) -> tuple[dict, bytes]:
    """Timed once as the API runs it, then again under tracemalloc for the Python heap's peak."""
    facts, lines = record_facts(bids)
    rss_before = _peak_rss_mb()
    started = time.perf_counter()
    unsigned = record.render(facts, lines)
    rendered = time.perf_counter()
    data = signer.sign(unsigned, reason="bench")
    finished = time.perf_counter()
    rss_growth = _peak_rss_mb() - rss_before
    tracemalloc.start()
    signer.sign(record.render(facts, lines), reason="bench")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "bids": bids, "seconds": round(finished - started, 2), "render_seconds": round(rendered - started, 2),
        "sign_seconds": round(finished - rendered, 2), "bytes": len(data),
        "pages": len(re.findall(rb"/Type\s*/Page\b", unsigned)),
        "tracemalloc_peak_mb": round(peak / 2**20, 1), "peak_rss_growth_mb": round(rss_growth, 1),
    }, data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--bids", type=int, default=10_000)
    parser.add_argument("--samples", type=Path, help="write a signed sample of each document here")
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    args = parser.parse_args()
    signer = PdfSigner(read_or_create(Path(tempfile.mkdtemp()) / "pdf_signing.pem"))
    run = datetime.now(UTC).strftime("%Y-%m-%dT%H%MZ")
    result = {
        "run": run, "bench": "paperwork", "command": "python -m bench.paperwork "
        f"--seconds {args.seconds:g} --reps {args.reps} --bids {args.bids}",
        "host": {"cpus": os.cpu_count(), "load_average_before": [round(x, 2) for x in os.getloadavg()]},
        "confirmations": bench_confirmations(signer, seconds=args.seconds, reps=args.reps),
    }
    result["record"], data = bench_record(signer, bids=args.bids)
    check = check_pdf(data, signer.trust_root)
    result["record"]["verifies"] = check.ok
    print(json.dumps(result, indent=2, ensure_ascii=False))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{run}-paperwork.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    if args.samples:
        args.samples.mkdir(parents=True, exist_ok=True)
        (args.samples / "confirmation.pdf").write_bytes(
            signer.sign(confirmation.render(confirmation_facts()), reason="sample"))
        facts, lines = record_facts(60)
        (args.samples / "auction-record.pdf").write_bytes(
            signer.sign(record.render(facts, lines), reason="sample"))


if __name__ == "__main__":
    main()
