"""Evaluating a ledger on every core: ``evaluate_many(workers=N)`` and ``--workers N``.

Evaluation is pure and CPU-bound, and the GIL keeps threads on one core, so using every
core means processes. This module is that machinery, kept apart so that the one-process
path (``workers=1``, the library's default) stays exactly as lean as it was.

How it works, and why:

* **Start method**: ``forkserver`` where the platform has it, else ``spawn`` (Windows);
  never ``fork``, chosen explicitly rather than left to the platform default (``fork`` on
  Linux before Python 3.14, ``forkserver`` from 3.14). A forked child is a copy of the
  parent at an arbitrary moment: of its threads' locks (a host's web server, a logging
  handler, pydantic-core's own threads) held by threads that no longer exist, of every
  open file, of a parent that may be hundreds of MB. ``forkserver`` forks from a small
  single-threaded server instead, so a worker starts the same way whatever its host does.
* **The pack**: a ``Pack`` holds compiled closures, which do not pickle. Its parts do (the
  model, the calendar, the notices, the calendar identity, the revision), so each worker
  builds its own Pack from them once, in the pool's initializer: the very text and calendar
  of the parent's pack, without rereading a directory that may have changed since (which
  would decide with another revision than the one the parent loaded).
* **Order and memory**: facts go out in chunks (``CHUNK_SIZE``; ``LIBRARY_CHUNK_SIZE`` for
  ``evaluate_many``), at most ``2 × workers``
  chunks in flight, and results are taken back chunk by chunk in input order: memory stays
  flat however long the ledger, and output is in input order whatever finishes first.
* **Refusals**: a worker numbers the rows of its chunk from 1; the parent, which sees the
  chunks in order, adds the rows before them, so a ``RefusedFact`` has the position, line
  and sheet it has with one worker (a blank JSON Lines line is no row, and only the worker
  parsing it knows it is blank).
* **Transfer**: for the command line, workers parse JSON Lines rows from their bytes and
  return the output already written (JSON Lines or CSV bytes): the parent only moves
  bytes. For the library, whose host wants ``Decision`` objects, rebuilding them in the
  parent is the price of every core, so the wire is cut to what the parent must build
  (see ``_wire``): each action, chain step and notice goes to the parent once per
  worker, then by number (the engine reuses them across facts), and the parent builds
  with ``_decision``'s fast constructors, each decision as the host takes it. The
  decision id stays deferred, as with one process, computed when read from the chunk
  as it was sent. Even so, sending and rebuilding cost about as much as
  deciding, so ``evaluate_many``'s own process decides a part of the chunks itself, the
  part that makes a fact quickest by the costs it measures as it goes (``_Share``).
* **Failures**: workers ignore SIGINT (Ctrl-C reaches the whole process group; the parent
  decides how a run ends) and are shut down by the parent however it stops. A worker that
  dies raises an ``EcorulesError`` in the parent instead of hanging it; an exception raised
  by the ``facts`` iterable propagates after the results before it.
"""

from __future__ import annotations

import csv
import io
import multiprocessing
import os
import pickle
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import closing, contextmanager
from dataclasses import dataclass, replace
from datetime import date
from functools import partial
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TextIO

from ._decision import (
    CalendarIdentity,
    Decision,
    _adapter,
)
from ._errors import BatchError, EcorulesError, FactError
from ._fact import parse_as_of
from ._ledger import CSV_COLUMNS, LedgerRow, csv_rows, json_row, jsonl_line, refusal
from ._report import RefusedFact
from ._wire import _Decoder, _Encoder

if TYPE_CHECKING:
    from ._calendar import CalendarNotice, WorkingCalendar
    from ._model import PackModel
    from ._pack import Engine, Pack
    from ._versions import VersionOn

FIRST_SHARE = 0.25
"""The part of the chunks ``evaluate_many``'s own process decides itself (see ``_Share``)
until what each part costs has been measured: enough to measure it."""
MAX_SHARE = 0.9
"""At most this part of the chunks is decided by ``evaluate_many``'s own process."""
ADAPT = True
"""Whether that part follows the costs measured (tests hold it still)."""
CHUNK_SIZE = 256
"""Facts per chunk: enough that a chunk's round trip (pickling, a queue, a wake-up) is
small beside deciding it, few enough that the chunks in flight hold little memory."""
LIBRARY_CHUNK_SIZE = 1024
"""Facts per chunk for ``evaluate_many``, whose parent has more to do per chunk (and whose
executor threads wait for the host's thread to let go of the interpreter): fewer, larger
round trips measured better (shared 2-core machine, 300,000 facts: 11.3–13.7 µs a fact
against 14.4–18.6 with 256; noisy). A decision whose id is not read yet holds its chunk
as sent, about 80 KB."""

