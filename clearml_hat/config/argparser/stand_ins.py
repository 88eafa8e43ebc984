"""Inert stand-ins for modules a training script imports but this machine lacks (used while capturing a parser).

The hat only needs the script to run as far as its `parse_args()` call. A laptop without torch or cv2 should still
get there, so during capture `StandInFinder` (last on `sys.meta_path`) answers any import the script's own code
cannot satisfy with a `StandInModule`. Everything taken from it is a `StandIn`: callable, subscriptable, usable
as a base class, decorator or context manager, and falsy. Falsy because the module really is missing here:
`if torch.cuda.is_available():` and `if wandb:` then take the branch the script wrote for "not available".

    default=torch.cuda.device_count()    # a StandIn: is_stand_in() is True, stand_in_origin() is 'torch'

Zero and empty too (len 0, no iteration, int 0), `__version__` is '999.0.0', `from missing import *` gives the
names the importing module goes on to use, and an argparse action class from a missing module (mmcv's
DictAction) becomes a plain store action. A parser handed to a stand-in call (`add_dict_to_argparser(parser,
defaults)`) is handed back and the call is recorded in `parser_handoffs()`: the options it would add are unknown.

Stand-ins must not change what installed packages do. yolov5 does `import packaging` and then uses
`packaging.version`, which torch would have imported first; with torch stood in, nothing has. So while capture
runs, `submodules_on_access` lets a package the script's code imports load such a submodule when it is used.
"""
from __future__ import annotations

import argparse
import builtins
import contextlib
import importlib
import importlib.abc
import os
import sys
import types
from importlib.machinery import ModuleSpec
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Mapping, NamedTuple, Sequence, cast

# Frames of the import machinery sit between an `import` statement and the finder; skip them to find the importer.
# (Only importlib's: since 3.11 other stdlib modules are frozen too, `<frozen os>`.)
_IMPORT_MACHINERY = ("<frozen importlib.", os.path.dirname(importlib.__file__) + os.sep)

# What a missing module's __version__ says (and its package metadata, see missing_packages.py).
VERSION = "999.0.0"
# The hat itself may sit inside the user's repo; its own imports never get stand-ins.
_HAT_PACKAGE = os.path.join(str(Path(os.path.abspath(__file__)).parents[2]), "")
_OPERATORS = {
    "add": "+", "sub": "-", "mul": "*", "matmul": "@", "truediv": "/", "floordiv": "//", "mod": "%", "pow": "**",
    "lshift": "<<", "rshift": ">>", "and": "&", "xor": "^", "or": "|",
}


class Handoff(NamedTuple):
    """A parser handed to a stand-in call: the options that call adds to it cannot be known here."""

    filename: str
    line: int
    origin: str  # the missing module, e.g. 'improved_diffusion.script_util'
    call: str  # what the script called, e.g. 'improved_diffusion.script_util.add_dict_to_argparser()'
    parser: argparse.ArgumentParser


# The code of submodules_on_access's __import__ wrapper: a frame of it is import machinery, not the importer.
_IMPORT_WRAPPER: types.CodeType | None = None

# Stand-ins are made deep inside the script's expressions, far from the finder that made their module, so the
# hand-offs are kept here; StandInFinder() starts a new list (one capture runs at a time).
_HANDOFFS: List[Handoff] = []


def parser_handoffs() -> List[Handoff]:
    """The parser hand-offs to stand-in calls since the last StandInFinder was made, in call order."""
    return list(_HANDOFFS)


def _is_dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


