"""Command line: parse, call the library, print, exit. 0 pass, 1 finding, 2 cannot check."""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

import click
from hypothesis.errors import InvalidArgument
from rich.console import Console

from gradharness.batch import is_batch
from gradharness.batch.rubric import Rubric
from gradharness.cli.batch import batch_check
from gradharness.cli.cache import hypothesis_in_cache
from gradharness.cli.mutate import mutate, sensitivity
from gradharness.cli.options import (
    parse_layer_sizes,
    parse_layers,
    parse_signature_options,
    positive_finite,
    read_rubric,
)
from gradharness.cli.output import write_gradescope, write_junit, write_results
from gradharness.cli.progress import from_lines, progress_bar
from gradharness.cli.report import html_option, report, write_html
from gradharness.cli.signals import exit_status, stop_on_signals
from gradharness.errors import GradHarnessError
from gradharness.judge.checks import DEFAULT_TIMEOUT, check_file
from gradharness.mutation.causes import explain
from gradharness.properties.runner import case_strategy
from gradharness.records.verdict import RunVerdict
from gradharness.render.safe_text import MESSAGE_BYTES, shown
from gradharness.render.tallies import score_line
from gradharness.render.terminal import render_record
from gradharness.settings import (
    DEFAULT_MEMORY_MB,
    DEFAULT_THRESHOLD,
    ISOLATION_LEVELS,
    SEED_EPSILON,
    CheckOptions,
    FunctionNames,
    IsolationSettings,
    RunSettings,
    StrategyOptions,
)
from gradharness.targets.registry import TARGET_NAMES


class _Stopped(BaseException):
    """Carries an interrupt past click, which would print "Aborted!" and exit 1; :func:`run` says it in one line."""

    def __init__(self, interrupt: KeyboardInterrupt) -> None:
        super().__init__()
        self.interrupt = interrupt


