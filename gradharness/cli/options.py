"""Option callbacks shared by the commands: numbers, layer sizes and the rubric, validated as click reads them."""

from __future__ import annotations

import math
from pathlib import Path

import click

from gradharness.batch.rubric import DEFAULT_RUBRIC, Rubric, load_rubric
from gradharness.model.signature import parse_option


def positive_finite(_ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    """A positive, finite number (or no value)."""
    if value is not None and not (math.isfinite(value) and value > 0):
        raise click.BadParameter(f"{value!r} is not a positive finite number", param=param)
    return value


def parse_layer_sizes(_ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[int | None, ...] | None:
    """'4,5,3,1' or '*,*,*,1' -> (n0, n1, n2, n3), None where drawn."""
    if value is None:
        return None
    parts = [p.strip() for p in value.replace("-", ",").split(",")]
    if len(parts) != 4:
        raise click.BadParameter(f"{value!r}: give four sizes n0,n1,n2,n3 (a number or * for each)", param=param)
    sizes: list[int | None] = []
    for part in parts:
        if part in ("*", ""):
            sizes.append(None)
        elif part.isdigit() and int(part) >= 1:
            sizes.append(int(part))
        else:
            raise click.BadParameter(f"{part!r} in {value!r} is not a size >= 1 or *", param=param)
    return tuple(sizes)


def read_rubric(_ctx: click.Context, _param: click.Parameter, value: Path | None) -> Rubric:
    """``--rubric FILE``: the rubric it holds (the default rubric without the option).

    A file that is not a rubric raises GradHarnessError, which the command line prints in one line
    with exit status 2, before anything is checked.
    """
    return DEFAULT_RUBRIC if value is None else load_rubric(value)


def parse_layers(_ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[int, int] | None:
    """``--layers 2:5`` (the deep target's depth L, from MIN to MAX weight layers) or ``--layers 3`` (exactly 3)."""
    if value is None:
        return None
    low, _, high = value.partition(":")
    try:
        bounds = (int(low), int(high or low))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not MIN:MAX (whole numbers), e.g. 2:5", param=param) from None
    if not 1 <= bounds[0] <= bounds[1]:
        raise click.BadParameter(f"{value!r}: need 1 <= MIN <= MAX", param=param)
    return bounds


def parse_signature_options(
    _ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> tuple[tuple[str, str], ...]:
    """``--signature NAME=SIG`` (repeatable): (name, canonical signature) pairs, a name given once."""
    pairs: dict[str, str] = {}
    for value in values:
        try:
            name, signature = parse_option(value)
        except ValueError as error:
            raise click.BadParameter(str(error), param=param) from None
        if name in pairs:
            raise click.BadParameter(f"layer {name!r} is given twice", param=param)
        pairs[name] = str(signature)
    return tuple(pairs.items())
