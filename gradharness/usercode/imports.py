"""Module-level imports of a user's file: the names each binds, and how to provide a module that is missing.

A failed import is skipped while the checked functions never use what it binds; these
helpers say which names those are and what the user can do when one is used.
"""

from __future__ import annotations

import ast

# Import names whose PyPI distribution is called something else, so the remedy names what pip knows.
_DISTRIBUTIONS = {
    "sklearn": "scikit-learn",
    "skimage": "scikit-image",
    "cv2": "opencv-python",
    "PIL": "Pillow",
    "yaml": "PyYAML",
    "IPython": "ipython",
}
# Well-known packages a student's file imports: installing them is the remedy, not a file beside it.
_PACKAGES = frozenset(
    {
        "matplotlib", "scipy", "pandas", "seaborn", "plotly", "bokeh", "h5py", "tensorflow", "keras", "torch",
        "sympy", "tqdm", "ipywidgets", "pylab", "numba", "jax", "statsmodels", "imageio", "sklearn", "skimage",
        "cv2", "PIL", "yaml", "IPython",
    }
)  # fmt: skip


def is_import(node: ast.stmt) -> bool:
    """Whether a module-level statement is an ``import`` or ``from ... import``."""
    return isinstance(node, (ast.Import, ast.ImportFrom))


def bound_names(node: ast.stmt) -> tuple[tuple[str, ...], bool]:
    """The names an import statement binds, and whether it is a star import (which binds unknown names).

    ``import sklearn.linear_model`` binds ``sklearn``; ``from x import a as b, *`` binds ``b`` and unknown names.
    """
    names: list[str] = []
    star = False
    if isinstance(node, ast.Import):
        names = [alias.asname or alias.name.split(".")[0] for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
        for alias in node.names:
            if alias.name == "*":
                star = True
            else:
                names.append(alias.asname or alias.name)
    return tuple(names), star


def imported_modules(node: ast.stmt) -> list[str]:
    """The absolute modules an import statement imports (none for a relative import)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        return [node.module]
    return []


def statement_text(node: ast.stmt, limit: int = 80) -> str:
    """The import statement as the user would recognise it, cut to ``limit`` characters."""
    text = ast.unparse(node)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def remedy(module: str) -> str:
    """How to provide a module that is not installed: pip for a known package, else a file beside the user's."""
    top = module.split(".")[0]
    if top in _PACKAGES:
        return f"install {top} (pip install {_DISTRIBUTIONS.get(top, top)})"
    # Course helpers (testCases, init_utils, ...) are files, not packages: never suggest a guessed pip name.
    return f"put {top}.py beside the file, or install the package that provides {top}"
