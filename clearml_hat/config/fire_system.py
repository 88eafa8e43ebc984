"""python-fire as a config system (config/system.py): the function a script hands to `fire.Fire(main)`, its keyword
parameters as keys, read by running the script up to that call (entry_capture.py).

    system = capture_fire(Path("finetune.py"))      # def main(model_name="llama", lr=1e-4, epochs=3, **kwargs)
    system.command_line({"lr": 0.5, "tags": ["a", "b"]})   # ["--lr=0.5", "--tags=['a', 'b']"]

Fire reads each value as a Python literal (`--name=1e3` is a float), so a string that reads as something else is
written quoted (`--name='1e3'`), and the command line is proven by calling fire.Fire itself on a function with
main's signature. Help comes from main's docstring (Google style `Args:`), choices from `Literal[...]` hints.
A `**kwargs` parameter takes keys the function does not name: keys added to config.yaml beyond its parameters are
passed as `--key=value`, unchecked (the hat cannot know what main does with them); overrides name main's own
parameters only. fire is the script's
dependency, so it is imported only here, only for a script that uses it.
"""
from __future__ import annotations

import contextlib
import functools
import inspect
import io
import typing
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Set

from clearml_hat.config.entry_capture import run_until_call
from clearml_hat.config.system import Checked, KeyDoc
from clearml_hat.errors import HatError
from clearml_hat.values.config_files import kind, same_kind
from clearml_hat.values.yaml_config import closest_key

_NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def capture_fire(script: Path) -> FireSystem:
    """The function `python script` hands to fire.Fire; HatError for a class, an object or a dict of commands."""
    import fire
    import fire.core

    called = run_until_call(script, [(fire, "Fire"), (fire.core, "Fire")], "fire.Fire")
    component = called.args[0] if called.args else called.kwargs.get("component")
    if not inspect.isfunction(component):
        shown = f"the class {component.__name__}" if inspect.isclass(component) else \
            "the whole module" if component is None else f"a {type(component).__name__}"
        raise HatError(f"{script} hands fire.Fire {shown}, not a function; the hat supports fire.Fire(main) over "
                       "one function (give the script a main(...) with keyword defaults and Fire that)")
    return FireSystem(component)


