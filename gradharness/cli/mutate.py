"""``gradharness mutate`` and ``gradharness sensitivity``: parse, call the mutation library, print, exit.

Exit codes of mutate: 0 every mutant not believed equivalent was detected; 1 survivors,
or a checker under test that fails the harness proof; 2 nothing could be measured (bad
input, a hang or crash of the unmutated code, a harness that cannot be proved).
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click
from click.core import ParameterSource
from hypothesis.errors import InvalidArgument
from rich.console import Console

from gradharness.cli.options import parse_layer_sizes, positive_finite
from gradharness.cli.output import write_results, writing
from gradharness.cli.progress import progress_bar
from gradharness.cli.report import DEFAULT, html_option, write_html
from gradharness.errors import GradHarnessError
from gradharness.isolation.processes import default_jobs
from gradharness.judge.reproduce import Option, command_line
from gradharness.mutation.campaign import run_campaign
from gradharness.mutation.engine_mutmut import mutmut_campaign
from gradharness.mutation.export import save_mutation_testing_elements
from gradharness.mutation.operators import OPERATORS
from gradharness.mutation.operators_deep import DEEP_OPERATORS
from gradharness.mutation.operators_layers import LAYERS_OPERATORS
from gradharness.mutation.operators_regularised import REGULARISED_OPERATORS
from gradharness.mutation.reference_campaign import DEFAULT_EXAMPLES, run_references_campaign
from gradharness.mutation.reference_mutmut import reference_mutmut_campaign
from gradharness.mutation.references import (
    REFERENCES,
    Reference,
    ReferenceSet,
    reference_of,
    references_of,
    select_operators_of,
)
from gradharness.mutation.sensitivity import run_sensitivity
from gradharness.mutation.target import (
    REFERENCE_LABEL,
    CheckerSpec,
    Target,
    checker_spec,
    file_target,
    reference_target,
)
from gradharness.properties.runner import case_strategy
from gradharness.records.environment import environment
from gradharness.records.mutation import MutateRecord, SensitivityRecord
from gradharness.records.verdict import RunVerdict
from gradharness.render.terminal_mutation import render_mutate, render_sensitivity
from gradharness.settings import DEFAULT_THRESHOLD, CampaignSettings, CheckOptions, StrategyOptions

EXERCISE_SIZES = (4, 5, 3, 1)
"""A user's checker usually hard-codes the exercise's network (its vector_to_dictionary does)."""


def _operators(_ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    names = tuple(n.strip() for n in value.split(",") if n.strip())
    # Names of another target's table pass here; the command checks them against its target's (--target).
    tables = (OPERATORS, DEEP_OPERATORS, REGULARISED_OPERATORS, LAYERS_OPERATORS)
    unknown = [n for n in names if not any(n in table for table in tables)]
    if unknown:
        raise click.BadParameter(
            f"unknown {', '.join(unknown)}; valid operators are {', '.join(OPERATORS)}", param=param
        )
    return names


def _common(function):
    """Options shared by mutate and sensitivity."""
    options = [
        click.argument("path", required=False, type=click.Path(path_type=Path)),
        click.option("--checker", "checker_path", type=click.Path(path_type=Path), default=None,
                     help="A file whose gradient_check_n is the checker under test (default: the built-in checker)."),
        click.option("--checker-function", default="gradient_check_n", show_default=True,
                     help="Name of the checker under test in --checker."),
        click.option("--seed", type=int, default=0, show_default=True, help="Hypothesis seed of the drawn cases."),
        click.option("--max-examples", type=click.IntRange(min=1), default=100, show_default=True,
                     help="Generated cases every mutant runs on."),
        click.option("--epsilon", type=float, default=None, callback=positive_finite,
                     help="Fixed centred-difference step (default: the checker's; 1e-6 for a user's checker)."),
        click.option("--threshold", type=float, default=DEFAULT_THRESHOLD, show_default=True, callback=positive_finite,
                     help="Relative difference above which gradients are called wrong."),
        click.option("--jobs", type=click.IntRange(min=1), default=None,
                     help="Worker processes (default: the machine's cores)."),
        click.option("--timeout", type=float, default=30.0, show_default=True, callback=positive_finite,
                     help="Seconds per mutant (all its cases) before it counts as timed out."),
        click.option("--operators", callback=_operators, default=None,
                     help="Comma-separated operators to apply (default: all)."),
        click.option("--forward", default="forward_propagation_n", show_default=True, help="Forward function in PATH."),
        click.option("--backward", default="backward_propagation_n", show_default=True,
                     help="Backward function in PATH (the one mutated)."),
        click.option("--layer-sizes", callback=parse_layer_sizes, default=None,
                     help="Fix sizes, e.g. '4,5,3,1' (default: drawn; 4,5,3,1 with --checker)."),
        click.option("--max-units", type=click.IntRange(min=1), default=6, show_default=True, help="Largest drawn layer."),
        click.option("--max-batch", type=click.IntRange(min=1), default=8, show_default=True, help="Largest drawn m."),
        click.option("--json", "json_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
                     help="Write the result as JSON here."),
        click.option("-q", "--quiet", is_flag=True, help="Print only the verdict line."),
    ]  # fmt: skip
    for option in reversed(options):
        function = option(function)
    return function


def _settings(params: dict, shrink: bool = False) -> CampaignSettings:
    sizes = params["layer_sizes"]
    if sizes is None:
        sizes = EXERCISE_SIZES if params["checker_path"] is not None else (None, None, None, None)
    strategy = StrategyOptions(
        n0=sizes[0], n1=sizes[1], n2=sizes[2], n3=sizes[3],
        max_units=params["max_units"], max_batch=params["max_batch"],
    )  # fmt: skip
    try:
        case_strategy(strategy)
    except InvalidArgument as exc:
        raise click.UsageError(str(exc)) from None
    return CampaignSettings(
        seed=params["seed"],
        max_examples=params["max_examples"],
        check=CheckOptions(epsilon=params["epsilon"], threshold=params["threshold"]),
        strategy=strategy,
        jobs=params["jobs"] or default_jobs(),
        timeout=params["timeout"],
        shrink=shrink,
        operators=params["operators"],
    )


def _reproduce(command: str) -> str:
    """The command line that repeats this run: every option not at its default.

    ``--html`` given without a FILE is repeated bare and last (nothing after it can be taken for
    its FILE), and with one as the single word ``--html=FILE``.
    """
    context = click.get_current_context()
    arguments: list[object] = []
    options: list[Option] = []
    html: str | None = None
    for parameter in context.command.params:
        value = context.params.get(parameter.name or "")
        if isinstance(parameter, click.Argument):
            arguments += [value] if value is not None else []
        elif parameter.name == "html_path":
            html = value
        elif isinstance(parameter, click.Option):
            options.append((max(parameter.opts, key=len), value, parameter.get_default(context)))
    line = command_line(command, arguments, options)
    if html is not None:
        line += " --html" if html == DEFAULT else f" {shlex.quote(f'--html={html}')}"
    return line


def _fail(
    err: Console, message: str, record: MutateRecord | SensitivityRecord | None = None, params: dict | None = None
) -> None:
    """One line on stderr and exit 2; a results file or report asked for still says what happened."""
    err.print(f"gradharness: error: {message}", markup=False, highlight=False)
    if record is not None and params is not None:
        try:
            write_results(record, params.get("json_path"))
            write_html(record, params.get("html_path"))
        except GradHarnessError as exc:
            err.print(f"gradharness: error: no report written: {exc}", markup=False, highlight=False)
    sys.exit(2)


def _error_record(kind: str, params: dict, message: str, engine: str = "domain") -> MutateRecord | SensitivityRecord:
    """The record of a campaign that could not run: its target, the error, how to repeat it."""
    # Described as a campaign that ran describes them; the files are not read (they may be the error).
    path, checker_path = params.get("path"), params.get("checker_path")
    backward = params.get("backward", "backward_propagation_n")
    resolved = str(Path(path).resolve()) if path is not None else None
    target = Target(str(path) if path is not None else REFERENCE_LABEL, resolved, "", backward).describe()
    if isinstance(params.get("reference"), (Reference, ReferenceSet)):
        target = params["reference"].describe()
    checker_file = str(Path(checker_path).resolve()) if checker_path is not None else None
    checker = CheckerSpec(checker_file, params.get("checker_function", "gradient_check_n")).describe()
    settings = {k: v for k, v in params.items() if isinstance(v, (int, float, str, bool, type(None)))}
    reproduce, versions = _reproduce(kind), environment()
    if kind == "mutate":
        return MutateRecord(target=target, checker=checker, engine=engine, settings=settings,
                            verdict=RunVerdict.ERROR, error=message, reproduce=reproduce, environment=versions)  # fmt: skip
    return SensitivityRecord(target=target, checker=checker, settings=settings, verdict=RunVerdict.ERROR,
                             error=message, reproduce=reproduce, environment=versions)  # fmt: skip


def _targets(params: dict):
    path = params["path"]
    target = (
        reference_target()
        if path is None
        else file_target(path, backward=params["backward"], forward=params["forward"])
    )
    return target, checker_spec(params["checker_path"], params["checker_function"])


_EXERCISE_ONLY = {"path": "PATH", "checker_path": "--checker", "layer_sizes": "--layer-sizes",
                  "forward": "--forward", "backward": "--backward"}  # fmt: skip
"""Options that name the exercise's network or a file of it: refused with --target NAME."""


