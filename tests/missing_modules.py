"""Installed packages made to look missing, so the tests of a machine without torch run on one with it too.

    with hidden("torch"):                 # in this process
        capture("train.py")
    env = missing_env(env, "torch")       # for a subprocess: `python hat.py ...` sees no torch
"""
from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
from pathlib import Path
from typing import Dict, Iterator

SITE = Path(__file__).resolve().parent / "missing_site"
_spec = importlib.util.spec_from_file_location("_hat_missing_site", SITE / "sitecustomize.py")
_site = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_site)


@contextlib.contextmanager
def hidden(*names: str) -> Iterator[None]:
    """The packages cannot be imported in this process until the block ends (already imported ones included)."""
    saved = {name: module for name, module in sys.modules.items() if name.partition(".")[0] in names}
    for name in saved:
        del sys.modules[name]
    finder = _site.hide(names)
    try:
        yield
    finally:
        _site.unhide(finder)
        for name in [name for name in sys.modules if name.partition(".")[0] in names]:
            del sys.modules[name]
        sys.modules.update(saved)


def missing_env(env: Dict[str, str], *names: str) -> Dict[str, str]:
    """env for a subprocess in which the packages cannot be imported."""
    path = os.pathsep.join(filter(None, [str(SITE), env.get("PYTHONPATH", "")]))
    return {**env, "PYTHONPATH": path, "HAT_TEST_MISSING": ",".join(names)}