class FireSystem:
    """The keyword parameters of the function fire.Fire runs."""

    name = "fire"
    nested = False

    def __init__(self, function: Callable[..., Any]) -> None:
        self.function = function
        self.signature = inspect.signature(function)
        self.params = {name: p for name, p in self.signature.parameters.items() if p.kind in _NAMED}
        self.takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in self.signature.parameters.values())
        self.shown = f"{function.__name__}()"

    def describe(self) -> List[KeyDoc]:
        helps = _helps(self.function)
        choices = _choices(self.function)
        docs = []
        for name, param in self.params.items():
            required = param.default is inspect.Parameter.empty
            value = None if required else _yaml_value(param.default)
            note = "" if required or value is not None or param.default is None else \
                f"the default {param.default!r} is no YAML value; left to the script while empty"
            docs.append(KeyDoc(name, value, help=helps.get(name, ""), choices=choices.get(name), required=required,
                               note=note, flags=(f"--{name}",)))
        return docs

    def known_keys(self) -> List[str]:
        return list(self.params)

    def text_keys(self) -> Set[str]:
        # A string parameter keeps the text written (`name: 1e3` stays '1e3'); the command line quotes it for fire.
        return {name for name, p in self.params.items() if isinstance(p.default, str)}

    def typed(self, values: dict) -> dict:
        return values  # fire gives the function what the literal says: 10 stays an int even for a float default

    def number_type(self, key: str) -> Optional[type]:
        default = self.params[key].default if key in self.params else None
        return type(default) if isinstance(default, (int, float)) and not isinstance(default, bool) else None

    def check(self, values: dict) -> Checked:
        problems, warnings = [], []
        choices = _choices(self.function)
        for key, value in values.items():
            param = self.params.get(key)
            if param is None:
                if self.takes_any:
                    warnings.append(f"{key}: not a parameter of {self.shown}; passed to its **kwargs unchecked")
                else:
                    close = closest_key(key, list(self.params))
                    fix = f"did you mean {close!r}?" if close else "remove it"
                    problems.append(f"{key}: {self.shown} has no such parameter; {fix}")
            elif value is None:
                if param.default is inspect.Parameter.empty:
                    problems.append(f"{key}: {self.shown} has no default for it; give a value")
            elif key in choices and value not in choices[key]:
                problems.append(f"{key}: {value!r} is no choice of {self.shown}'s {key}; choose one of "
                                f"{', '.join(map(str, choices[key]))}")
            elif param.default is not inspect.Parameter.empty and not same_kind(value, _yaml_value(param.default)):
                default = _yaml_value(param.default)
                problems.append(f"{key}: {value!r} is a {kind(value)} where {self.shown}'s default is a "
                                f"{kind(default)} ({default!r}); give a {kind(default)}")
        return Checked(problems, warnings)

    def command_line(self, values: dict, pinned: Iterable[str] = ()) -> List[str]:
        """`--key=literal` for each value given, proven by running fire.Fire on a function with main's signature."""
        given = {key: value for key, value in values.items() if value is not None}
        problems = self.check(given).problems
        if problems:
            raise HatError("\n".join(problems))
        argv = [f"--{key}={fire_text(value)}" for key, value in given.items()]
        back = self.parsed(argv)
        for key, value in given.items():
            if key not in back or not _same(back[key], value):
                got = repr(back[key]) if key in back else "nothing"
                raise HatError(f"{key}: fire reads --{key}={fire_text(value)} as {got}, not {value!r}; give a "
                               "value fire can read as a Python literal")
        return argv

    def parsed(self, argv: List[str]) -> Dict[str, Any]:
        """What fire.Fire hands the function for argv: every named and **kwargs value given, by name."""
        import fire
        from fire.core import FireExit

        got: Dict[str, Any] = {}

        @functools.wraps(self.function)  # fire reads the signature through __wrapped__
        def record(*args: Any, **kwargs: Any) -> None:
            bound = self.signature.bind(*args, **kwargs)
            for name, value in bound.arguments.items():
                kind_ = self.signature.parameters[name].kind
                got.update(value if kind_ is inspect.Parameter.VAR_KEYWORD else {name: value})

        said = io.StringIO()
        try:
            with contextlib.redirect_stdout(said), contextlib.redirect_stderr(said):
                fire.Fire(record, command=argv, name=self.function.__name__)
        except FireExit:
            last = (said.getvalue().strip().splitlines() or ["it stopped"])[-1]
            raise HatError(f"fire refuses the command line {' '.join(argv)} ({last}); fix the value it names") \
                from None
        return got


def fire_text(value: Any) -> str:
    """value as fire reads it back: a string as it is when fire keeps it a string, else its Python literal."""
    from fire.parser import DefaultParseValue

    if isinstance(value, str) and not value.startswith("-") and _same(DefaultParseValue(value), value):
        return value
    return repr(value)


def _same(a: Any, b: Any) -> bool:
    """Equal with the same types all the way down (fire tells 10 from 10.0)."""
    if isinstance(a, (list, tuple)) and type(a) is type(b):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and (a == b or a != a and b != b)


def _yaml_value(default: Any) -> Any:
    """The default as a YAML value (a tuple as a list), or None when YAML cannot hold it."""
    if default is None or isinstance(default, (bool, int, float, str)):
        return default
    if isinstance(default, (list, tuple)):
        items = [_yaml_value(item) for item in default]
        return items if all(item is not None or source is None for item, source in zip(items, default)) else None
    if isinstance(default, dict) and all(isinstance(key, str) for key in default):
        return {key: _yaml_value(item) for key, item in default.items()}
    return None


def _helps(function: Callable[..., Any]) -> Dict[str, str]:
    """Parameter -> its description in the docstring, read with fire's own docstring parser."""
    from fire import docstrings

    info = docstrings.parse(inspect.getdoc(function) or "")
    return {arg.name: " ".join((arg.description or "").split()) for arg in info.args or []}


def _choices(function: Callable[..., Any]) -> Dict[str, list]:
    """Parameter -> the values of its `Literal[...]` hint (fire does not enforce them; the hat's check does)."""
    try:
        hints = typing.get_type_hints(function)
    except Exception:  # a hint naming what is not importable here: no choices, as fire itself ignores hints
        return {}
    return {name: list(typing.get_args(hint)) for name, hint in hints.items()
            if typing.get_origin(hint) is typing.Literal}