AUTO_BYTES = 8 << 20
"""The command line decides a ledger file at least this large (8 MiB: 40,000 to 90,000
rows, 3 to 6 s on one process) on every core unless ``--workers`` says otherwise.
Starting the workers (a forkserver; each worker importing the library and building the
pack) delays the first result by about a second (2,000 rows: 0.8–1.0 s on one process,
1.7–1.8 s on two, on the shared 2-core machine); well below this size that start costs
more than the second core saves, and a file's size is known before anything is read."""

Format = Literal["jsonl", "csv"]


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def check_workers(workers: object) -> int:
    """``workers`` as a count of processes; ValueError unless it is a whole number ≥ 1."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a whole number of processes, 1 or more; not {workers!r}")
    return workers


def start_method() -> str:
    """``forkserver`` where there is one, else ``spawn``; never ``fork`` (see above)."""
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


@dataclass(frozen=True)
class _Recipe:
    """What a worker needs to build the parent's pack: its parts, all of which pickle."""

    model: PackModel
    path: Path
    calendar: WorkingCalendar
    notices: tuple[CalendarNotice, ...]
    engine: Engine
    identity: CalendarIdentity
    revision: str
    version: str | None
    versions: tuple[_Recipe, ...]


def _recipe(pack: Pack) -> _Recipe:
    return _Recipe(
        pack.model,
        pack.path,
        pack.calendar,
        pack.notices,
        pack.engine,
        pack.calendar_identity,
        pack.revision,
        pack.version,
        tuple(_recipe(v) for v in pack._versions),
    )


def _build(recipe: _Recipe) -> Pack:
    from ._pack import Pack

    return Pack(
        recipe.model,
        recipe.path,
        recipe.calendar,
        recipe.notices,
        None,  # where each part of pack.yaml stood: for reports on the pack, not decisions
        recipe.engine,
        recipe.identity,
        recipe.revision,
        version=recipe.version,
        versions=[_build(v) for v in recipe.versions],
    )


# The worker's own state, set once by _start: a worker decides for one run only.
_evaluate: Callable[..., Decision] | None = None
_matcher: object = None
_day: date | None = None


def _start(
    recipe: _Recipe, day: date, version_on: VersionOn, version: str | None, limit: int
) -> None:
    """A worker's initializer: ignore Ctrl-C (the parent ends the run) and build the pack."""
    global _evaluate, _matcher, _day, _encoder
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    # The parent's parts and its revision: decisions carry the same revision, and the same
    # decision ids (seeded from it and the notices), as the parent's own would.
    pack = _build(recipe)
    _day = day
    _encoder = _Encoder(limit)
    _evaluate, _matcher = _deciders(pack, version_on, version)


def _deciders(
    pack: Pack, version_on: VersionOn, version: str | None
) -> tuple[Callable[..., Decision], object]:
    """What decides a fact with ``pack`` (and the matcher it takes), as ``evaluate_many``
    decides it."""
    from ._pack import _by_version

    if pack._versions or version is not None or version_on != "start":
        return partial(_by_version, pack, version_on=version_on, version=version), None
    return pack._compiled.evaluate, pack._matcher


def _decide(items: list[Any], lines: bool) -> tuple[int, list[Decision | RefusedFact]]:
    """A chunk decided (``_each``): the number of rows and the results."""
    assert _evaluate is not None and _day is not None, "a worker decides only after _start"
    rows = [0]
    results = list(_each(items, lines, rows, _evaluate, _matcher, _day))
    return rows[0], results


def _each(
    items: list[Any],
    lines: bool,
    rows: list[int],
    evaluate: Callable[..., Decision],
    matcher: object,
    day: date,
) -> Iterator[Decision | RefusedFact]:
    """A chunk decided as ``Pack.evaluate_many`` decides it with ``errors="collect"``
    (keep the two in step: tests compare them), positions counted from 1 within the
    chunk; with ``lines``, the items are JSON Lines ``(number, bytes)`` to parse first.
    Yields the results one by one; ``rows[0]`` is then the number of rows."""
    position = 0
    for item in items:
        fact = item
        if lines and not isinstance(item, LedgerRow):
            fact = json_row(*item)
            if fact is None:  # a blank line is no row
                continue
        position += 1
        row = None
        if isinstance(fact, LedgerRow):
            row = fact
            if fact.error is not None:
                yield RefusedFact(None, position, fact.error, fact.line, sheet=fact.sheet)
                continue
            fact = fact.fact
        try:
            decision = evaluate(fact, day, matcher)
        except FactError as exc:
            yield refusal(exc, position, row)
        else:
            yield decision
    rows[0] = position


