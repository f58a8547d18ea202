"""run_grid: trials on any executor, streamed to a JSON-lines file, resumable (API §11).

Executors: a local process pool by default (``workers`` processes, default the core count),
``SerialExecutor()`` (in this process), any ``concurrent.futures.Executor``, or a
``dask.distributed.Client`` (its ``get_executor(pure=False)`` is used; the ``dask`` extra).

Only as many trials are in flight as the executor has workers, so a trial in flight is a
trial running, the progress bar can say how many run, and when a pool breaks because a worker
process died, the trials that were in flight are known. They are rerun one at a time in a new
pool, where a second death names its trial for certain; that trial is recorded as failed.
On Dask the scheduler reassigns the tasks of a lost worker itself; a task it gives up on
(``KilledWorker``) is submitted once more, then recorded as failed.
"""
import concurrent.futures as cf
import json
import os
import pathlib
import sys
import time
import warnings

from ..progbar import _is_terminal
from .grid import as_grid, config_key
from .results import Results, parse_record
from .trial import empty_record, run_trial

MAX_ATTEMPTS = 2     # a trial whose worker dies is run at most twice
_BROKEN, _RETRY = object(), object()


class SerialExecutor(cf.Executor):
    """Runs each submitted call at once, in the calling process (no pickling, no pool)."""

    _max_workers = 1

    def submit(self, fn, /, *args, **kwargs):
        future = cf.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as e:      # delivered through the future, as a pool would
            future.set_exception(e)
        return future


class _Pool:
    """The executor behind a sweep: ours (recreated when broken) or the caller's."""

    def __init__(self, executor, workers):
        self.own = executor is None
        self.workers = workers
        self.client = None
        self._asked = None          # (when, Dask thread count)
        if executor is None:
            self.workers = _check_workers(workers)
            self.executor = self._new_pool()
        elif _is_dask_client(executor):
            self.client = executor
            self.executor = executor.get_executor(pure=False)
        elif _is_dask_client(getattr(executor, "_client", None)):
            self.client = executor._client
            self.executor = executor
        elif isinstance(executor, cf.Executor):
            self.executor = executor
        else:
            raise TypeError(f"run_grid: executor must be None, a concurrent.futures.Executor "
                            f"or a dask.distributed.Client, got {type(executor).__name__}")

    def _new_pool(self):
        return cf.ProcessPoolExecutor(max_workers=self.workers)

    def width(self):
        """How many trials may be in flight at once: a Dask cluster's thread count (asked
        of the scheduler at most every few seconds: workers may come and go), else the
        executor's worker count."""
        if self.client is None:
            return max(1, int(getattr(self.executor, "_max_workers", None) or os.cpu_count()
                              or 1))
        now = time.monotonic()
        if self._asked is None or now - self._asked[0] > 5.0:
            self._asked = (now, max(1, sum(self.client.nthreads().values())))
        return self._asked[1]

    def submit(self, config):
        return self.executor.submit(run_trial, config)

    def renew(self):
        """A fresh pool after ours broke; a broken pool of the caller's cannot be renewed."""
        if not self.own:
            return False
        self.executor.shutdown(wait=True, cancel_futures=True)
        self.executor = self._new_pool()
        return True

    def close(self):
        if self.own:
            self.executor.shutdown(wait=True, cancel_futures=True)


def _check_workers(workers):
    if workers is None:
        return os.cpu_count() or 1
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"run_grid: workers must be a positive integer, got {workers!r}")
    return workers


def _is_dask_client(obj):
    return type(obj).__name__ == "Client" and type(obj).__module__.startswith("distributed")


def _worker_died(exc):
    """True when the exception says the worker process died, not the trial raising."""
    return isinstance(exc, cf.BrokenExecutor) or type(exc).__name__ == "KilledWorker"


def run_grid(grid, executor=None, out=None, resume=False, progress=True, workers=None):
    """Run every trial of ``grid`` (a Grid, a dict of lists or a list of config dicts) and
    return the ``Results`` in grid order. Records are appended to ``out`` (JSON lines,
    flushed and fsynced per trial) as trials finish; ``resume=True`` keeps the records
    already in ``out`` and runs only the others."""
    configs = as_grid(grid).configs()
    done = {}
    if resume:
        if out is None:
            raise ValueError("run_grid: resume=True needs out= (the results file to resume)")
        done = read_records(out, {config_key(c) for c in configs})
    elif out is not None and os.path.exists(out) and os.path.getsize(out) > 0:
        raise FileExistsError(f"run_grid: {str(out)!r} already holds results; pass "
                              f"resume=True to complete it, or remove it")
    todo = [c for c in configs if config_key(c) not in done]
    pool = _Pool(executor, workers)
    sink = _Sink(out) if out is not None else None
    bar = Progress(len(configs), len(done), enabled=progress)
    try:
        for record in _Scheduler(pool, todo, bar).records():
            done[config_key(record["config"])] = record
            if sink is not None:
                sink.write(record)
    finally:
        pool.close()
        bar.close()
        if sink is not None:
            sink.close()
    return Results(done[config_key(c)] for c in configs)


