"""The built-in model library: the TOML files of ``models/`` (``mechopt list``).

In a source checkout the files live in the top-level ``models/`` folder; a wheel
ships them inside the package as ``mechopt/models/*.toml`` (copied by the build
step in ``setup.py``).  :func:`models_dir` finds whichever exists.
"""

from __future__ import annotations

import os
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from ..errors import ModelFileError
from .schema import _suggest

__all__ = ["models_dir", "builtin_models", "model_path"]


def models_dir() -> Traversable | Path:
    """The folder of built-in model files (inside the installed package, else the checkout's ``models/``)."""
    packaged = resources.files("mechopt").joinpath("models")
    if packaged.is_dir() and any(p.name.endswith(".toml") for p in packaged.iterdir()):
        return packaged  # an installed wheel (a stale empty folder in a checkout does not count)
    return Path(__file__).resolve().parents[2] / "models"


def builtin_models() -> list[str]:
    """Names of the model files shipped with mechopt (``mechopt list``), sorted."""
    d = models_dir()
    try:
        return sorted(p.name[:-5] for p in d.iterdir() if p.name.endswith(".toml"))
    except (FileNotFoundError, NotADirectoryError):  # pragma: no cover - a broken installation
        return []


def model_path(path_or_name: str | Path) -> Path:
    """The file a model argument refers to: an existing path, else a built-in model name.

    Raises
    ------
    ModelFileError
        No such file or model (with the closest built-in name), a directory, or
        a name the operating system rejects (too long, NUL byte).
    """
    if not isinstance(path_or_name, (str, os.PathLike)):
        raise ModelFileError(f"a model is a path or a built-in name (a string), got {type(path_or_name).__name__} "
                             f"{path_or_name!r:.40}; e.g. mo.load(\"bilateral_trade\")")
    name = str(path_or_name)
    if "\0" in name:
        raise ModelFileError(f"{name!r}: a file name cannot contain a NUL byte; give a path to a .toml file")
    p = Path(path_or_name)
    try:
        if p.is_file():
            return p
        exists = p.exists()
    except OSError as exc:  # e.g. a 300-character name: "File name too long"
        short = name if len(name) <= 60 else name[:57] + "..."
        raise ModelFileError(f"{short}: cannot be used as a file name ({exc.strerror}); give a shorter path") from None
    if exists:
        raise ModelFileError(f"{name}: is not a file; give the path of a .toml model file")
    looks_like_name = "/" not in name and "\\" not in name and not name.endswith(".toml")
    if looks_like_name and len(name) < 200:
        candidate = models_dir().joinpath(f"{name}.toml")
        if candidate.is_file():
            return Path(str(candidate))
    names = builtin_models()
    hint = _suggest(p.stem if not looks_like_name else name, names)
    short = name if len(name) <= 60 else name[:57] + "..."
    raise ModelFileError(
        f"{short}: no such model file or built-in model{hint}; "
        "give a path to a .toml file or a name from `mechopt list`"
    )