def _write(
    items: list[Any], lines: bool, fmt: Format
) -> tuple[int, int, list[bytes | RefusedFact]]:
    """A chunk decided and written as the command line writes it: runs of decisions as
    output bytes, refusals as they are (the parent corrects their position, then writes
    them). Returns the rows, the decisions, and those pieces in order."""
    rows, results = _decide(items, lines)
    pieces: list[bytes | RefusedFact] = []
    run: list[bytes] = []
    decided = 0
    if fmt == "jsonl":
        dump = _adapter(Decision).dump_json  # bytes: what model_dump_json decodes
        for result in results:
            if isinstance(result, RefusedFact):
                pieces.append(b"".join(run))
                pieces.append(result)
                run = []
            else:
                decided += 1
                run.append(dump(result))
                run.append(b"\n")
        pieces.append(b"".join(run))
    else:
        text = io.StringIO()
        writer = csv.writer(text)
        for result in results:
            if isinstance(result, RefusedFact):
                pieces.append(text.getvalue().encode("utf-8"))
                pieces.append(result)
                text.seek(0)
                text.truncate()
            else:
                decided += 1
                writer.writerows(csv_rows(result))
        pieces.append(text.getvalue().encode("utf-8"))
    return rows, decided, [p for p in pieces if p]


INTERN_LIMIT = 1 << 16
"""Objects a worker remembers having sent (and the parent keeps, per worker) before both
forget them all at once: actions, chain steps, notices, a decision's chain-actions-warnings
combination, lists of matched rules, and the parts every decision of a pack version
shares. 65,536 of at most a few hundred bytes each: some 20 MB per worker on each side at
worst. The engine reuses actions and chain steps across facts (one per obligation, status
and date); combinations repeat less, so on a ledger of distinct facts the table fills
every 100,000 facts or so, and the chunk after that is sent whole."""

_encoder: _Encoder | None = None


def _decide_objects(data: bytes) -> tuple[bytes, float]:
    """A pickled chunk of facts decided (``_decide``), the results encoded for the parent,
    and the CPU seconds that took (see ``_Share``)."""
    assert _encoder is not None, "a worker decides only after _start"
    assert _evaluate is not None and _day is not None
    started = time.process_time()
    rows = [0]
    results = _each(pickle.loads(data), False, rows, _evaluate, _matcher, _day)
    return _encoder.encode(results, rows), time.process_time() - started


class _Share:
    """Which chunks ``evaluate_many``'s own process decides itself, and how many.

    A chunk decided here costs this process ``here`` CPU seconds a fact (deciding, and
    the host's own use of the results); one decided by a worker costs this process
    ``back`` (pickling the facts, rebuilding the decisions, the host's use) and the
    worker ``worker``. Rebuilding costs a good part of deciding (see ``_wire``), so on
    few cores the quickest run has this process decide a part itself: the part that
    makes the run's time per fact least, which is the largest of the cores' work shared
    by all, this process's own work, and the workers' (each on a core of its own at
    most). Each cost is measured as the run goes (a moving average), so the part follows
    the host, the pack and the machine; until each is known, ``FIRST_SHARE``."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.cores = min(available_cores(), workers + 1)
        self.part = FIRST_SHARE
        self.credit = 0.0
        self.costs: dict[str, float] = {}

    def here(self) -> bool:
        """Whether the next chunk is decided here (so that ``part`` of them are)."""
        self.credit += self.part
        if self.credit >= 1:
            self.credit -= 1
            return True
        return False

    def note(self, kind: str, seconds: float) -> None:
        """A chunk's cost a fact, of a ``kind`` above."""
        before = self.costs.get(kind)
        self.costs[kind] = seconds if before is None else 0.7 * before + 0.3 * seconds
        if ADAPT and len(self.costs) == 3:
            self.part = min(
                (i / 20 for i in range(int(MAX_SHARE * 20) + 1)), key=self.time_per_fact
            )

    def time_per_fact(self, part: float) -> float:
        """What a fact takes with ``part`` of the chunks decided here."""
        here, back, worker = self.costs["here"], self.costs["back"], self.costs["worker"]
        mine = part * here + (1 - part) * back
        theirs = (1 - part) * worker
        return max((mine + theirs) / self.cores, mine, theirs / self.workers)


