"""One drawn call of a CS231n-style layer: its forward's arrays, its hyper-parameters and the upstream ``dout``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np


@dataclass(frozen=True)
class LayerCase:
    """A layer (``affine``, ``conv``, ``softmax_loss``, ...) on drawn arrays.

    ``arrays``: the forward's array arguments by name in the forward's order (``x``, ``w``, ``b``; a loss's ``x``
    and its integer labels ``y``), then ``dout`` (the upstream gradient, of the forward's output's shape; none for
    a loss). ``params``: the forward's other arguments by name (``conv_param``, ``bn_param``, ``G``, ...), plain
    data: the judge gives a fresh copy to every call.
    """

    layer: str
    arrays: Mapping[str, np.ndarray]
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "arrays", MappingProxyType(dict(self.arrays)))
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))

    def describe(self) -> str:
        """Short description such as ``conv: x 2x3x5x5, w 4x3x3x3, b 4, stride 2, pad 0``."""
        shapes = ", ".join(
            f"{name} {'x'.join(map(str, np.shape(value))) or 'scalar'}"
            for name, value in self.arrays.items()
            if name != "dout"
        )
        settings = [f"{key} {value}" for key, value in _settings(self.params).items()]
        return f"{self.layer}: {', '.join([shapes, *settings])}"

    def param(self, name: str) -> Any:
        """A fresh copy of one hyper-parameter argument (dicts are written into by CS231n's forwards)."""
        value = self.params[name]
        return dict(value) if isinstance(value, dict) else value

    def to_json(self) -> dict:
        """Plain-data form (lists) for results files."""
        return {
            "layer": self.layer,
            "arrays": {name: np.asarray(value).tolist() for name, value in self.arrays.items()},
            "dtypes": {name: str(np.asarray(value).dtype) for name, value in self.arrays.items()},
            "params": {
                name: dict(value) if isinstance(value, Mapping) else value for name, value in self.params.items()
            },
        }

    @classmethod
    def from_json(cls, data: dict) -> LayerCase:
        """Inverse of :meth:`to_json`."""
        dtypes = data.get("dtypes") or {}
        arrays = {name: np.asarray(value, dtype=dtypes.get(name, "float64")) for name, value in data["arrays"].items()}
        return cls(str(data["layer"]), arrays, dict(data.get("params") or {}))


def _settings(params: Mapping[str, Any]) -> dict[str, Any]:
    """The hyper-parameters worth printing, flattened (``stride 2, pad 0, mode train``)."""
    out: dict[str, Any] = {}
    for name, value in params.items():
        if isinstance(value, Mapping):
            out.update({key: item for key, item in value.items() if not isinstance(item, np.ndarray)})
        else:
            out[name] = value
    return out
