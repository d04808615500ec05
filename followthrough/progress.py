"""Progress of long commands on a terminal: one self-overwriting status line on standard error.

    progress = Progress()                      # silent unless stderr is a terminal
    with progress.stage("excerpt", total=len(paths), unit="files") as stage:
        for path in paths:
            ...
            stage.advance()

While a stage runs, its line (stage, count, total if known, rate, elapsed time) is redrawn in
place at most every `interval` seconds; leaving the stage prints a final line such as
`generate: 15,056 files in 11.2 s (1,344 files/s)`. When the stream is not a terminal (tests, CI,
pipes, redirected files) nothing at all is written, unless `enabled=True` says otherwise.
Stages are meant to run one at a time. No dependencies beyond the standard library.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import TextIO

CLEAR_EOL = "\x1b[K"
INTERVAL = 0.1  # seconds between redraws: at most ~10 updates a second


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def _width(stream: TextIO) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):
        return 0


def _count(n: float) -> str:
    return f"{n:,.0f}"


def _rate(n: float) -> str:
    return f"{n:,.1f}" if n < 10 else f"{n:,.0f}"


def _elapsed(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, sec = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{sec:02d}s"
    return f"{minutes // 60}h{minutes % 60:02d}m{sec:02d}s"


def for_output(stdout: TextIO) -> bool | None:
    """The `enabled` setting for a command whose results stream to `stdout` as it works: off when
    they go to the terminal themselves (a status line would tangle with them), else automatic."""
    return False if _isatty(stdout) else None


class Progress:
    """Hands out stages that report to `stream` (standard error by default) when enabled.

    `enabled=None` means: enabled exactly when the stream is a terminal.
    """

    def __init__(self, stream: TextIO | None = None, enabled: bool | None = None, *,
                 interval: float = INTERVAL, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream: TextIO = stream if stream is not None else sys.stderr
        self.enabled = _isatty(self.stream) if enabled is None else enabled
        self.interval = interval
        self.clock = clock

    def stage(self, name: str, total: int | None = None, unit: str = "items") -> Stage:
        """A context manager counting `unit`s of work; use `advance` or `set` inside it."""
        return Stage(self, name, total, unit)


class Stage:
    """One named step of a command; prints its final line when the `with` block ends."""

    def __init__(self, progress: Progress, name: str, total: int | None, unit: str) -> None:
        self.name = name
        self.total = total
        self.unit = unit
        self.count = 0
        self._p = progress
        self._on = progress.enabled
        self._start = 0.0
        self._next = 0.0  # clock value before which no redraw happens
        self._width = 0
        self._note: str | None = None

    def __enter__(self) -> Stage:
        if self._on:
            self._start = self._p.clock()
            self._width = _width(self._p.stream)
            self._draw(self._start)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if not self._on:
            return
        seconds = self._p.clock() - self._start
        line = f"{self.name}: {_count(self.count)} {self.unit} in {_elapsed(seconds)}"
        if seconds > 0 and self.count:
            line += f" ({_rate(self.count / seconds)} {self.unit}/s)"
        if exc_type is not None:
            line += " (stopped)"
        self._write(f"\r{line}{CLEAR_EOL}\n")
        self._on = False

    def advance(self, n: int = 1) -> None:
        """`n` more units done."""
        if self._on:
            self.count += n
            now = self._p.clock()
            if now >= self._next:
                self._draw(now)

    def set(self, count: int) -> None:
        """`count` units done so far."""
        if self._on:
            self.count = count
            now = self._p.clock()
            if now >= self._next:
                self._draw(now)

    def note(self, text: str | None) -> None:
        """What the stage is working on right now (shown after the count), or None."""
        if self._on:
            self._note = text
            now = self._p.clock()
            if now >= self._next:
                self._draw(now)

    def clear(self) -> None:
        """Blank the status line so other messages can go to the same stream; it comes back on
        the next `advance` or `set`."""
        if self._on:
            self._write(f"\r{CLEAR_EOL}")
            self._next = 0.0

    def line(self, now: float) -> str:
        """The status line at clock value `now`."""
        seconds = now - self._start
        done = _count(self.count)
        if self.total is not None:
            done += f" / {_count(self.total)}"
        line = f"{self.name}: {done} {self.unit}"
        if seconds > 0 and self.count:
            line += f", {_rate(self.count / seconds)} {self.unit}/s"
        line = f"{line}, {_elapsed(seconds)}"
        return f"{line}: {self._note}" if self._note else line

    def _draw(self, now: float) -> None:
        self._next = now + self._p.interval
        line = self.line(now)
        if self._width > 1:
            line = line[: self._width - 1]  # a wrapped line could not be overwritten in place
        self._write(f"\r{line}{CLEAR_EOL}")

    def _write(self, text: str) -> None:
        try:
            self._p.stream.write(text)
            self._p.stream.flush()
        except (OSError, ValueError):
            self._on = False  # the terminal went away; the command itself carries on


NULL = Progress(enabled=False)
"""A reporter that never writes anything: the default for library callers."""

EVENTS = logging.getLogger("followthrough.progress")
EVENTS.propagate = False  # only a terminal's progress line listens; never the run's logs


def report(task: str, done: int, total: int | None = None, unit: str = "items") -> None:
    """How far a long step inside a pipeline asset got, for whoever shows progress.

    Assets run inside Dagster, out of reach of the command's `Progress`; they report through this
    logger instead, and `followthrough build` listens to it. Without a listener it costs one
    level check.
    """
    if EVENTS.isEnabledFor(logging.DEBUG):
        EVENTS.debug("%s: %d", task, done, extra={"progress": (task, done, total, unit)})
