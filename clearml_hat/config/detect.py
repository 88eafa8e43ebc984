"""Which config system a training script uses, read from its source without running it.

    hydra_main(source)      -> HydraMain(config_path="conf", config_name="config", ...) for `@hydra.main(...)`
    other_system(source)    -> "click" when the script imports a config system the hat does not support, else None

Reading the source (not running it) matters: a script without argparse may train at module level, and a Hydra
script's config is composed by the hat itself (config/hydra_system.py).
"""
from __future__ import annotations

import ast
from typing import Dict, List, NamedTuple, Optional

from clearml_hat.errors import HatError

SUPPORTED = ("argparse (HfArgumentParser included), Hydra (@hydra.main with a config_path), tyro (tyro.cli), "
             "click, typer, jsonargparse, python-fire (fire.Fire over a function) and absl flags (app.run)")

# The top-level module each unsupported system is imported from, and its name for the message.
_OTHERS = {"draccus": "draccus"}

class HydraMain(NamedTuple):
    """The arguments of a script's `@hydra.main(config_path=..., config_name=..., version_base=...)`."""

    config_path: str
    config_name: str
    version_base: Optional[str]
    gives_version_base: bool  # False: the script leaves version_base out, and Hydra's own default applies


def hydra_main(source: str, shown: str) -> Optional[HydraMain]:
    """The script's `@hydra.main` arguments, or None when no function carries that decorator; HatError when the
    arguments are not literals the hat can read, or name no config folder."""
    tree = ast.parse(source)
    names = _hydra_main_names(tree)
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for decorator in node.decorator_list:
            if isinstance(decorator, ast.Call) and _dotted(decorator.func) in names:
                return _read_arguments(decorator, shown)
    return None


def other_system(source: str) -> Optional[str]:
    """The unsupported config system the script imports first (`import click`, `from absl import flags`), or None."""
    for node in ast.walk(ast.parse(source)):
        modules: List[str] = []
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            modules = [node.module]
        for module in modules:
            top = module.partition(".")[0]
            if top in _OTHERS:
                return _OTHERS[top]
    return None


def _hydra_main_names(tree: ast.Module) -> set:
    """The dotted names hydra.main goes by in the script: `hydra.main`, or `main` after `from hydra import main`."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {f"{alias.asname or alias.name}.main" for alias in node.names if alias.name == "hydra"}
        elif isinstance(node, ast.ImportFrom) and node.module == "hydra":
            names |= {alias.asname or alias.name for alias in node.names if alias.name == "main"}
    return names


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return node.id if isinstance(node, ast.Name) else ""


def _read_arguments(call: ast.Call, shown: str) -> HydraMain:
    given: Dict[str, ast.AST] = dict(zip(("config_path", "config_name", "version_base"), call.args))
    given.update({keyword.arg: keyword.value for keyword in call.keywords if keyword.arg})
    values: Dict[str, object] = {}
    for argument, node in given.items():
        try:
            values[argument] = ast.literal_eval(node)
        except ValueError:
            raise HatError(f"{shown}:{getattr(node, 'lineno', 0)}: @hydra.main's {argument} is computed, so the "
                           f"hat cannot find the config without running the script; write {argument} as a plain "
                           "string") from None
    path, name = values.get("config_path"), values.get("config_name")
    if not isinstance(path, str) or not isinstance(name, str) or path.startswith("pkg://"):
        raise HatError(f"{shown}: @hydra.main names no config folder and config name (a config registered in "
                       "Hydra's ConfigStore is not supported); give it config_path='conf' and config_name='config' "
                       "with the config in conf/config.yaml")
    version = values.get("version_base")
    return HydraMain(path, name, None if version is None else str(version), "version_base" in values)
