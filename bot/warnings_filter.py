"""The third-party warnings we know and cannot fix, silenced so what is printed is ours.

Rasa 3.6 pins old libraries that warn about their own dependencies at import and at
start-up (pkg_resources, distutils' LooseVersion in sanic_cors, click 8.2 under typer,
pyparsing 3 under packaging and matplotlib, SQLAlchemy 2.0's migration notice). Each is
named here by the module the warning is attributed to, so a new warning, and any from
our own code, still shows. Used by `python -m bot` (in process, and through
PYTHONWARNINGS for the servers it starts) and by the tests' configuration.
"""

from __future__ import annotations

import os
import re
import warnings
from typing import Any, Dict, Tuple

# (category, module the warning is attributed to); subclasses of the category match too
KNOWN: Tuple[Tuple[str, str], ...] = (
    ("DeprecationWarning", "pkg_resources"),  # declare_namespace('mpl_toolkits'), ('ruamel')
    ("DeprecationWarning", "apscheduler"),  # imports pkg_resources
    ("DeprecationWarning", "rasa.shared.utils.validation"),  # imports pkg_resources
    ("DeprecationWarning", "sanic_cors.extension"),  # distutils LooseVersion
    ("DeprecationWarning", "typer"),  # click.utils.get_binary_stream / get_text_stream
    ("DeprecationWarning", "typer.completion"),  # click.BaseCommand
    ("DeprecationWarning", "spacy.cli._util"),  # click parser.split_arg_string
    ("DeprecationWarning", "spacy.cli.info"),  # imports pkg_resources
    ("DeprecationWarning", "importlib._bootstrap"),  # six's load_module(), under TensorFlow
    # pyparsing 3's camelCase names: PyparsingDeprecationWarning is also a UserWarning
    ("DeprecationWarning", "packaging.markers"),
    ("DeprecationWarning", "packaging.requirements"),
    ("DeprecationWarning", "matplotlib.fontconfig_pattern"),
    ("UserWarning", "packaging.markers"),
    ("UserWarning", "packaging.requirements"),
    ("UserWarning", "matplotlib.fontconfig_pattern"),
    ("DeprecationWarning", "tensorflow.lite.python.util"),  # jax.xla_computation
    ("DeprecationWarning", "rasa.core.tracker_store"),  # SQLAlchemy MovedIn20Warning
)
# SQLAlchemy 1.4 prints its 2.0 migration notice unless told not to
ENVIRONMENT: Dict[str, str] = {"SQLALCHEMY_SILENCE_UBER_WARNING": "1"}


def python_warnings(existing: str = "") -> str:
    """A PYTHONWARNINGS value with the known filters after any the environment sets."""
    given = [f for f in existing.split(",") if f]
    ours = [f"ignore::{category}:{module}" for category, module in KNOWN]
    return ",".join(given + [f for f in ours if f not in given])


def pytest_filters() -> Tuple[str, ...]:
    """The same filters as pytest `filterwarnings` lines (module is a regular expression)."""
    return tuple(f"ignore::{category}:{re.escape(module)}" for category, module in KNOWN)


def install() -> None:
    """Apply the filters in this process, keep them in front of the filters libraries add
    later, and set them for the processes it starts."""
    _apply()
    _keep_first()
    for name, value in ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    os.environ["PYTHONWARNINGS"] = python_warnings(os.environ.get("PYTHONWARNINGS", ""))


def _apply() -> None:
    for category, module in KNOWN:
        _original_filterwarnings(
            "ignore", category=_builtin(category), module=re.escape(module) + r"\Z"
        )


_original_filterwarnings = warnings.filterwarnings
_original_simplefilter = warnings.simplefilter


def _keep_first() -> None:
    """Sanic (at import: `once` for every DeprecationWarning) and Rasa (at start-up: `once`
    for every UserWarning, which pyparsing's deprecations also are) put filters in front
    of ours; after any filter is added, ours go back in front."""
    if getattr(warnings.filterwarnings, "_ours_first", False):
        return

    def filterwarnings(*args: Any, **kwargs: Any) -> None:
        _original_filterwarnings(*args, **kwargs)
        _apply()

    def simplefilter(*args: Any, **kwargs: Any) -> None:
        _original_simplefilter(*args, **kwargs)
        _apply()

    filterwarnings._ours_first = True  # type: ignore[attr-defined]
    warnings.filterwarnings = filterwarnings
    warnings.simplefilter = simplefilter


def _builtin(name: str) -> type:
    import builtins

    category = getattr(builtins, name)
    assert isinstance(category, type) and issubclass(category, Warning)
    return category
