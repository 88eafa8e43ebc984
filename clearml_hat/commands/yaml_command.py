"""The yaml command (`python argparse_to_yaml.py`, `clearml-hat yaml`): write config.yaml from a script's parser,
or check a YAML file against it."""
from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import List, Optional, Tuple

from clearml_hat.config.job import check_job_values, load_job_values
from clearml_hat.config.systems import capture_config_system
from clearml_hat.console import Console
from clearml_hat.errors import HatError
from clearml_hat.values import config_files
from clearml_hat.values.yaml_config import load_values, render_nested_yaml, render_yaml, unnest


def write_config(script: str, output: str, console: Console) -> Path:
    """Write the YAML; an edited file of the same name is kept as <name>.bak. Returns the file written."""
    path = Path(output)
    if not path.parent.is_dir():
        raise HatError(f"{output}: the folder {path.parent} does not exist; create it or give -o a file in an "
                       "existing folder")
    text, _ = config_text(script, script, output)
    write_keeping_backup(path, text, console)
    console.out(f"wrote {path} from {script}")
    return path


def config_text(script: str, shown_script: str, shown_output: str,
                edited: Optional[Path] = None) -> Tuple[str, List[str]]:
    """The YAML text of the script's parser, its header naming shown_script and shown_output. This captures the
    parser, so a script that fails raises HatError here, before anything is written. With `edited`, an existing
    YAML, its values are kept for the keys the parser still has; returns the text and the keys of `edited` the
    parser no longer has."""
    system = capture_config_system(script)
    docs = system.describe()
    removed: List[str] = []
    if edited is not None and edited.is_file():
        kept = load_values(edited, system.text_keys())
        kept = unnest(kept) if system.nested else kept
        docs = [dataclasses.replace(doc, value=kept[doc.key], note="") if doc.key in kept else doc for doc in docs]
        removed = [key for key in kept if key not in {doc.key for doc in docs}]
    if system.nested:
        return render_nested_yaml(docs, shown_script, shown_output, f"{system.name} config"), removed
    values = config_files.expand({doc.key: doc.value for doc in docs}, system.known_keys())
    files = {key: config_files.nested(values, key) for key in config_files.file_keys(values)}
    source = {"argparse": "argparse parser", "fire": "fire.Fire function", "absl": "absl flags"}.get(
        system.name, f"{system.name} command")
    return render_yaml(docs, shown_script, shown_output, files, source), removed


def write_keeping_backup(path: Path, text: str, console: Console) -> None:
    """Write text to path; a file there with other text is kept as <name>.bak first, so no edit is lost."""
    if path.is_file() and path.read_text(encoding="utf-8") != text:
        backup = path.with_name(path.name + ".bak")
        shutil.copy2(path, backup)
        console.note(f"kept the previous {path} as {backup}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def check_config(script: str, yaml_path: str, console: Console) -> int:
    """Print every problem of the YAML, one line each, and return 1; or print `ok` and return 0."""
    system = capture_config_system(script)
    values = load_job_values(system, yaml_path)
    problems, warnings = check_job_values(system, values)
    for line in warnings:
        console.out(f"{yaml_path}: warning: {line}")
    for line in problems:
        console.out(f"{yaml_path}: {line}")
    if problems:
        return 1
    console.out("ok")
    return 0
