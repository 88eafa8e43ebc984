"""Hydra as a config system (config/system.py): the config a script's `@hydra.main` composes, read with Hydra's
own compose API from the folder the decorator names, without running the training.

    system = HydraSystem(Path("train.py"), hydra_main(source, "train.py"))
    system.command_line({"optim.lr": 0.5, "model": "large"})   # ["model=large", "optim.lr=0.5"]

Keys are the composed config's leaves, dotted (`optim.lr`), and one key per config group of the defaults list
(`model`, its value the chosen option): choosing another option brings that option's values. Interpolations show
their value as Hydra resolves it here and stay interpolations while unchanged (an unchanged value is not passed).
The command line is Hydra overrides, proven by composing with them. hydra-core is the script's dependency, so it
is imported only here, only for a script that uses it.
"""
from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, Dict, Iterable, List, NamedTuple, Optional, Sequence, Set, Tuple

import yaml

from clearml_hat.config.detect import HydraMain, hydra_main
from clearml_hat.config.system import Checked, KeyDoc
from clearml_hat.errors import HatError
from clearml_hat.values.config_files import kind, same_kind
from clearml_hat.values.yaml_config import closest_key
from clearml_hat.values.yaml_values import same_value


def capture_hydra(script: Path) -> HydraSystem:
    """The config the script's `@hydra.main` composes, read from its source (the script never runs)."""
    main = hydra_main(script.read_text(encoding="utf-8"), str(script))
    if main is None:
        raise HatError(f"{script} has no @hydra.main; run it as the script of another config system")
    return HydraSystem(script, main)


class Composed(NamedTuple):
    """One composition of the script's config: its leaves (resolved), notes on them, the group choices."""

    values: Dict[str, Any]  # dotted key -> value as the script gets it (resolved)
    notes: Dict[str, str]  # dotted key -> why its value is not written in the config as shown
    required: Set[str]  # keys whose value is `???` (Hydra's mandatory value)
    choices: Dict[str, Optional[str]]  # config group -> option (None: `logger: null`, none chosen)
    options: Dict[str, List[str]]  # config group -> every option of it


