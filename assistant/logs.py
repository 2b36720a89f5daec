"""Logging for interactive commands: records go to a log file (or nowhere), never into the conversation.

SDKs log warnings, HTTP details and one line per failed provider attempt; in a terminal chat they would
interleave with the answer. `terminal_logging()` sends every record of the process to a file, masked
(masking.install_log_masking), captures `warnings` there too, and takes the console handlers some libraries
attach to their own loggers (Langfuse adds one to `httpx`) out of the way. Everything is restored on exit.
What matters to the user is said by the command itself, in one line.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from assistant.masking import install_log_masking, uninstall_log_masking

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
MAX_BYTES = 5_000_000  # per file; two older files are kept


def default_log_file() -> Path:
    """$XDG_STATE_HOME/skillmatch/chat.log (~/.local/state/skillmatch/chat.log)."""
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "skillmatch" / "chat.log"


class _LogFile(logging.handlers.RotatingFileHandler):
    """Opened at the first record, folder included: a run that logs nothing leaves no file behind. A file
    that cannot be written swallows the records rather than put a logging error on the terminal."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, maxBytes=MAX_BYTES, backupCount=2, encoding="utf-8", delay=True)
        self.setFormatter(logging.Formatter(FORMAT))

    def _open(self):  # type: ignore[no-untyped-def]
        try:
            Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
            return super()._open()
        except OSError:
            return open(os.devnull, "w", encoding="utf-8")  # the handler closes it


@contextmanager
def terminal_logging(log_file: str | None) -> Iterator[Path | None]:
    """Yields the log file in use (created with the first record), or None when logging is off ("")."""
    path = default_log_file() if log_file is None else Path(log_file).expanduser() if log_file else None
    handler = _LogFile(path) if path is not None else None
    root = logging.getLogger()
    saved_root = (root.level, list(root.handlers))
    consoles: list[tuple[logging.Logger, logging.Handler]] = []
    for logger in [logging.getLogger(name) for name in list(logging.Logger.manager.loggerDict)]:
        for existing in list(logger.handlers):
            if type(existing) is logging.StreamHandler:  # a console handler, not a file
                consoles.append((logger, existing))
                logger.removeHandler(existing)
    root.handlers = [handler or logging.NullHandler()]
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)
    install_log_masking()
    try:
        yield path if handler is not None else None
    finally:
        uninstall_log_masking()
        logging.captureWarnings(False)
        root.setLevel(saved_root[0])
        root.handlers = saved_root[1]
        for logger, existing in consoles:
            logger.addHandler(existing)
        if handler is not None:
            handler.close()
