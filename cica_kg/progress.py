"""Progress of long work (build, export, the Wikidata check, the benchmark generator) on
stderr, so that a command's answer on stdout stays byte-identical with or without it.

A `Progress` reports `Stage`s: each has counts (the first one is the stage's main count:
its rate and, when its total is known, the time left come from it), and ends with one line:
`load: 417.0 kB, 20 files, 0.3 s (1.4 MB/s)`; a stage stopped by an error leaves none (the
error says why). On a terminal (the stream's isatty()) the stages still running are redrawn
in place on one line, at most every `interval` seconds, and by a ticker thread while nothing
reports (so the clock moves during a long bulk load); elsewhere (a log, a pipe) only the
line at each stage's end is written. Quiet, nothing.

The library takes an optional Progress (default `SILENT`); stages may run in several threads
at once (the build writes the store while it validates), so every change holds one lock.
No dependency: tqdm or rich would draw one bar per loop, not stages that overlap."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol

CLEAR = "\x1b[K"  # erase to the end of the line (a shorter redraw leaves no tail)
BYTES = "bytes"  # the unit written as kB, MB, GB


class Stream(Protocol):
    """Where progress is written: a text file (stderr), or a log's lines (logs.LogLines)."""

    def write(self, text: str, /) -> int: ...
    def flush(self) -> None: ...
    def isatty(self) -> bool: ...


@dataclass
class Count:
    unit: str
    done: float = 0
    total: float | None = None


def number(value: float, unit: str) -> str:
    """1234567 -> '1,234,567'; bytes as '1.2 MB'."""
    if unit == BYTES:
        for name, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
            if value >= size:
                return f"{value / size:.1f} {name}"
        return f"{int(value)} B"
    return f"{value:,.0f}" if value >= 1000 or value == int(value) else f"{value:.1f}"


def duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    return f"{minutes // 60} h {minutes % 60:02d} min"


class Stage:
    """One stage of the work: counts, a start time, a note. Use as a context manager (the
    stage ends when the block does; an exception ends it as stopped) or call `end()`."""

    def __init__(
        self,
        progress: Progress,
        name: str,
        counts: dict[str, Count],
        rate_of: str | None = None,
        watch: str | os.PathLike[str] | None = None,
        estimate: bool = True,
    ):
        self.progress, self.name, self.counts = progress, name, counts
        self.rate_of = rate_of  # the count whose rate is shown, once it has one (else the main)
        self.watch = watch  # a file being written (by another process): its size, live
        self.estimate = estimate  # False: units of very unequal cost, no rate or time left
        self.mark: tuple[float, float] | None = None  # (when, main count) at its last change
        self.started = progress.clock()
        self.ended: float | None = None
        self.stopped = False
        self.note_text = ""

    def advance(self, n: float = 1, more: Mapping[str, float] | None = None) -> None:
        """Add `n` to the main count and `more` to the counts named."""
        with self.progress.lock:
            first = next(iter(self.counts.values()), None)
            if first is not None:
                first.done += n
            for unit, value in (more or {}).items():
                self.counts.setdefault(unit, Count(unit)).done += value
            self._marked()
        self.progress.changed()

    def update(
        self,
        done: Mapping[str, float] | None = None,
        *,
        totals: Mapping[str, float | None] | None = None,
    ) -> None:
        """Set the counts named (and their totals: None for none) to these values."""
        with self.progress.lock:
            for unit, value in (done or {}).items():
                self.counts.setdefault(unit, Count(unit)).done = value
            for unit, total in (totals or {}).items():
                self.counts.setdefault(unit, Count(unit)).total = total
            self._marked()
        self.progress.changed()

    def _marked(self) -> None:
        main = next(iter(self.counts.values()), None)
        if main is not None and (self.mark is None or self.mark[1] != main.done):
            self.mark = (self.progress.clock(), main.done)

    def note(self, text: str) -> None:
        """A passing remark, shown on the terminal until the next one (e.g. a retry's wait)."""
        with self.progress.lock:
            self.note_text = text
        self.progress.changed(force=True)

    def end(self, stopped: bool = False) -> None:
        self.progress.finish(self, stopped)

    def __enter__(self) -> Stage:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.end(stopped=kind is not None)

    def line(self, now: float, live: bool) -> str:
        """`name: counts, elapsed (rate), time left`; while live, totals and a percentage."""
        elapsed = (now if self.ended is None else self.ended) - self.started
        parts = []
        for count in self.counts.values():
            text = number(count.done, count.unit)
            if count.total is not None and (live or count.done != count.total):
                text += "/" + number(count.total, count.unit)
            parts.append(text if count.unit == BYTES else f"{text} {count.unit}")
        main = next(iter(self.counts.values()), None)
        rated = self.counts.get(self.rate_of or "") or main
        timing = duration(elapsed)
        if self.estimate and rated is not None and rated.done > 0 and elapsed >= 0.5:
            timing += f" ({number(rated.done / elapsed, rated.unit)}"
            timing += "/s)" if rated.unit == BYTES else f" {rated.unit}/s)"
        parts.append(timing)
        if live and main is not None and main.total and 0 < main.done < main.total:
            parts[0] += f" ({100 * main.done / main.total:.0f}%)"
            left = self._left(now, main.total)
            if left is not None:
                parts.append(f"~{duration(left)} left")
        if live and self.note_text:
            parts.append(self.note_text)
        return f"{self.name}: " + ", ".join(parts)

    def _left(self, now: float, total: float) -> float | None:
        """The time left, estimated when the main count last moved (at the rate so far) and
        counted down since: a long step between two counts (one big file) makes the
        estimate run out, not grow. None until 2 % and a second are done, or run out."""
        if not self.estimate or self.mark is None:
            return None
        when, done = self.mark
        spent = when - self.started
        if spent < 1 or done < total / 50:
            return None
        left = spent * (total - done) / done - (now - when)
        return left if left > 0 else None


