"""Structured logs: one JSON object per line, exceptions as plain text (no locals)."""

import logging

import structlog


def configure_logging(level: int = logging.INFO) -> None:
    """JSON lines to stderr; safe to call more than once."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            # format_exc_info renders a plain traceback: no local variables (tokens, passwords).
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=True,
    )