def _chosen_references(target_name: str | None, reference_name: str | None) -> tuple[Reference, ...]:
    """The references ``--target`` and ``--reference`` name: the one ``--reference`` names, else every one of the
    target's (none: the exercise's campaign)."""
    if reference_name is None and target_name in (None, "exercise"):
        return ()
    if target_name == "exercise":
        raise GradHarnessError(f"--reference {reference_name} is not the exercise's: drop it or give its --target")
    if reference_name is None:
        assert target_name is not None
        return tuple(references_of(target_name)) or (reference_of(target_name),)
    return (reference_of(target_name or REFERENCES[reference_name].target, reference_name),)


def _described(references: tuple[Reference, ...]) -> Reference | ReferenceSet | None:
    """What the record names as mutated: the one reference, or all of them."""
    if not references:
        return None
    return references[0] if len(references) == 1 else ReferenceSet(references)


def _given(name: str) -> bool:
    """Whether the option was given (on the command line or in the environment), not left at its default."""
    return click.get_current_context().get_parameter_source(name) not in (None, ParameterSource.DEFAULT)


def _reference_settings(
    references: tuple[Reference, ...], params: dict, shrink: bool, engine: str, mte_path: Path | None
) -> CampaignSettings:
    """The settings of a campaign on the references ``--target`` names; the exercise's own options are refused,
    and so are those that need a single reference when there are several."""
    first = references[0]
    refused = [flag for name, flag in _EXERCISE_ONLY.items() if _given(name)]
    if refused:
        mutated = first.label if len(references) == 1 else "references"
        raise GradHarnessError(f"--target {first.target} mutates its built-in {mutated}: drop {', '.join(refused)}")
    # mutmut's scratch copy and the mutation-testing-elements file are made for one module.
    one_module = [flag for flag, given in ((f"--engine {engine}", engine != "domain"), ("--mte", mte_path is not None))
                  if given]  # fmt: skip
    if len(references) > 1 and one_module:
        names = ", ".join(r.name for r in references)
        raise GradHarnessError(
            f"{' and '.join(one_module)} run on one reference of --target {first.target} at a time: "
            f"give --reference ({names})"
        )
    for reference in references:
        select_operators_of(reference, params["operators"])  # an unknown name: one line listing the target's
    return CampaignSettings(
        seed=params["seed"],
        max_examples=params["max_examples"] if _given("max_examples") else DEFAULT_EXAMPLES,
        check=CheckOptions(epsilon=params["epsilon"], threshold=params["threshold"]),
        strategy=StrategyOptions(max_units=params["max_units"], max_batch=params["max_batch"]),
        jobs=params["jobs"] or default_jobs(),
        timeout=params["timeout"],
        shrink=shrink,
        operators=params["operators"],
    )


