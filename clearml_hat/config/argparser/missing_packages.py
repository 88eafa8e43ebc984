"""Missing packages during capture: the metadata a version check reads, and one line that says what to install.

Capture stands in the modules a script imports but this machine lacks (stand_ins.py). Two things still stop a
script before its parser, and neither is a fault of the script's line:

- A version check of a missing package by an installed one: run_glue's
  `require_version("datasets>=2.14.0")` (transformers) reads the package metadata of datasets, not the module.
  StandInMetadata answers for a stood-in module with the version its `__version__` says, so the check passes as
  `assert torch.__version__ >= "1.8"` does: it is about training on this machine, not about the parser.
- A line that needs the real package: `parser.parse_args_into_dataclasses()` on a stand-in HfArgumentParser gives
  nothing to unpack. The failing line reads a stand-in (stand_in_on_failing_line), so the error names the
  package and how to install it (needs_package).

    install_command("cv2")                           -> "pip install opencv-python"
    stand_in_on_failing_line(error, finder.is_local) -> ("/repo/train.py", 11, "transformers") or None
    needs_package("train.py:11", "transformers", "ValueError: ...")
        -> "train.py:11 needs transformers, which is missing here, to reach its parser (...); install it: ..."
"""
from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import linecache
import os
import re
from typing import Any, Callable, Iterator, List, Optional, Tuple

from clearml_hat.config.argparser.stand_ins import VERSION, StandInBase, StandInFinder, is_stand_in, stand_in_origin

# Import name -> the name pip installs it by, where they differ (pip itself treats '-', '_' and '.' alike).
PIP_NAMES = {
    "cv2": "opencv-python", "sklearn": "scikit-learn", "skimage": "scikit-image", "PIL": "Pillow",
    "yaml": "PyYAML", "bs4": "beautifulsoup4", "attr": "attrs", "dateutil": "python-dateutil",
    "dotenv": "python-dotenv", "fitz": "PyMuPDF", "Crypto": "pycryptodome", "git": "GitPython",
    "OpenGL": "PyOpenGL", "jwt": "PyJWT", "magic": "python-magic", "faiss": "faiss-cpu",
}


def pip_name(module: str) -> str:
    """The package that provides the top-level module of `module` ('sklearn.metrics' -> 'scikit-learn')."""
    top = module.partition(".")[0]
    return PIP_NAMES.get(top, top)


def install_command(module: str) -> str:
    return f"pip install {pip_name(module)}"


def needs_package(where: str, origin: str, error_text: str) -> str:
    """The one line for a script that stopped at `where` on a stand-in of the missing module `origin`."""
    top = origin.partition(".")[0]
    if _installed(top):  # `from transformers.utils import send_example_telemetry` where that name is gone
        return (f"{where} needs {origin}, which the installed {top} does not have, to reach its parser (the line "
                f"raised {error_text}); install the {top} version the script was written for")
    return (f"{where} needs {top}, which is missing here, to reach its parser (the line raised {error_text}); "
            f"install it: {install_command(top)}")


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a module in sys.modules without a __spec__
        return False


def stand_in_on_failing_line(error: BaseException, is_local: Callable[[str], bool]) -> Optional[Tuple[str, int, str]]:
    """(file, line, missing module) when the deepest line of the repo's own code in the traceback reads a
    stand-in: that line is fine, the package is missing (`json.dumps(torch.cuda.get_device_name())`, an
    unpacked `parser.parse_args_into_dataclasses()` of a stand-in HfArgumentParser). None otherwise.

    The errors error was raised from count too: a lazy module (TRL's, transformers') raises its own error from
    the one of the module it imported."""
    seen: Optional[BaseException] = error
    while seen is not None:
        found = _stand_in_on_line(seen, is_local)
        if found:
            return found
        seen = seen.__cause__ or seen.__context__
    return None