class _Scheduler:
    """Keeps the executor busy, collects records as trials finish, reruns after a death."""

    def __init__(self, pool, todo, bar):
        self.pool, self.bar = pool, bar
        self.queue = list(reversed(todo))       # pop() from the end keeps grid order
        self.suspects = []                      # in flight when our pool broke
        self.attempts = {}
        self.running = {}
        self._broken = []                       # died with our pool, this round

    def records(self):
        while self.queue or self.suspects or self.running:
            self._fill()
            self.bar.update(len(self.running))
            finished, _ = cf.wait(list(self.running), timeout=1.0,
                                  return_when=cf.FIRST_COMPLETED)
            broke = False
            for future in finished:
                record = self._collect(future, self.running.pop(future))
                if record is _BROKEN:
                    broke = True
                elif record is not _RETRY:
                    self.bar.update(len(self.running), failed=record["error"] is not None)
                    yield record
            if broke:
                yield from self._after_break()

    def _fill(self):
        # after a death, suspects run alone: a second death then names its trial for certain
        width = 1 if self.suspects else self.pool.width()
        source = self.suspects or self.queue
        while source and len(self.running) < width:
            config = source.pop()
            self.attempts[config_key(config)] = self.attempts.get(config_key(config), 0) + 1
            self.running[self.pool.submit(config)] = config

    def _collect(self, future, config):
        """The record; _BROKEN when our pool broke under it (``_after_break`` decides), or
        _RETRY when a Dask worker died under it and it is queued again."""
        try:
            return future.result()
        except Exception as e:
            if not _worker_died(e):
                return _failed(config, f"{type(e).__name__}: {e}")
            attempts = self.attempts[config_key(config)]
            if isinstance(e, cf.BrokenExecutor):
                if self.pool.own:
                    self._broken.append(config)
                    return _BROKEN
            elif attempts < MAX_ATTEMPTS:
                self.queue.append(config)
                return _RETRY
            return _failed(config, f"worker process died running this trial ({attempts} "
                                   f"attempts): {type(e).__name__}: {e}")

    def _after_break(self):
        """Our pool broke: every trial in flight died with it (unless it had just finished).
        Rerun them alone in a new pool; one that was running alone when its pool broke, a
        second time, is the culprit."""
        victims = list(self._broken)
        for future, config in self.running.items():
            if future.done() and future.exception() is None:
                self.bar.update(0, failed=future.result()["error"] is not None)
                yield future.result()
            else:
                victims.append(config)
        self._broken.clear()
        self.running.clear()
        alone = len(victims) == 1
        self.pool.renew()
        for config in victims:
            attempts = self.attempts[config_key(config)]
            if alone and attempts >= MAX_ATTEMPTS:
                self.bar.update(0, failed=True)
                yield _failed(config, f"worker process died running this trial ({attempts} "
                                      f"attempts)")
            else:
                self.suspects.append(config)


def _failed(config, message):
    record = empty_record(config)
    record["error"] = message
    return record


class _Sink:
    """Appends one JSON line per record, flushed and fsynced, so a killed sweep loses at most
    the trials in flight."""

    def __init__(self, path):
        self.file = open(path, "a", encoding="utf-8")  # noqa: SIM115 (closed in close())

    def write(self, record):
        self.file.write(json.dumps(record) + "\n")
        self.file.flush()
        os.fsync(self.file.fileno())

    def close(self):
        self.file.close()


def read_records(path, grid_keys):
    """``{config key: record}`` from a results file being resumed. An incomplete last line (a
    sweep killed mid-write) is dropped with a warning and cut from the file; an unparsable
    line elsewhere raises naming its number; a record outside the grid raises."""
    if not os.path.exists(path):
        return {}
    data = pathlib.Path(path).read_bytes()
    lines = data.split(b"\n")
    tail = lines.pop()           # b"" when the file ends with a newline
    if tail.strip():
        warnings.warn(f"run_grid: {str(path)!r} line {len(lines) + 1} is incomplete (a sweep "
                      f"killed while writing it); it is dropped and its trial runs again",
                      stacklevel=3)
        with open(path, "r+b") as f:
            f.truncate(len(data) - len(tail))
    done = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        record = parse_record(line, number, path, "run_grid",
                              "; fix or remove that line to resume")
        key = config_key(record["config"])
        if key not in grid_keys:
            raise ValueError(f"run_grid: {str(path)!r} line {number} was written for another "
                             f"grid: its config {record['config']} is not a trial of this "
                             f"grid")
        done.setdefault(key, record)
    return done


class Progress:
    """One status line over trials: done, running, failed, ETA (to stderr)."""

    def __init__(self, total, already=0, enabled=True, stream=None):
        self.total, self.done, self.failed, self.running = total, already, 0, 0
        self.already = already
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.start = time.perf_counter()
        self.tty = _is_terminal(self.stream)
        self._last = None
        if enabled:
            self._show()

    def update(self, running, failed=None):
        if failed is not None:
            self.done += 1
            self.failed += bool(failed)
        self.running = running
        if self.enabled:
            self._show()

    def line(self):
        ran = self.done - self.already
        left = self.total - self.done
        if ran and left:
            eta = f"ETA {_duration((time.perf_counter() - self.start) / ran * left)}"
        else:
            eta = "ETA -" if left else f"in {_duration(time.perf_counter() - self.start)}"
        return (f"trials {self.done}/{self.total} done, {self.running} running, "
                f"{self.failed} failed, {eta}")

    def _show(self):
        text = self.line()
        if self.tty:
            self.stream.write("\r" + text.ljust(72))
        elif self.done != self._last:       # a log (not a terminal) gets a line per trial
            self.stream.write(text + "\n")
        self._last = self.done
        self.stream.flush()

    def close(self):
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()


def _duration(seconds):
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