class HydraSystem:
    """The script's Hydra config, composed from the decorator's config folder and config name."""

    name = "hydra"
    nested = True

    def __init__(self, script: Path, main: HydraMain) -> None:
        self.main = main
        self.config_dir = (script.parent / main.config_path).resolve()
        if not self.config_dir.is_dir():
            raise HatError(f"{script}: @hydra.main's config_path {main.config_path!r} is no folder here (looked at "
                           f"{self.config_dir}); run from the script's checkout")
        self._compositions: Dict[Tuple[str, ...], Composed] = {}
        self.script = script
        self.default = self._composed_or_problem(())
        self._known: Optional[List[str]] = None  # composing every option takes a while: only when asked
        self._brought_by: Dict[str, str] = {}  # a key of no default option -> the option that brings it

    def describe(self) -> List[KeyDoc]:
        default = self.default
        groups = [KeyDoc(group, choice, help=f"config group {group}: choosing another option brings its values",
                         choices=default.options[group]) for group, choice in default.choices.items()]
        return groups + [KeyDoc(key, value, note=default.notes.get(key, ""), required=key in default.required)
                         for key, value in default.values.items()]

    def known_keys(self) -> List[str]:
        """The groups, and the keys of the default config and of every option of every group."""
        if self._known is None:
            known = list(self.default.choices) + list(self.default.values)
            for group, options in self.default.options.items():
                for option in options:
                    brought = [key for key in self._option_keys(group, option) if key not in known]
                    self._brought_by.update((key, f"{group}={option}") for key in brought)
                    known += brought
            self._known = known
        return self._known

    def _option_keys(self, group: str, option: str) -> List[str]:
        """The keys an option brings: its file's own keys under its package when it has no defaults list of its
        own (composing costs 0.2-0.5 s an option, and lightning-hydra-template has 30), else the composed config's;
        none for an option that needs a plugin missing here (check names it when it is chosen)."""
        from hydra.errors import HydraException
        from omegaconf.errors import OmegaConfBaseException

        path = self.config_dir / group / f"{option}.yaml"
        own = _own_keys(path, group) if path.is_file() else None
        if own is not None:
            return own
        try:
            return list(self.compose((f"{group}={option}",)).values)
        except (HydraException, OmegaConfBaseException):
            return []

    def text_keys(self) -> Set[str]:
        return set(self.default.choices)  # an option named `no` or `1` is that text

    def typed(self, values: dict) -> dict:
        return values  # Hydra types an override as YAML does (`1e-3` a float, `5` an int)

    def number_type(self, key: str) -> Optional[type]:
        value = self.default.values.get(key)
        return type(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    def check(self, values: dict) -> Checked:
        given = {key: value for key, value in values.items() if value is not None}
        problems = self._choice_problems(given)
        if problems:
            return Checked(problems, [])
        chosen = self._chosen(given)
        problems = self._compose_problems(list(chosen))  # an option that needs a plugin missing here
        if problems:
            new = [f"{group}={given[group]}" for group, choice in self.default.choices.items()
                   if group in given and str(given[group]) != choice]
            return Checked([f"{' '.join(new)}: Hydra cannot compose the config ({line}); install what the option "
                            "needs, or choose another" for line in problems], [])
        composed = self.compose(chosen)
        warnings = []
        for key, value in given.items():
            if key in composed.choices:
                continue
            if key not in composed.values:
                if key in self.default.values and same_value(value, self.default.values[key]):
                    warnings.append(f"{key}: not in the config with {' '.join(chosen)}; left out")
                    continue
                close = closest_key(key, list(composed.values))
                fix = f"did you mean {close!r}?" if close else "remove it"
                if key in self.known_keys() and key in self._brought_by:
                    fix = f"it comes with {self._brought_by[key]}; choose that or remove {key}"
                problems.append(f"{key}: the Hydra config has no such key; {fix}")
            elif not same_kind(value, composed.values[key]):
                problems.append(f"{key}: {value!r} is a {kind(value)} where the Hydra config has a "
                                f"{kind(composed.values[key])} ({composed.values[key]!r}); give a "
                                f"{kind(composed.values[key])}")
        if not problems:
            problems = self._compose_problems(self.overrides(given, composed))
        return Checked(problems, warnings)

    def command_line(self, values: dict, pinned: Iterable[str] = ()) -> List[str]:
        """Hydra overrides for the values given; composed with them to prove the script gets exactly those."""
        given = {key: value for key, value in values.items() if value is not None}
        problems = self.check(given).problems
        if problems:
            raise HatError("\n".join(problems))
        composed = self.compose(self._chosen(given))
        overrides = self.overrides(given, composed)
        back = self.compose(tuple(overrides))
        for key, value in given.items():
            got = back.choices.get(key) if key in back.choices else back.values.get(key, value)
            if not same_value(got, value):
                raise HatError(f"{key}: Hydra reads the override for {value!r} as {got!r}; write the value in the "
                               "Hydra config's own form")
        return overrides

    def overrides(self, given: dict, composed: Composed) -> List[str]:
        """`group=option` for each group given, then `key=value` for each value the chosen config has."""
        return [f"{key}={given[key]}" for key in given if key in composed.choices] + \
            [f"{key}={override_value(value)}" for key, value in given.items() if key in composed.values]

    def compose(self, overrides: Sequence[str]) -> Composed:
        """The config as @hydra.main composes it with these overrides (cached: capture composes each option)."""
        key = tuple(overrides)
        if key not in self._compositions:
            self._compositions[key] = self._compose(list(overrides))
        return self._compositions[key]

    def _compose(self, overrides: List[str]) -> Composed:
        from hydra import compose, initialize_config_dir
        from hydra.core.global_hydra import GlobalHydra

        folder = str(self.config_dir)
        # Left out, version_base is Hydra's own default, as for the script.
        context = initialize_config_dir(config_dir=folder, version_base=self.main.version_base) \
            if self.main.gives_version_base else initialize_config_dir(config_dir=folder)
        with context:
            config = compose(self.main.config_name, overrides=overrides, return_hydra_config=True)
            loader = GlobalHydra.instance().config_loader()
            # Hydra's own groups (`hydra/launcher`, a `hydra` group of the user's) are left as Hydra does them; an
            # optional group with no options here (lightning-hydra-template's `optional local`) is not a key.
            options = {group: loader.get_group_options(group) for group in config.hydra.runtime.choices
                       if group != "hydra" and not group.startswith("hydra/")}
            choices = {group: None if choice is None else str(choice)
                       for group, choice in config.hydra.runtime.choices.items() if options.get(group)}
            options = {group: options[group] for group in choices}
        values, notes, required = _leaves(config)
        return Composed(values, notes, required, choices, options)

    def _composed_or_problem(self, overrides: Sequence[str]) -> Composed:
        """compose, with what Hydra says against it as one HatError line (the bare script would fail alike)."""
        from hydra.errors import HydraException
        from omegaconf.errors import OmegaConfBaseException

        try:
            return self.compose(overrides)
        except (HydraException, OmegaConfBaseException) as error:
            said = " ".join(str(error).split("\n\n")[0].split())
            raise HatError(f"{self.script}: Hydra cannot compose its config ({said}); fix that so `python "
                           f"{self.script} --cfg job` works (a missing Hydra plugin is a pip install)") from None

    def _chosen(self, given: dict) -> Tuple[str, ...]:
        return tuple(f"{group}={given[group]}" for group in self.default.choices if group in given)

    def _choice_problems(self, given: dict) -> List[str]:
        return [f"{group}: {given[group]!r} is no option of the config group {group}; choose one of "
                f"{', '.join(options)}" for group, options in self.default.options.items()
                if group in given and str(given[group]) not in options]

    def _compose_problems(self, overrides: List[str]) -> List[str]:
        """What Hydra (OmegaConf's types) says of the overrides, one line: a structured config's int gets 'fast'."""
        from hydra.errors import HydraException
        from omegaconf.errors import OmegaConfBaseException

        try:
            self.compose(tuple(overrides))
        except (HydraException, OmegaConfBaseException) as error:
            cause = error.__cause__ or error
            return [f"{str(error).splitlines()[0]}: {str(cause).splitlines()[0]}" if cause is not error else
                    str(error).splitlines()[0]]
        return []


def _leaves(config: Any) -> Tuple[Dict[str, Any], Dict[str, str], Set[str]]:
    """The config's leaves without Hydra's own `hydra` node: dotted key -> resolved value; notes; `???` keys."""
    from omegaconf import DictConfig, ListConfig, OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    raw = OmegaConf.to_container(config, resolve=False)
    assert isinstance(raw, dict)
    raw.pop("hydra", None)
    values: Dict[str, Any] = {}
    notes: Dict[str, str] = {}
    required: Set[str] = set()
    for key, written in _flatten("", raw).items():
        if written == "???":
            values[key] = None
            required.add(key)
            continue
        if not (isinstance(written, str) and "${" in written) and "${" not in repr(written):
            values[key] = written
            continue
        try:
            value = OmegaConf.select(config, key, throw_on_missing=True)
        except OmegaConfBaseException:  # a resolver only the running script has (`${hydra:runtime.output_dir}`)
            values[key] = None
            notes[key] = f"{written}: resolved only when the script runs"
            continue
        values[key] = OmegaConf.to_container(value, resolve=True) if isinstance(value, (DictConfig, ListConfig)) \
            else value
        notes[key] = f"{written}: Hydra's interpolation, kept while this value is unchanged"
    return values, notes, required


def _own_keys(path: Path, group: str) -> Optional[List[str]]:
    """The dotted keys an option file sets, under its package (`# @package _global_`, or the group's path by
    default); None when the file has a defaults list or is no plain mapping (then only composing tells)."""
    text = path.read_text(encoding="utf-8")
    try:
        content = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    if not isinstance(content, dict) or "defaults" in content:
        return None
    package = re.search(r"^#\s*@package\s+(\S+)", text, re.MULTILINE)
    name = package.group(1) if package else group.replace("/", ".")
    prefix = "" if name == "_global_" else f"{group.replace('/', '.') if name == '_group_' else name}."
    return list(_flatten(prefix, content))


def _flatten(prefix: str, mapping: dict) -> Dict[str, Any]:
    """{"optim": {"lr": 0.1}} -> {"optim.lr": 0.1}; an empty mapping is a value itself."""
    flat: Dict[str, Any] = {}
    for name, value in mapping.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict) and value:
            flat.update(_flatten(f"{key}.", value))
        else:
            flat[key] = value
    return flat


def override_value(value: Any) -> str:
    """A value in Hydra's override grammar: strings quoted (so `10` stays the text '10'), lists and mappings
    inline."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if value != value else ("inf" if value > 0 else "-inf")
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ",".join(override_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{name}:{override_value(item)}" for name, item in value.items()) + "}"
    # In a quoted value only backslashes before a quote (or the closing quote) are escapes.
    text = re.sub(r"(\\*)'", lambda found: found.group(1) * 2 + "\\'", str(value))
    text = re.sub(r"(\\+)$", lambda found: found.group(1) * 2, text)
    return f"'{text}'"