def _stand_in_on_line(error: BaseException, is_local: Callable[[str], bool]) -> Optional[Tuple[str, int, str]]:
    traceback, frame, line = error.__traceback__, None, 0
    while traceback is not None:
        if is_local(traceback.tb_frame.f_code.co_filename):
            frame, line = traceback.tb_frame, traceback.tb_lineno
        traceback = traceback.tb_next
    if frame is None:
        return None
    for name in names_read(frame.f_code.co_filename, line):
        value = frame.f_locals[name] if name in frame.f_locals else frame.f_globals.get(name)
        if is_stand_in(value):
            return frame.f_code.co_filename, line, stand_in_origin(value)
        if isinstance(value, type) and issubclass(value, StandInBase):  # `class Net(nn.Module)`, nn missing
            return frame.f_code.co_filename, line, value._stand_in_origin
    return None


def missing_module(error: BaseException, stood_in: Tuple[str, ...]) -> Optional[str]:
    """The module whose absence raised error, or raised what error was raised from (transformers' lazy
    `from transformers import get_scheduler` raises its own error from torch.optim's): its top-level module when
    that is stood in already (torch missing: stand it in for transformers too), else its own name."""
    seen: Optional[BaseException] = error
    while seen is not None:
        if isinstance(seen, ModuleNotFoundError) and seen.name:
            top = seen.name.partition(".")[0]
            return top if top in stood_in else seen.name
        seen = seen.__cause__ or seen.__context__
    return None


def names_read(filename: str, line: int) -> List[str]:
    """The names the statement running at `line` of the file reads, in source order; [] without its source.

    The whole statement counts (`a, b = parser.parse_args_into_dataclasses()` may span lines), but only its own
    expressions: for a compound statement (an `if` header) not the statements inside it.
    """
    try:
        tree = ast.parse("".join(linecache.getlines(filename)), filename)
    except (SyntaxError, ValueError):
        return []
    statement = _innermost_statement(tree.body, line)
    if statement is None:
        return []
    names: List[str] = []
    for field, value in ast.iter_fields(statement):
        if field in ("body", "orelse", "finalbody", "handlers"):
            continue
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, ast.AST):
                names += [node.id for node in ast.walk(item) if isinstance(node, ast.Name)
                          and isinstance(node.ctx, ast.Load)]
    return list(dict.fromkeys(names))


def _innermost_statement(body: List[ast.stmt], line: int) -> Optional[ast.stmt]:
    for statement in body:
        if statement.lineno <= line <= (getattr(statement, "end_lineno", None) or statement.lineno):
            inner = [child for field in ("body", "orelse", "finalbody") for child in getattr(statement, field, [])]
            inner += [child for handler in getattr(statement, "handlers", []) for child in handler.body]
            return _innermost_statement(inner, line) or statement
    return None


class StandInDistribution(importlib.metadata.Distribution):
    """The package metadata of a stood-in module: its name, and the version its __version__ says."""

    def __init__(self, name: str) -> None:
        self._name = name

    def read_text(self, filename: str) -> Optional[str]:
        if filename in ("METADATA", "PKG-INFO"):
            return f"Metadata-Version: 2.1\nName: {self._name}\nVersion: {VERSION}\n"
        return None

    def locate_file(self, path: Any) -> Any:
        return os.path.join(os.devnull, str(path))  # no files: nothing of it is on disk


class StandInMetadata:
    """On sys.meta_path during capture, beside the StandInFinder: importlib.metadata asks every finder there for
    distributions, and this one answers a lookup by name of a package that provides a stood-in module. A lookup
    of all packages (no name) lists none of them."""

    def __init__(self, finder: StandInFinder) -> None:
        self.finder = finder

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> None:
        return None  # imports are the StandInFinder's

    def find_distributions(self, context: Any = None) -> Iterator[importlib.metadata.Distribution]:
        # An iterator: Python 3.8's importlib.metadata calls next() on it.
        return iter(stand_in_distribution(getattr(context, "name", None), self.finder.modules))


def stand_in_distribution(name: Optional[str], modules: List[str]) -> List[importlib.metadata.Distribution]:
    """[the metadata of package `name`] when it provides one of the stood-in modules, else []."""
    if not name:
        return []
    wanted = _normalized(name)
    tops = {module.partition(".")[0] for module in modules}
    if any(wanted in (_normalized(top), _normalized(pip_name(top))) for top in tops):
        return [StandInDistribution(name)]
    return []


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