class _Commands(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as exc:
            raise _Stopped(exc) from None


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gradharness", message="%(prog)s %(version)s")
def main() -> None:
    """gradharness: stress-test hand-written backpropagation with numerical gradient checks."""
    # Hypothesis caches what it learns from source files; never in the folder a command runs in.
    click.get_current_context().with_resource(hypothesis_in_cache())


@main.command()
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--seed", type=int, default=None, help="Hypothesis seed (default: random; printed for reproduction).")
@click.option(
    "--max-examples", type=click.IntRange(min=1), default=100, show_default=True, help="Generated cases per property."
)
@click.option(
    "--epsilon",
    type=float,
    default=None,
    callback=positive_finite,
    help="Fixed centred-difference step (default: cbrt(machine eps) * max(1, |theta|), smaller where a "
    "parameter moves the output strongly).",
)
@click.option(
    "--threshold",
    type=float,
    default=DEFAULT_THRESHOLD,
    show_default=True,
    callback=positive_finite,
    help="Relative difference above which a block is examined.",
)
@click.option(
    "--exercise-settings",
    is_flag=True,
    help=f"Use the exercise's epsilon {SEED_EPSILON:g} and threshold {DEFAULT_THRESHOLD:g}.",
)
@click.option(
    "--timeout",
    type=float,
    default=DEFAULT_TIMEOUT,
    show_default=True,
    callback=positive_finite,
    help="Wall-clock limit in seconds for the whole check.",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the result as JSON here.",
)
@click.option(
    "--forward", default="forward_propagation_n", show_default=True, help="Name of the network's forward function."
)
@click.option(
    "--backward", default="backward_propagation_n", show_default=True, help="Name of the network's backward function."
)
@click.option(
    "--forward-1d", default="forward_propagation", show_default=True, help="Name of the 1-D forward function."
)
@click.option(
    "--backward-1d", default="backward_propagation", show_default=True, help="Name of the 1-D backward function."
)
@click.option(
    "--layer-sizes",
    callback=parse_layer_sizes,
    default=None,
    help="Fix sizes, e.g. '4,5,3,1' or '*,*,*,1' (* = drawn).",
)
@click.option("--output-size", type=click.IntRange(min=1), default=None, help="Fix n3, the number of output units.")
@click.option("--batch-size", type=click.IntRange(min=1), default=None, help="Fix m, the number of examples.")
@click.option("--max-units", type=click.IntRange(min=1), default=6, show_default=True, help="Largest drawn layer size.")
@click.option("--max-batch", type=click.IntRange(min=1), default=8, show_default=True, help="Largest drawn m.")
@click.option("--adversarial", is_flag=True, help="Draw stress cases: exact zeros, large weights, saturation.")
@click.option(
    "--target", "target", type=click.Choice(list(TARGET_NAMES)), default=None,
    help="Check only this target's functions (default: every target the file implements).",
)  # fmt: skip
@click.option(
    "--signature", "signatures", multiple=True, callback=parse_signature_options, metavar="NAME=SIG",
    help="Check the file's NAME_forward/NAME_backward (a '()' output: or NAME returning (loss, grads)) on cases "
    "drawn for this gufunc signature, e.g. 'scaled_tanh=(N,D),(D)->(N,D)'; repeatable.",
)  # fmt: skip
@click.option(
    "--layers", "layers", callback=parse_layers, default=None, metavar="MIN:MAX",
    help="The deep target's depth L, weight layers drawn from MIN to MAX (default 2:5).",
)  # fmt: skip
@click.option("-q", "--quiet", is_flag=True, help="Print only the verdict line.")
@click.option(
    "--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), default=Path("gradharness-batch"),
    show_default=True, help="Batch: folder for the per-file reports and summary.json/.csv/.html.",
)  # fmt: skip
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Batch: files checked at once (default: the CPUs available).",
)
@click.option(
    "--dask", "dask_address", default=None, metavar="ADDRESS", help="Batch: run the checks on this Dask scheduler."
)
@click.option(
    "--isolation", "isolation_level", type=click.Choice(ISOLATION_LEVELS), default=None,
    help="How the checked code is jailed (default: the strongest available; none is for trusted code only).",
)  # fmt: skip
@click.option(
    "--memory", "memory_mb", type=click.IntRange(min=1), default=DEFAULT_MEMORY_MB, show_default=True, metavar="MB",
    help="Address-space limit of the process that runs the checked code.",
)  # fmt: skip
@click.option(
    "--helpers", "helpers", type=click.Path(path_type=Path, exists=True, file_okay=False), default=None,
    metavar="DIR", help="A folder of trusted helper modules every checked file may import.",
)  # fmt: skip
@click.option(
    "--no-reference", is_flag=True,
    help="Do not compare the forward pass's cost with the network's (code that changes the network on purpose).",
)  # fmt: skip
@click.option(
    "--rubric", type=click.Path(path_type=Path, dir_okay=False), default=None, callback=read_rubric, metavar="FILE",
    help="Points per property (TOML) for the scores; default: gradient_agrees 6, student_checker 2, derivative_1d 2.",
)  # fmt: skip
@click.option(
    "--gradescope", "gradescope_path", type=click.Path(path_type=Path, dir_okay=False), default=None, metavar="PATH",
    help="Write Gradescope's autograder results.json here (one file; a test per property, scored by the rubric).",
)  # fmt: skip
@click.option(
    "--junit", "junit_path", type=click.Path(path_type=Path, dir_okay=False), default=None, metavar="FILE",
    help="Write JUnit XML here for CI (a testsuite per file, a testcase per property).",
)  # fmt: skip
@html_option
def check(paths: tuple[str, ...], seed: int | None, max_examples: int, epsilon: float | None, threshold: float,
          exercise_settings: bool, timeout: float, json_path: Path | None, forward: str, backward: str,
          forward_1d: str, backward_1d: str, layer_sizes: tuple[int | None, ...] | None, output_size: int | None,
          batch_size: int | None, max_units: int, max_batch: int, adversarial: bool,
          target: str | None, signatures: tuple[tuple[str, str], ...], layers: tuple[int, int] | None, quiet: bool,
          out_dir: Path, jobs: int | None, dask_address: str | None, isolation_level: str | None, memory_mb: int,
          helpers: Path | None, no_reference: bool, rubric: Rubric, gradescope_path: Path | None,
          junit_path: Path | None, html_path: str | None) -> None:  # fmt: skip
    """Check the backprop in PATH (a .py file or a notebook) on generated networks.

    Several paths, a folder or a glob check every file in them (a batch): one report per
    file and a summary table under --out.
    """
    if exercise_settings:
        epsilon, threshold = SEED_EPSILON, DEFAULT_THRESHOLD
    sizes = layer_sizes or (None, None, None, None)
    if output_size is not None:
        if sizes[3] is not None and sizes[3] != output_size:
            raise click.UsageError(f"--output-size {output_size} contradicts --layer-sizes n3={sizes[3]}")
        sizes = (*sizes[:3], output_size)
    strategy = StrategyOptions(
        n0=sizes[0], n1=sizes[1], n2=sizes[2], n3=sizes[3], max_units=max_units,
        min_batch=1, max_batch=max_batch, batch_size=batch_size, adversarial=adversarial,
        **({"min_layers": layers[0], "max_layers": layers[1]} if layers is not None else {}),
    )  # fmt: skip
    try:
        case_strategy(strategy)
    except InvalidArgument as exc:
        raise click.UsageError(str(exc)) from None
    run = RunSettings(
        seed=seed if seed is not None else random.SystemRandom().randrange(2**32),
        max_examples=max_examples,
        check=CheckOptions(epsilon=epsilon, threshold=threshold, reference=not no_reference),
        strategy=strategy,
        target=target,
    )
    names = FunctionNames(forward, backward, forward_1d, backward_1d, signatures=signatures)
    isolation = IsolationSettings(
        level=isolation_level, memory_mb=memory_mb, helpers=str(helpers.resolve()) if helpers is not None else None
    )
    err = Console(stderr=True, soft_wrap=True)
    if is_batch(paths):
        if json_path is not None or html_path is not None:
            raise click.UsageError("a batch writes JSON, CSV and HTML under --out; --json and --html are for one file")
        if gradescope_path is not None:
            raise click.UsageError("--gradescope writes one file's results.json; a batch's scores are in --out")
        out = Console(highlight=False, soft_wrap=True)
        sys.exit(batch_check(list(paths), run, names=names, timeout=timeout, out=out_dir, jobs=jobs,
                             dask=dask_address, isolation=isolation, quiet=quiet, console=out, err=err,
                             rubric=rubric, junit=junit_path))  # fmt: skip
    path = Path(paths[0])
    with progress_bar(err, "checking", quiet=quiet) as update:
        progress = from_lines(update) if update is not None else None
        record = explain(check_file(path, run, names=names, timeout=timeout, progress=progress, isolation=isolation))
    out = Console(highlight=False, soft_wrap=True)
    if record.verdict is RunVerdict.ERROR:
        err.print(f"gradharness: error: {shown(record.error or '', MESSAGE_BYTES)}", highlight=False, markup=False)
    elif quiet:
        out.print(f"{record.verdict.value.upper()} {shown(str(path))}", markup=False)
    else:
        render_record(out, record)
        out.print(score_line(record, rubric), markup=False)
    for note in record.target.get("notes", []) if not quiet else []:
        err.print(f"gradharness: note: {shown(str(note), MESSAGE_BYTES)}", highlight=False, markup=False)
    write_results(record, json_path)
    write_html(record, html_path, rubric=rubric)
    write_gradescope(record, rubric, gradescope_path)
    write_junit([record], rubric, junit_path)
    sys.exit(record.exit_code)


