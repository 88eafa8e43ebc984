"""The yaml command (`python argparse_to_yaml.py`, `clearml-hat yaml`): write config.yaml from a script's parser,
or check a YAML file against it."""
from __future__ import annotations

import os
from pathlib import Path

from clearml_hat.config.job import capture_config_system, check_job_values, load_job_values
from clearml_hat.console import Console
from clearml_hat.errors import HatError
from clearml_hat.values import config_files
from clearml_hat.values.yaml_config import render_yaml


def write_config(script: str, output: str, console: Console) -> Path:
    """Write the YAML; an edited file of the same name is kept as <name>.bak. Returns the file written."""
    path = Path(output)
    if not path.parent.is_dir():
        raise HatError(f"{output}: the folder {path.parent} does not exist; create it or give -o a file in an "
                       "existing folder")
    system = capture_config_system(script)
    docs = system.describe()
    values = config_files.expand({doc.key: doc.value for doc in docs}, system.known_keys())
    files = {key: config_files.nested(values, key) for key in config_files.file_keys(values)}
    text = render_yaml(docs, script, output, files)
    if path.is_file() and path.read_text(encoding="utf-8") != text:
        backup = path.with_name(path.name + ".bak")
        os.replace(path, backup)  # a regenerated file must not eat the user's edits
        console.note(f"kept the previous {path} as {backup}")
    path.write_text(text, encoding="utf-8")
    console.out(f"wrote {path} from {script}")
    return path


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
