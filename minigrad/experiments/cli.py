"""``python -m minigrad sweep GRID.toml``: run a grid file, print its summary (API §11).

The TOML file holds Grid's keys at top level: a list is an axis, a scalar is fixed (TOML has
no null, so ``clipnorm = 0`` means no clipping)."""
import contextlib
import os

CONNECT_TIMEOUT = "10s"


def read_grid(path):
    """The Grid of a TOML file; unknown keys or values raise before anything runs."""
    try:
        import tomllib
    except ImportError:            # Python 3.10: the backport declared in pyproject
        import tomli as tomllib
    from .grid import Grid
    try:
        with open(path, "rb") as f:
            table = tomllib.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(f"sweep: no grid file {str(path)!r}") from None
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"sweep: {str(path)!r} is not valid TOML: {e}") from None
    nested = [k for k, v in table.items() if isinstance(v, dict)]
    if nested:
        raise ValueError(f"sweep: {str(path)!r}: the grid's keys go at top level, found the "
                         f"table(s) {nested}")
    return Grid(**table)


@contextlib.contextmanager
def dask_client(scheduler, workers):
    """The Dask client for ``--scheduler`` (None without one), closed (with the LocalCluster it
    started) when the block ends, however it ends."""
    client = cluster = None
    if scheduler:
        client, cluster = connect(scheduler, workers)
    try:
        yield client
    finally:
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()


def connect(scheduler, workers):
    """``(client, cluster)`` for ``--scheduler``: "local" starts a LocalCluster of worker
    processes; an address connects with a 10 s timeout (a clear error if unreachable)."""
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError:
        raise ImportError("--scheduler needs Dask: pip install 'minigrad[dask]'") from None
    dask.config.set({"distributed.comm.timeouts.connect": CONNECT_TIMEOUT})
    if scheduler == "local":
        cluster = LocalCluster(n_workers=workers or os.cpu_count() or 1, threads_per_worker=1,
                               processes=True, dashboard_address=None)
        return Client(cluster), cluster
    try:
        return Client(scheduler, timeout=CONNECT_TIMEOUT), None
    except (OSError, TimeoutError) as e:
        raise OSError(f"cannot reach the Dask scheduler at {scheduler!r} within "
                      f"{CONNECT_TIMEOUT} ({type(e).__name__}: {e}); is `dask scheduler` "
                      f"running there?") from None


def command(args):
    """Entry point of the ``sweep`` subcommand."""
    from ..diagnostics.plot import check_path
    from .run import run_grid
    grid = read_grid(args.grid)
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers {args.workers}: expected a positive number of local "
                         f"worker processes")
    if args.resume and not args.out:
        raise ValueError("--resume needs --out (the results file to complete)")
    if args.plot:
        check_path(args.plot)
    if args.logdir:
        from .logdir import writer
        writer()
    with dask_client(args.scheduler, args.workers) as client:
        # --workers N: a local pool of N processes (a trial that kills its process is
        # then rerun, not the end of the sweep)
        results = run_grid(grid, executor=client, out=args.out, resume=args.resume,
                           progress=not args.quiet, workers=args.workers)
    print(results.summary())
    failed = sum(r["error"] is not None for r in results)
    if failed:
        first = next(r for r in results if r["error"] is not None)
        print(f"\n{failed} of {len(results)} trials failed; the first: {first['error']}")
    if args.out:
        print(f"\nrecords in {args.out}")
    if args.plot:
        results.plot(args.plot, title=f"kernel gradient norm at initialisation: "
                                      f"{args.grid}")
        print(f"plot written to {args.plot}")
    if args.logdir:
        from .logdir import write_records
        names = write_records(args.logdir, results)
        print(f"{len(names)} TensorBoard runs in {args.logdir}")
    return 0


def add_parser(subparsers):
    """Register the ``sweep`` subcommand."""
    from ..diagnostics.cli import guarded
    p = subparsers.add_parser("sweep", help="run a grid of gradient experiments (TOML file)")
    p.add_argument("grid", metavar="GRID.toml", help="the grid: config keys at top level, "
                                                     "a list is an axis")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None, metavar="N",
                       help="local worker processes (default: the number of cores)")
    where.add_argument("--scheduler", metavar="ADDR",
                       help="tcp://HOST:PORT of a running Dask scheduler, or 'local' to "
                            "start a Dask LocalCluster")
    p.add_argument("--out", metavar="FILE", help="stream the records to FILE (JSON lines)")
    p.add_argument("--resume", action="store_true", help="skip the trials already in --out")
    p.add_argument("--plot", metavar="PATH", help="write a PNG of the per-layer norms")
    p.add_argument("--logdir", metavar="DIR", help="write TensorBoard event files per trial")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=guarded(command, "sweep"))
    return p
