"""Options shared by several commands, defined once."""

from __future__ import annotations

from typing import Any

import click

from planner.config import Config


def show_progress(ctx: click.Context) -> bool:
    """Progress bars unless ``-q`` was given."""
    state = ctx.find_root().obj
    return not getattr(state, "quiet", False)


def make_config(ctx: click.Context, **overrides: Any) -> Config:
    """The :class:`Config` for this run: defaults, then the command's flags."""
    values = {k: v for k, v in overrides.items() if v is not None}
    values.setdefault("progress", show_progress(ctx))
    return Config(**values)


strict_option = click.option(
    "--strict", is_flag=True, default=False,
    help="Treat every ERROR notice as fatal (exit code 2), as a CI gate would.",
)
allow_subfolder_option = click.option(
    "--allow-subfolder", is_flag=True, default=False,
    help="Accept a zip whose GTFS files sit in one subfolder (with a warning).",
)
max_dropped_option = click.option(
    "--max-dropped-trip-share", type=click.FloatRange(0, 1), default=None, metavar="SHARE",
    help="Fail when more than this share of a feed's trips is dropped for errors [default: 0.05].",
)


def _quiet_callback(ctx: click.Context, param, value):
    if value:
        state = ctx.find_root().obj
        if state is not None:
            state.quiet = True
    return value


#: ``-q`` after the command name too (``plan matrix ... -q``), same as ``plan -q matrix``
quiet_option = click.option("-q", "--quiet", "quiet_", is_flag=True, expose_value=False, callback=_quiet_callback,
                            help="No progress bars.")


def _scheduler_callback(ctx: click.Context, param, value):
    if value is not None and not value.strip():
        msg = "expected tcp://HOST:PORT or a scheduler JSON file"
        raise click.BadParameter(msg, ctx=ctx, param=param)
    return value


def executor_options(f):
    """``--workers N`` and ``--scheduler ADDR``: where the many-origin work runs.

    Neither: here, on the numba threads of this machine. Pass both values to
    :func:`open_executor` (a context manager) to get the executor for the run.
    """
    f = click.option(
        "--scheduler", default=None, metavar="ADDR", callback=_scheduler_callback,
        help="Run on an existing Dask cluster: its scheduler address (tcp://HOST:PORT) or a scheduler JSON "
             "file (dask scheduler --scheduler-file). The network is sent to each worker once; outputs are "
             "identical to the local run.",
    )(f)
    return click.option(
        "--workers", type=click.IntRange(min=1), default=None, metavar="N",
        help="Run on a Dask LocalCluster of N worker processes on this machine (the cores shared among them). "
             "Default: in this process, on numba threads.",
    )(f)


def open_executor(workers: int | None, scheduler: str | None):
    """The executor for ``--workers``/``--scheduler`` (a context manager; local when both are None).

    An unreachable scheduler, or both options at once, is an
    :class:`~planner.errors.InputError` (exit code 2).
    """
    import logging

    from planner.errors import InputError
    from planner.routing.execution import executor

    if workers is not None and scheduler is not None:
        msg = "give either --workers (a cluster on this machine) or --scheduler (an existing one), not both"
        raise InputError(msg, code="invalid_parameter")
    if workers is not None or scheduler is not None:
        import distributed  # noqa: F401  (sets its loggers' levels on import; ours below win)

        # Dask's INFO chatter (every worker and client registering) only with -vv;
        # warnings (a worker restarted, lost) always
        ctx = click.get_current_context(silent=True)
        verbose = getattr(ctx.find_root().obj, "verbose", 0) if ctx is not None else 0
        logging.getLogger("distributed").setLevel(logging.INFO if verbose >= 2 else logging.WARNING)
    return executor(workers=workers, scheduler=scheduler)