def _ready() -> None:
    """A task that only makes the executor start a worker."""


@contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM held back (noted, then raised again on leaving), in the main
    thread; elsewhere, or when a handler was set outside Python (which could not be put
    back), signals are the host's and are left alone."""
    sigs = (signal.SIGINT, signal.SIGTERM)
    if threading.current_thread() is not threading.main_thread() or any(
        signal.getsignal(sig) is None for sig in sigs
    ):
        yield
        return
    caught: list[int] = []

    def hold(signum: int, frame: object) -> None:
        caught.append(signum)

    previous = {sig: signal.signal(sig, hold) for sig in sigs}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for number in dict.fromkeys(caught):
            signal.raise_signal(number)


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """``items`` in lists of ``size``; when reading them raises, the items read before
    it come first, as a last chunk, then the exception."""
    iterator = iter(items)
    while True:
        chunk: list[Any] = []
        failure = None
        try:
            chunk.extend(islice(iterator, size))
        except Exception as exc:
            failure = exc
        if chunk:
            yield chunk
        if failure is not None:
            raise failure
        if len(chunk) < size:
            return


def _in_order(
    pack: Pack,
    day: date,
    version_on: VersionOn,
    version: str | None,
    workers: int,
    chunks: Iterator[Any],
    task: Callable[[Any], Any],
    prepare: Callable[[Any], Any] | None = None,
    local: Callable[[Any], Any] | None = None,
) -> Generator[tuple[Any, Any], None, None]:
    """``task`` of each of ``chunks`` (see ``_chunks``; ``prepare``d first when given),
    run by ``workers`` processes, in input order, with at most ``2 × workers`` chunks in
    flight: yields what was sent and the task's result. An exception raised by ``chunks``
    comes after the results of the chunks read before it; the workers are gone when this
    ends, however it ends.

    With ``local``, this process decides a part of the chunks too, ``local(chunk)`` when
    its turn comes (yielded with ``None`` as what was sent), the part ``_Share`` finds
    quickest from what each kind of chunk costs; ``task`` then returns its result with
    the CPU seconds it took, and only the result is yielded."""
    executor = None
    try:
        with _signals_held():
            # Every worker started now, none while a run is under way: a signal arriving in
            # the middle of starting one would leave a child the executor does not know of,
            # which then fails (with a traceback) to open the queues the parent removed.
            executor = ProcessPoolExecutor(
                workers,
                mp_context=multiprocessing.get_context(start_method()),
                initializer=_start,
                initargs=(_recipe(pack), day, version_on, version, INTERN_LIMIT),
            )
            for _ in range(workers):
                executor.submit(_ready)
        # In input order: (a future, what was sent, its facts) or (None, a chunk this
        # process takes, its facts).
        pending: deque[tuple[Future[Any] | None, Any, int]] = deque()
        failure: Exception | None = None
        exhausted = False
        sent = 0
        share = _Share(workers)

        while True:
            try:
                while not exhausted and sent < 2 * workers and len(pending) < 4 * workers:
                    try:
                        chunk = next(chunks)
                    except StopIteration:
                        exhausted = True
                        break
                    except Exception as exc:  # the facts' own: raised after what came before
                        failure, exhausted = exc, True
                        break
                    if local is not None and share.here():
                        pending.append((None, chunk, len(chunk)))
                        continue
                    try:
                        payload = chunk if prepare is None else prepare(chunk)
                    except Exception:  # facts that do not pickle: decided here, as they can be
                        if local is None:
                            raise
                        pending.append((None, chunk, len(chunk)))
                        continue
                    pending.append((executor.submit(task, payload), payload, len(chunk)))
                    sent += 1
                if not pending:
                    break
                future, payload, count = pending.popleft()
                if future is None:
                    assert local is not None
                    done = local(payload)
                else:
                    sent -= 1
                    done = future.result()
                    if local is not None:
                        done, seconds = done
                        share.note("worker", seconds / count)
            except BrokenProcessPool:  # from submit too, once the pool knows
                raise EcorulesError(
                    "a worker process ended abruptly (killed, or out of memory?); "
                    "the run is incomplete"
                ) from None
            # What this process spends on a chunk, the host's use of its results included
            # (the results are made as they are taken), from here to the next chunk.
            started = time.process_time()
            yield (None if future is None else payload), done
            if local is not None:
                spent = (time.process_time() - started) / count
                share.note("here" if future is None else "back", spent)
        if failure is not None:
            raise failure
    finally:
        # Queued chunks are dropped, running ones (a few milliseconds each) finish; the
        # workers exit and are joined, so no process outlives the run.
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