@click.command()
@_common
@click.option(
    "--target",
    "target_name",
    type=click.Choice(["exercise", *dict.fromkeys(r.target for r in REFERENCES.values())]),
    default=None,
    help="Mutate this target's built-in reference (deep: the course's L-layer backward functions; regularisation: "
    f"its L2 and dropout backward passes; layers: CS231n's three layer modules, in one record; {DEFAULT_EXAMPLES} cases per part unless --max-examples); default: the "
    "exercise's network.",
)
@click.option(
    "--reference",
    "reference_name",
    type=click.Choice(list(REFERENCES)),
    default=None,
    help="Which of the target's references (layers has layers, layers_norm and layers_conv); default: all of "
    "them, in one campaign and one record.",
)
@click.option("--engine", type=click.Choice(["domain", "mutmut", "both"]), default="domain", show_default=True,
              help="gradharness's backprop operators, mutmut's generic ones, or both side by side.")  # fmt: skip
@click.option("--shrink", is_flag=True, help="Let Hypothesis shrink each killed mutant's counterexample (slower).")
@click.option("--mte", "mte_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Also write a mutation-testing-elements report (Stryker's JSON schema) here.")  # fmt: skip
@click.option("--mutmut-timeout", type=float, default=600.0, show_default=True, callback=positive_finite,
              help="Seconds the whole mutmut run may take.")  # fmt: skip