class StandIn:
    """Any value that came from a missing module while capturing a parser; it accepts every use and does nothing."""

    def __init__(self, origin: str, expression: str) -> None:
        self._stand_in_origin = origin  # the missing module, e.g. 'torch'
        self._stand_in_expression = expression  # what the script wrote, e.g. 'torch.cuda.device_count()'

    def __getattr__(self, name: str) -> Any:
        # A submodule's version, as the module's (`print(torch.version.__version__)` before the parser).
        if name == "__version__":
            return VERSION
        # Dunder probes (__wrapped__, __fspath__, __array__...) must fail as on a plain object, or introspection
        # such as inspect.unwrap would follow stand-ins forever.
        if _is_dunder(name):
            raise AttributeError(name)
        child = StandIn(self._stand_in_origin, f"{self._stand_in_expression}.{name}")
        setattr(self, name, child)  # the same object every time, so `nn.Module` names one base class
        return child

    def __call__(self, *args: object, **kwargs: object) -> object:
        # `@torch.jit.script` and `@torch.no_grad()` get the function or class back, so the script can still call
        # its decorated main().
        if len(args) == 1 and not kwargs and isinstance(args[0], (types.FunctionType, type)):
            return args[0]
        # `add_argument('--cfg-options', nargs='+', action=DictAction)` with mmcv missing: argparse calls the action
        # class with these keywords. A plain store action keeps the option, its default and help in the parser.
        if "option_strings" in kwargs and "dest" in kwargs:
            return argparse._StoreAction(**cast(Dict[str, Any], kwargs))
        # `parser = deepspeed.add_config_arguments(parser)`: hand the parser back, so its parse_args() is still the
        # capture point; a stand-in there would let the script run on into training.
        parsers = [arg for arg in (*args, *kwargs.values()) if isinstance(arg, argparse.ArgumentParser)]
        if parsers:
            caller = sys._getframe(1)
            _HANDOFFS.append(Handoff(caller.f_code.co_filename, caller.f_lineno, self._stand_in_origin,
                                     f"{self._stand_in_expression}()", parsers[0]))
            return parsers[0]
        arguments = "..." if args or kwargs else ""
        return StandIn(self._stand_in_origin, f"{self._stand_in_expression}({arguments})")

    def __getitem__(self, key: object) -> StandIn:
        return StandIn(self._stand_in_origin, f"{self._stand_in_expression}[...]")

    def __setitem__(self, key: object, value: object) -> None:
        pass

    def __mro_entries__(self, bases: tuple) -> tuple:
        # `class Net(nn.Module)`: the script's class gets a real, inert base class instead.
        if "_stand_in_base" not in self.__dict__:
            name = self._stand_in_expression.rsplit(".", 1)[-1]
            self._stand_in_base = type(name, (StandInBase,), {"_stand_in_origin": self._stand_in_origin})
        return (self._stand_in_base,)

    def __enter__(self) -> StandIn:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None  # never swallow an exception raised inside `with torch.no_grad():`

    # Empty and zero everywhere, like the falsy value: `for gpu in range(torch.cuda.device_count())` runs no loop.
    def __bool__(self) -> bool:
        return False

    def __len__(self) -> int:
        return 0

    def __iter__(self) -> Iterator[StandIn]:
        yield from ()

    def __contains__(self, item: object) -> bool:
        return False

    def __index__(self) -> int:
        return 0

    def __int__(self) -> int:
        return 0

    def __float__(self) -> float:
        return 0.0

    def __eq__(self, other: object) -> bool:
        return self is other

    def __ne__(self, other: object) -> bool:
        return self is not other

    def __lt__(self, other: object) -> bool:
        return False

    __le__ = __gt__ = __ge__ = __lt__
    __hash__ = object.__hash__

    def __instancecheck__(self, instance: object) -> bool:  # isinstance(x, torch.Tensor)
        return False

    def __subclasscheck__(self, subclass: type) -> bool:
        return False

    def __neg__(self) -> StandIn:
        return StandIn(self._stand_in_origin, f"-{self._stand_in_expression}")

    __pos__ = __abs__ = __invert__ = __neg__

    def __repr__(self) -> str:
        return f"<stand-in {self._stand_in_expression}>"

    def __format__(self, spec: str) -> str:
        return repr(self)