def evaluate_in_processes(
    pack: Pack,
    facts: Iterable[Any],
    as_of: date | str,
    *,
    errors: Literal["collect", "raise"],
    version_on: VersionOn,
    version: str | None,
    workers: int,
    chunk_size: int = LIBRARY_CHUNK_SIZE,
) -> Iterator[Decision | RefusedFact]:
    """``Pack.evaluate_many`` on ``workers`` processes: the same results, in the same order."""
    check_workers(workers)
    day = parse_as_of(as_of)
    refused: list[RefusedFact] = []
    before = 0
    decode = _Decoder(pack, day).decode
    evaluate, matcher = _deciders(pack, version_on, version)

    def local(chunk: list[Any]) -> tuple[list[int], Iterator[Decision | RefusedFact]]:
        # Decided as the host takes them, as with one process (a chunk of decisions held
        # at once would survive garbage collections, and cost more than deciding them).
        rows = [0]
        return rows, _each(chunk, False, rows, evaluate, matcher, day)

    def prepare(chunk: list[Any]) -> bytes:
        # Pickled here, once, to bytes (which the executor passes as they are), and kept
        # with the results: deferred decision ids are computed from it when read.
        return pickle.dumps(chunk, protocol=5)

    run = _in_order(
        pack,
        day,
        version_on,
        version,
        workers,
        _chunks(facts, chunk_size),
        _decide_objects,
        prepare,
        local,
    )
    # closing: the workers stop as soon as this does, not when the generator is collected
    with closing(run):
        for sent, done in run:
            rows, results = done if sent is None else decode(done, sent)
            for result in results:
                if isinstance(result, RefusedFact):
                    result = replace(result, position=before + result.position)
                    if errors == "raise":
                        refused.append(result)
                        continue
                yield result
            before += rows[0]  # once the chunk is done: a chunk decided here counts as it goes
    if refused:
        raise BatchError(refused)


def write_in_processes(
    pack: Pack,
    rows: Iterable[Any],
    as_of: date,
    version_on: VersionOn,
    version: str | None,
    out: TextIO,
    fmt: Literal["jsonl", "csv"],
    workers: int,
    *,
    lines: bool,
    note: Callable[[RefusedFact], None],
    progress: Callable[[int], None] | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> tuple[int, int]:
    """``write_results(pack.evaluate_many(rows, as_of), out, fmt)`` on ``workers``
    processes, the same bytes; ``lines``: ``rows`` are ``json_lines`` items. ``note`` is
    called with each refusal, in order. Returns (decided, refused)."""
    text_writer = csv.writer(out)
    if fmt == "csv":
        text_writer.writerow(CSV_COLUMNS)
    write = _byte_writer(out, after_text=fmt == "csv")
    decided = refused = before = 0
    task = partial(_write, lines=lines, fmt=fmt)
    chunks = _chunks(rows, chunk_size)
    with closing(_in_order(pack, as_of, version_on, version, workers, chunks, task)) as run:
        for _, (count, chunk_decided, pieces) in run:
            for piece in pieces:
                if isinstance(piece, bytes):
                    write(piece)
                    continue
                result = replace(piece, position=before + piece.position)
                note(result)
                if fmt == "jsonl":
                    write(jsonl_line(result).encode("utf-8"))
                else:
                    text = io.StringIO()
                    csv.writer(text).writerows(csv_rows(result))
                    write(text.getvalue().encode("utf-8"))
            done = decided + refused
            decided += chunk_decided
            refused += count - chunk_decided
            if progress is not None:
                # one call per multiple of 5,000 passed, as one worker's per-fact calls give
                for tick in range(done // 5000 * 5000 + 5000, decided + refused + 1, 5000):
                    progress(tick)
                progress(decided + refused)
            before += count
    return decided, refused


def _byte_writer(out: TextIO, *, after_text: bool) -> Callable[[bytes], object]:
    """Writes UTF-8 bytes to ``out``: straight to its buffer when it is UTF-8 (what has
    been written as text flushed first), else decoded and written as text. A ``utf-8-sig``
    file's byte-order mark comes with its first text: bytes only ``after_text``."""
    encoding = (getattr(out, "encoding", None) or "").lower().replace("_", "-")
    buffer = getattr(out, "buffer", None)
    utf8 = ("utf-8", "utf8", "utf-8-sig") if after_text else ("utf-8", "utf8")
    if buffer is not None and encoding in utf8:
        out.flush()
        return buffer.write  # type: ignore[no-any-return]
    return lambda data: out.write(data.decode("utf-8"))