@click.option("--all", "show_all", is_flag=True, help="Print every mutant's diff, not only the survivors'.")
@html_option
def mutate(
    target_name: str | None,
    reference_name: str | None,
    engine: str,
    shrink: bool,
    mte_path: Path | None,
    mutmut_timeout: float,
    show_all: bool,
    **params,
) -> None:
    """Run deliberately broken variants of the backward pass in PATH (default: the built-in reference) against the checker."""
    err = Console(stderr=True, soft_wrap=True)
    try:
        references = _chosen_references(target_name, reference_name)
    except GradHarnessError as exc:
        _fail(err, str(exc), _error_record("mutate", params, str(exc), engine), params)
        return
    settings = _settings(params, shrink) if not references else None
    try:
        if references:
            settings = _reference_settings(references, params, shrink, engine, mte_path)
            with progress_bar(err, "mutants", quiet=params["quiet"]) as update:
                if engine == "domain":
                    record = run_references_campaign(
                        references, settings, progress=update, reproduce=_reproduce("mutate")
                    )
                else:
                    record = reference_mutmut_campaign(references[0], settings, with_domain=engine == "both",
                                                       progress=update, mutmut_timeout=mutmut_timeout,
                                                       reproduce=_reproduce("mutate"))  # fmt: skip
            source = references[0].source()  # --mte's file: there is one reference whenever --mte is given
        else:
            record, source = _exercise_campaign(err, settings, params, engine, mutmut_timeout)
    except GradHarnessError as exc:
        described = {**params, "reference": _described(references)}
        _fail(err, str(exc), _error_record("mutate", described, str(exc), engine), params)
        return
    out = Console(highlight=False, soft_wrap=True)
    if params["quiet"]:
        score = record.score.score if record.score is not None and record.score.score is not None else float("nan")
        out.print(
            f"{record.verdict.value.upper()} mutation score {100 * score:.1f}% ({len(record.mutants)} mutants)",
            markup=False,
        )
    else:
        render_mutate(out, record, show_all=show_all)
    write_results(record, params["json_path"])
    if mte_path is not None:
        with writing(mte_path):
            save_mutation_testing_elements(record, source, mte_path)
    write_html(record, params["html_path"])
    sys.exit(record.exit_code)


def _exercise_campaign(
    err: Console, settings: CampaignSettings | None, params: dict, engine: str, mutmut_timeout: float
) -> tuple[MutateRecord, str]:
    """The exercise's campaign (the built-in network or a file's backward) and the mutated file's text."""
    assert settings is not None
    target, checker = _targets(params)
    reproduce = _reproduce("mutate")
    if engine != "domain" and not checker.builtin:
        raise GradHarnessError("--engine mutmut runs with the built-in checker; drop --checker")
    with progress_bar(err, "mutants", quiet=params["quiet"]) as update:
        if engine == "domain":
            record = run_campaign(target, checker, settings, progress=update, reproduce=reproduce)
        else:
            record = mutmut_campaign(target, settings, with_domain=engine == "both", progress=update,
                                     mutmut_timeout=mutmut_timeout, reproduce=reproduce)  # fmt: skip
    return record, target.source


@click.command()
@_common
@html_option
def sensitivity(**params) -> None:
    """Measure the checker: the smallest detectable error per gradient block, and a threshold sweep."""
    err = Console(stderr=True, soft_wrap=True)
    settings = _settings(params)
    try:
        target, checker = _targets(params)
        with progress_bar(err, "sensitivity", quiet=params["quiet"]) as update:
            record = run_sensitivity(target, checker, settings, reproduce=_reproduce("sensitivity"), progress=update)
    except GradHarnessError as exc:
        _fail(err, str(exc), _error_record("sensitivity", params, str(exc)), params)
        return
    out = Console(highlight=False, soft_wrap=True)
    if params["quiet"]:
        parts = ", ".join(
            f"{b.block} {b.smallest_always:g}" if b.smallest_always else f"{b.block} -" for b in record.blocks
        )
        out.print(f"smallest delta caught on every case: {parts}", markup=False)
    else:
        render_sensitivity(out, record)
    write_results(record, params["json_path"])
    write_html(record, params["html_path"])
    sys.exit(record.exit_code)