def _operator(symbol: str, reflected: bool) -> Callable[[StandIn, object], StandIn]:
    def apply(self: StandIn, other: object) -> StandIn:
        left, right = (repr(other), self._stand_in_expression) if reflected else (self._stand_in_expression, "...")
        return StandIn(self._stand_in_origin, f"{left} {symbol} {right}")

    return apply


for _name, _symbol in _OPERATORS.items():
    setattr(StandIn, f"__{_name}__", _operator(_symbol, reflected=False))
    setattr(StandIn, f"__r{_name}__", _operator(_symbol, reflected=True))


class StandInBase:
    """The base class a script's class gets for a missing one (`class Net(nn.Module)`): any arguments, no work."""

    _stand_in_origin = ""

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def __call__(self, *args: object, **kwargs: object) -> StandIn:
        # `model(x)` on an nn.Module; the script's forward() is not run: its result could only be another stand-in.
        return StandIn(self._stand_in_origin, f"{type(self).__name__}(...)")

    def __getattr__(self, name: str) -> StandIn:
        # Methods the missing base would have had (`self.register_buffer(...)`) become stand-ins too.
        if _is_dunder(name):
            raise AttributeError(name)
        return StandIn(self._stand_in_origin, f"{type(self).__name__}.{name}")


class StandInModule(types.ModuleType):
    """A missing module: every public attribute is a StandIn; a package, so `import torch.nn` works too."""

    def __getattr__(self, name: str) -> object:
        # Read like public names: `torch.__version__` and `__all__` (for `from timm.utils import *`). Other dunders
        # are import machinery probes (__file__, __wrapped__...) that must fail as on a real module.
        # The version is a string above any real one: it parses with packaging and pkg_resources, and a minimum
        # check (`assert torch.__version__ >= '1.8'`) passes; the branches it picks only touch stand-ins anyway.
        if name == "__version__":
            return VERSION
        if name == "__all__":
            return _names_for_star_import(_importer_frame())
        if _is_dunder(name):
            raise AttributeError(name)
        value = StandIn(self.__name__, f"{self.__name__}.{name}")
        setattr(self, name, value)
        return value


def _importer_frame() -> types.FrameType:
    """The frame running the `import` statement under way: the caller, skipping the import machinery (and the
    wrapper of submodules_on_access)."""
    frame = sys._getframe(2)
    while (frame.f_code.co_filename.startswith(_IMPORT_MACHINERY) or frame.f_code is _IMPORT_WRAPPER) \
            and frame.f_back is not None:
        frame = frame.f_back
    return frame


def _names_for_star_import(frame: types.FrameType) -> list[str]:
    """Names `from missing import *` gives: those the importing module's code uses, not yet bound, not builtins.

    Without them timm's `from timm.utils import *` leaves `setup_default_logging()` a NameError before the parse.
    co_names also holds attribute names, so a few unused stand-ins get bound too; names bound before the import
    (`import os`) are kept, and names bound after it replace the stand-ins as usual.
    """
    names: set[str] = set()
    codes = [frame.f_code]
    while codes:
        code = codes.pop()
        names.update(code.co_names)
        codes.extend(const for const in code.co_consts if isinstance(const, types.CodeType))
    return sorted(names - frame.f_globals.keys() - vars(builtins).keys())


class StandInFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Last on sys.meta_path during capture: turns an import nothing else can satisfy into a StandInModule.

    Only imports made by the script's own code (files under `folder`, outside site-packages) get a stand-in.
    An installed library keeps its ImportError, so its own `try: import optional_dep` fallbacks work as usual and
    no real module that stays imported ever holds a stand-in.
    """

    def __init__(self, folder: str, everywhere: frozenset = frozenset()) -> None:
        self.folder = os.path.join(os.path.abspath(folder), "")
        # Missing modules stood in for whoever imports them: an installed package importing them for the script
        # failed the capture before (torch.utils.tensorboard imports tensorboard), see capture.py.
        self.everywhere = everywhere
        self.modules: list[str] = []  # names of the stand-in modules made, in import order
        _HANDOFFS.clear()

    def is_local(self, filename: str) -> bool:
        """True for the script and the repo's own modules (not a virtualenv inside the repo, not the hat)."""
        path = os.path.abspath(filename)
        parts = path.split(os.sep)
        return (path.startswith(self.folder) and not path.startswith(_HAT_PACKAGE)
                and "site-packages" not in parts and "dist-packages" not in parts)

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> ModuleSpec | None:
        wanted_everywhere = any(fullname == name or fullname.startswith(name + ".") for name in self.everywhere)
        if not wanted_everywhere and not self.is_local(_importer_frame().f_code.co_filename):
            return None
        return ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec: ModuleSpec) -> StandInModule:
        self.modules.append(spec.name)
        return StandInModule(spec.name)

    def exec_module(self, module: types.ModuleType) -> None:
        pass


def is_stand_in(value: object) -> bool:
    """True when value came from a missing module (or is a list, tuple, set or dict holding one)."""
    return _find_stand_in(value) is not None


def stand_in_origin(value: object) -> str:
    """Name of the missing module value came from, e.g. 'torch' for `torch.cuda.device_count()`."""
    found = _find_stand_in(value)
    if found is None:
        raise ValueError(f"not a stand-in: {value!r}")
    return found


def _find_stand_in(value: object) -> str | None:
    """The origin of the first stand-in in value, or None when it holds none."""
    if isinstance(value, StandInModule):
        return value.__name__
    if isinstance(value, (StandIn, StandInBase)):
        return value._stand_in_origin
    items = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple, set)) else ()
    for item in items:
        origin = _find_stand_in(item)
        if origin is not None:
            return origin
    return None


@contextlib.contextmanager
def submodules_on_access(finder: StandInFinder) -> Iterator[None]:
    """While capture runs, an installed package the script's code imports loads a submodule when it is used.

    A heavy package imports submodules of others as a side effect: torch imports `packaging.version` for yolov5's
    `packaging.version.parse(...)`, torchvision imports `PIL.Image` for DETR's `PIL.Image.Image` annotation. With
    a stand-in in the heavy package's place nothing has, and the script would fail where it works on a machine
    with everything installed. So each package the script's code imports gets a module `__getattr__` (PEP 562)
    that imports the submodule of that name; it is removed afterwards (the submodules stay imported, like any
    installed module capture imported).
    """
    original_import = builtins.__import__
    hooks: Dict[types.ModuleType, Callable[[str], object]] = {}

    def importing(name: str, globals: Mapping[str, object] | None = None, locals: Mapping[str, object] | None = None,
                  fromlist: Sequence[str] | None = (), level: int = 0) -> types.ModuleType:
        module = original_import(name, globals, locals, fromlist, level)
        if level == 0 and globals and finder.is_local(str(globals.get("__file__") or "")):
            _add_submodule_hook(module, hooks)
        return module

    global _IMPORT_WRAPPER
    _IMPORT_WRAPPER = importing.__code__
    builtins.__import__ = importing
    try:
        yield
    finally:
        builtins.__import__ = original_import
        for module, hook in hooks.items():
            if vars(module).get("__getattr__") is hook:
                del module.__getattr__


def _add_submodule_hook(module: types.ModuleType, hooks: Dict[types.ModuleType, Callable[[str], object]]) -> None:
    """Give an installed package (not a stand-in, without a __getattr__ of its own) the submodule hook."""
    attributes = vars(module)
    if isinstance(module, StandInModule) or "__path__" not in attributes or "__getattr__" in attributes:
        return
    package = module.__name__

    def __getattr__(name: str) -> object:
        if not _is_dunder(name):
            try:
                return importlib.import_module(f"{package}.{name}")
            except ImportError:
                pass
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    module.__getattr__ = __getattr__  # type: ignore[method-assign]
    hooks[module] = __getattr__
