"""Option callbacks shared by the commands: numbers and layer sizes, validated as click reads them."""

from __future__ import annotations

import math

import click


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
