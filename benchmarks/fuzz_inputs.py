"""Reliability figures for bad input: how many damaged YAML files and overrides the hat was given, and how it did.

    python benchmarks/fuzz_inputs.py                       # 5000 in-process + 200 through the commands, seed 0
    python benchmarks/fuzz_inputs.py --inputs 20000 --commands 0 --seed 7

The inputs come from tests/fuzz_inputs.py (hypothesis, a fixed seed: the same inputs on every run with the same
hypothesis version). In-process, each input goes through what `hat.py --print_argv` and `argparse_to_yaml.py
--check` do after reading the parser; through the commands, each runs both as fresh subprocesses, with a temporary
HOME and CLEARML_CACHE_DIR, and no CLEARML_* variable of this shell. Counted per input and path:

- accepted: an argv the script's parser reads (or `ok` from --check);
- refused: one `prog: error:` line (or `file: key: ...` report lines), each naming a key, a line or the file;
- unnamed: a refusal line that names none of them;
- tracebacks: anything else raised in-process, or "Traceback" / another exit code from a command;
- sessions: a ClearML cache that is no longer empty after a command.

Exit status 1 unless tracebacks, unnamed and sessions are all 0.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Counter, Dict, List, Tuple, Union

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # `python benchmarks/fuzz_inputs.py` puts benchmarks/ first, not the repo root

from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402

from clearml_hat.config.argparser.capture import capture_parser  # noqa: E402
from tests import fuzz_inputs as fuzz  # noqa: E402

Input = Tuple[Union[str, bytes], List[str]]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Feed the hat damaged YAML and overrides; count the outcomes.")
    parser.add_argument("--inputs", type=int, default=5000, help="inputs tried in-process (default 5000)")
    parser.add_argument("--commands", type=int, default=200, help="inputs run through both commands (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="hypothesis seed (default 0)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="commands run at once")
    return parser.parse_args()


def generate(count: int, seed_value: int, for_a_command_line: bool) -> List[Input]:
    """count inputs, drawn by hypothesis with a fixed seed; generation only (nothing to shrink: no test fails)."""
    drawn: List[Input] = []

    @seed(seed_value)
    @settings(max_examples=count, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(fuzz.damaged_yaml(), fuzz.damaged_overrides(for_a_command_line=for_a_command_line))
    def collect(content: Union[str, bytes], overrides: List[str]) -> None:
        drawn.append((content, overrides))

    collect()
    return drawn


def in_process(inputs: List[Input], folder: Path) -> Tuple[Counter, List[str]]:
    script = folder / "train.py"
    script.write_text(fuzz.TARGET_SCRIPT)
    parser = capture_parser(script)
    yaml_path = folder / "c.yaml"
    counts: Counter = collections.Counter()
    crashes: List[str] = []
    for content, overrides in inputs:
        fuzz.write_input(yaml_path, content)
        keys = fuzz.keys_in(content, overrides)
        for path, run in (("print_argv", lambda ov=overrides: fuzz.run_job(parser, yaml_path, ov)),
                          ("check", lambda: fuzz.run_check(parser, yaml_path))):
            try:
                outcome = run()
            except Exception:  # the very thing counted here: a crash the user would see as a traceback
                counts[path, "traceback"] += 1
                crashes.append(f"{path}: {traceback.format_exc().splitlines()[-1]} on {(content, overrides)!r:.300}")
                continue
            if outcome.accepted:
                counts[path, "accepted"] += 1
            elif all(fuzz.names_the_problem(line, yaml_path, keys) for line in outcome.lines):
                counts[path, "refused"] += 1
            else:
                counts[path, "unnamed"] += 1
                crashes.append(f"{path}: unnamed refusal {outcome.lines[:2]!r:.300}")
    return counts, crashes


def clean_env(home: Path) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLEARML_", "TRAINS_"))}
    env.update(HOME=str(home), CLEARML_CACHE_DIR=str(home / "clearml-cache"), PYTHONIOENCODING="utf-8")
    return env


def through_commands(number: int, item: Input, root: Path) -> List[Tuple[str, str, str]]:
    """(command, outcome, detail) for both commands on one input, in a folder and HOME of its own."""
    content, overrides = item
    folder = root / str(number)
    (folder / "home").mkdir(parents=True)
    env = clean_env(folder / "home")
    (folder / "train.py").write_text(fuzz.TARGET_SCRIPT)
    yaml_path = folder / "c.yaml"
    fuzz.write_input(yaml_path, content)
    keys = fuzz.keys_in(content, overrides)
    commands = {
        "hat.py --print_argv": ([str(REPO / "hat.py"), "--script", "train.py", "--train_yaml", "c.yaml",
                                 "--print_argv", "--", *overrides], {0: None, 2: ("stderr", "hat.py: error: ")}),
        "argparse_to_yaml.py --check": ([str(REPO / "argparse_to_yaml.py"), "--script", "train.py", "--check",
                                         "c.yaml"], {0: None, 1: ("stdout", "c.yaml: "),
                                                     2: ("stderr", "argparse_to_yaml.py: error: ")}),
    }
    results = []
    for name, (args, refusals) in commands.items():
        done = subprocess.run([sys.executable, *args], cwd=folder, env=env, capture_output=True, timeout=120)
        out, err = (stream.decode("utf-8", "replace") for stream in (done.stdout, done.stderr))
        if "Traceback" in out + err or done.returncode not in refusals:
            results.append((name, "traceback", f"exit {done.returncode}: {err[-300:]!r}"))
        elif done.returncode == 0:
            accepted = name == "argparse_to_yaml.py --check" or all(isinstance(a, str) for a in json.loads(out))
            results.append((name, "accepted" if accepted else "traceback", out[:200]))
        else:
            stream, prefix = refusals[done.returncode]
            lines = [line for line in (err if stream == "stderr" else out).splitlines() if ": warning: " not in line]
            named = lines and all(line.startswith(prefix) and
                                  fuzz.names_the_problem(line[len(prefix):], Path("c.yaml"), keys) for line in lines)
            results.append((name, "refused" if named else "unnamed", repr(lines[:2])[:300]))
        cache = folder / "home" / "clearml-cache"
        if cache.exists() and any(cache.iterdir()):
            results.append((name, "session", str(cache)))
    return results


def main() -> int:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="hat-fuzz-") as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        inputs = generate(args.inputs, args.seed, for_a_command_line=False)
        counts, problems = in_process(inputs, root)
        library_seconds = time.perf_counter() - started
        distinct = len({repr(item) for item in inputs})

        started = time.perf_counter()
        commands = generate(args.commands, args.seed, for_a_command_line=True) if args.commands else []
        with ThreadPoolExecutor(max_workers=max(args.jobs, 1)) as pool:
            for results in pool.map(lambda pair: through_commands(pair[0], pair[1], root), enumerate(commands)):
                for name, outcome, detail in results:
                    counts[name, outcome] += 1
                    if outcome in ("traceback", "unnamed", "session"):
                        problems.append(f"{name}: {outcome}: {detail}")
        command_seconds = time.perf_counter() - started

    print(f"seed {args.seed}: {len(inputs)} inputs in-process ({distinct} distinct), {library_seconds:.1f} s; "
          f"{len(commands)} through both commands, {command_seconds:.1f} s")
    print(f"{'path':30} {'tried':>6} {'accepted':>9} {'refused':>8} {'unnamed':>8} {'traceback':>10} {'session':>8}")
    for name in ("print_argv", "check", "hat.py --print_argv", "argparse_to_yaml.py --check"):
        row = [counts[name, outcome] for outcome in ("accepted", "refused", "unnamed", "traceback", "session")]
        tried = sum(row[:4])
        if tried:
            print(f"{name:30} {tried:6} {row[0]:9} {row[1]:8} {row[2]:8} {row[3]:10} {row[4]:8}")
    bad = sum(counts[key] for key in counts if key[1] in ("traceback", "unnamed", "session"))
    tracebacks = sum(counts[key] for key in counts if key[1] == "traceback")
    print(f"tracebacks found: {tracebacks}; refusals naming nothing: "
          f"{sum(counts[k] for k in counts if k[1] == 'unnamed')}; ClearML sessions created: "
          f"{sum(counts[k] for k in counts if k[1] == 'session')}")
    for line in problems[:20]:
        print("  " + line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