class Progress:
    """Where the stages are reported: `stream` (default sys.stderr at creation), redrawn in
    place when `tty` (default: the stream's isatty()), nothing at all when `quiet`."""

    def __init__(
        self,
        stream: Stream | None = None,
        *,
        quiet: bool = False,
        tty: bool | None = None,
        interval: float = 0.1,
        tick: float | None = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.stream = stream if stream is not None else sys.stderr
        self.quiet = quiet
        self.tty = (not quiet) and (self.stream.isatty() if tty is None else tty)
        self.interval, self.tick, self.clock = interval, tick, clock
        self.lock = threading.RLock()
        self.active: list[Stage] = []
        self.drawn = False  # a live line is on the screen
        self.last_draw = float("-inf")
        self.stop_ticker = threading.Event()
        self.ticker: threading.Thread | None = None

    def stage(
        self,
        name: str,
        *units: str,
        totals: Mapping[str, float | None] | None = None,
        rate_of: str | None = None,
        watch: str | os.PathLike[str] | None = None,
        estimate: bool = True,
    ) -> Stage:
        """A new running stage with these counts (the first one the main one), at 0. With
        `watch` (a file another process writes), its size is the count of bytes on a
        terminal; `rate_of` names the count whose rate the stage's line shows; `estimate`
        False: no rate or time left (units of very unequal cost, such as the checks)."""
        counts = {unit: Count(unit) for unit in units}
        for unit, total in (totals or {}).items():
            counts.setdefault(unit, Count(unit)).total = total
        stage = Stage(self, name, counts, rate_of, watch, estimate)
        with self.lock:
            self.active.append(stage)
            if self.tty and self.ticker is None and self.tick:
                self.ticker = threading.Thread(target=self._tick, daemon=True, name="progress")
                self.ticker.start()
        self.changed(force=True)
        return stage

    def changed(self, force: bool = False) -> None:
        if not self.tty:
            return
        with self.lock:
            now = self.clock()
            if force or now - self.last_draw >= self.interval:
                self._draw(now)

    def finish(self, stage: Stage, stopped: bool) -> None:
        with self.lock:
            if stage not in self.active:  # ended already
                return
            self.active.remove(stage)
            stage.ended, stage.stopped = self.clock(), stopped
            if self.quiet:
                return
            # A stage stopped by an error leaves no line: the error, printed next, says why.
            line = "" if stopped else stage.line(stage.ended, live=False)
            if self.tty:
                self.stream.write("\r" + self._fit(line) + CLEAR + ("\n" if line else ""))
                self.drawn = False
                self._draw(stage.ended)
            elif line:
                self.stream.write(line + "\n")
            self.stream.flush()

    def close(self) -> None:
        """End the stages still running (as stopped), stop the ticker, clear the live line."""
        for stage in list(self.active):
            stage.end(stopped=True)
        self.stop_ticker.set()
        if self.ticker is not None:
            self.ticker.join()
        with self.lock:
            if self.drawn:
                self.stream.write("\r" + CLEAR)
                self.stream.flush()
                self.drawn = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _draw(self, now: float) -> None:
        """The running stages on one line, in place of the last one (lock held)."""
        self.last_draw = now
        if not self.active:
            return
        for stage in self.active:
            if stage.watch is not None:
                with contextlib.suppress(OSError):
                    size = os.stat(stage.watch).st_size
                    stage.counts.setdefault(BYTES, Count(BYTES)).done = size
        line = " | ".join(stage.line(now, live=True) for stage in self.active)
        self.stream.write("\r" + self._fit(line) + CLEAR)
        self.stream.flush()
        self.drawn = True

    def _fit(self, line: str) -> str:
        # A line wider than the terminal wraps, and "\r" then redraws only its last part.
        width = shutil.get_terminal_size((100, 24)).columns - 1
        return line if len(line) <= width else line[: width - 1] + "…"

    def _tick(self) -> None:
        assert self.tick is not None
        while not self.stop_ticker.wait(self.tick):
            self.changed()


SILENT = Progress(quiet=True)  # the library's default: counts kept, nothing written