@main.command()
@click.option("--seed", type=int, default=0, show_default=True, help="Hypothesis seed.")
@click.option(
    "--max-examples", type=click.IntRange(min=1), default=100, show_default=True, help="Generated cases per property."
)
@html_option
def demo(seed: int, max_examples: int, html_path: str | None) -> None:
    """Self-test: the built-in correct network passes, the exercise's buggy backprop fails."""
    from gradharness.cli.demo import run_demo

    records: dict = {}
    code = run_demo(Console(highlight=False, soft_wrap=True), seed=seed, max_examples=max_examples, records=records)
    write_html(records["buggy"], html_path)  # the report worth showing: the exercise's bugs, found
    sys.exit(code)


main.add_command(report)


def run() -> None:
    """Console-script entry point: the project's errors become one line and exit code 2.

    Ctrl-C, SIGTERM and SIGHUP kill every process the command started and end it with one line,
    exit 130 (143 for SIGTERM).
    """
    code = 0
    with stop_on_signals() as signals:
        try:
            try:
                main(standalone_mode=True)
            except _Stopped as stopped:
                raise stopped.interrupt from None
        except GradHarnessError as exc:
            click.echo(f"gradharness: error: {shown(str(exc), MESSAGE_BYTES)}", err=True)
            code = 2
        except KeyboardInterrupt as exc:
            signals.ignore()
            word, code = exit_status(exc)
            click.echo(f"gradharness: {word}", err=True)
    sys.exit(code)


main.add_command(mutate)
main.add_command(sensitivity)
