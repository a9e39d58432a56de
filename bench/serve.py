"""`python -m bench.serve`: serve the bench's app (bench.app) as `techauction serve` serves the
real one: uvicorn workers with a listening socket each, answers sent in one write."""

import argparse

from app.serving import serve

BENCH_APP = "bench.app:create_bench_app"


def main(argv: list[str] | None = None) -> None:
    """Parse `serve`'s options and serve the bench's app until stopped."""
    parser = argparse.ArgumentParser(prog="python -m bench.serve", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--access-log", action=argparse.BooleanOptionalAction, default=True)
    options = parser.parse_args(argv)
    serve(host=options.host, port=options.port, workers=options.workers,
          access_log=options.access_log, app=BENCH_APP)


if __name__ == "__main__":
    main()
