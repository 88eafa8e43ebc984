"""How long a large dataset upload takes with the hat, beside ClearML's own `clearml-data` CLI on the same folder.

    python benchmarks/dataset_upload.py                          # 2000 files, 200 MB in total
    python benchmarks/dataset_upload.py --files 200 --megabytes 20   # a quick run
    python benchmarks/dataset_upload.py --rounds 3               # median of 3 rounds, the tools' order alternating

It writes a folder of random files (a fixed seed), starts moto's S3 server on 127.0.0.1 and the ClearML API
stand-in (tests/clearml_standin.py) in this process, and writes a clearml.conf that names the S3 store the way a
MinIO is configured, under a temporary HOME with its own ClearML cache: your clearml.conf and ~/.clearml are never
read or written. Then, in the same run and against the same servers, it times (wall clock, each a fresh process):

- hat: `python data/upload_dataset_to_s3.py --path F --output_url s3://127.0.0.1:PORT/bench/hat` (a new dataset)
- clearml-data: `clearml-data create --project P --name N --storage s3://...`, `clearml-data add --files F`,
  `clearml-data close`, its own dataset in the same project
- hat again on the unchanged folder: it must create nothing

Every process runs under tests/open_counter.py (an audit hook that counts opens per file of the folder), so the
table also says how often each file was opened and by what. Both tools compress the folder into one zip chunk
(random bytes: the chunk is as large as the folder; clearml-data close asks for a single chunk, the hat's 512 MB
default holds 200 MB). clearml-data also reports ClearML's dataset preview, which the hat leaves out; for these
.bin files it opens none of them. Needs moto[server] and boto3.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Dict, List, Tuple

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # `python benchmarks/dataset_upload.py` puts benchmarks/ first, not the repo root

from tests.clearml_standin import ApiStandIn  # noqa: E402

BUCKET = "bench"
PROJECT = "datasets/bench"
COUNTER = REPO / "tests" / "open_counter.py"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Time a dataset upload with the hat and with clearml-data.")
    parser.add_argument("--files", type=int, default=2000, help="number of files in the folder (default 2000)")
    parser.add_argument("--megabytes", type=float, default=200, help="their total size in MB (default 200)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random file contents (default 0)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="times to run every case, each on a new dataset; the table gives the median (default 1)")
    return parser.parse_args()


def make_folder(folder: Path, files: int, total_bytes: int, seed: int) -> None:
    """`files` files of random bytes in 10 subfolders, `total_bytes` in all."""
    rng = random.Random(seed)
    size, extra = divmod(total_bytes, files)
    for index in range(files):
        length = size + (index < extra)
        path = folder / f"part{index % 10}" / f"file_{index:05d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rng.getrandbits(8 * length).to_bytes(length, "little") if length else b"")


def start_s3() -> Tuple[object, str]:
    """moto's S3 on a free port of 127.0.0.1 with one bucket; any key and secret are accepted."""
    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # verbose=False still logs every request on stderr
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host = "{}:{}".format(*server.get_host_and_port())
    boto3.client("s3", endpoint_url=f"http://{host}", region_name="us-east-1", aws_access_key_id="bench",
                 aws_secret_access_key="bench").create_bucket(Bucket=BUCKET)
    return server, host


def s3_conf(host: str) -> str:
    # As the tests and the README configure a MinIO: a credentials entry whose host matches the URLs' host.
    return (f'aws {{ s3 {{ credentials: [ {{ host: "{host}", key: "bench", secret: "bench", secure: false, '
            "multipart: false } ] } }")


def run_counted(name: str, command: List[str], folder: Path, env: Dict[str, str], work: Path) -> Tuple[float, dict]:
    """Run `python tests/open_counter.py ... command` from the repo root: wall seconds and opens per file."""
    counts = work / f"opens-{name.replace(' ', '_')}.json"
    start = time.perf_counter()
    done = subprocess.run([sys.executable, str(COUNTER), str(counts), str(folder), *command], cwd=REPO, env=env,
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{name} failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
    return elapsed, json.loads(counts.read_text())


def describe_opens(opens: dict, files: int) -> str:
    """'2 per file (pathlib.py:open 1, zipfile.py:write 1)' or, when files differ, the spread."""
    if not opens:
        return "0"
    per_file = Counter(sum(by.values()) for by in opens.values())
    per_file[0] += files - len(opens)
    spread = ", ".join(f"{n} opens: {count} files" for n, count in sorted(per_file.items()) if count)
    openers: Counter = Counter()
    for by in opens.values():
        openers.update(by)
    if len([n for n, count in per_file.items() if count]) == 1:
        (n,) = [n for n, count in per_file.items() if count]
        mix = ", ".join(f"{opener} {total / files:g}" for opener, total in sorted(openers.items()))
        return f"{n} per file ({mix})"
    return spread


def main() -> None:
    args = parse_args()
    total = int(args.megabytes * 1_000_000)
    times: Dict[str, List[float]] = {}
    opens: Dict[str, dict] = {}  # of the last round
    created_by_unchanged: List[str] = []
    with tempfile.TemporaryDirectory(prefix="hat-bench-") as tmp, ApiStandIn() as standin:
        work = Path(tmp)
        folder = work / "data"
        make_folder(folder, args.files, total, args.seed)
        s3, host = start_s3()
        try:
            home = work / "home"
            home.mkdir()
            conf = work / "clearml.conf"
            conf.write_text(standin.clearml_conf(s3_conf(host)))
            env = {k: v for k, v in os.environ.items() if not k.startswith(("CLEARML_", "TRAINS_", "AWS_"))}
            env.update(HOME=str(home), CLEARML_CONFIG_FILE=str(conf), CLEARML_CACHE_DIR=str(work / "cache"))
            storage = f"s3://{host}/{BUCKET}"
            cli = ["-m", "clearml.cli.data"]  # what the clearml-data command runs (its entry point's module)

            def timed(name: str, command: List[str]) -> None:
                seconds, opens[name] = run_counted(name, command, folder, env, work)
                times.setdefault(name, []).append(seconds)

            for round_ in range(args.rounds):
                # A new dataset of each kind per round; the hat goes first in even rounds, clearml-data in odd ones.
                hat = ["data/upload_dataset_to_s3.py", "--path", str(folder), "--dataset_name", f"bench-hat-{round_}",
                       "--dataset_project", PROJECT, "--output_url", f"{storage}/hat"]
                for tool in (("hat", "cli") if round_ % 2 == 0 else ("cli", "hat")):
                    if tool == "hat":
                        timed("hat upload", hat)
                        continue
                    timed("clearml-data create", [*cli, "create", "--project", PROJECT, "--name", f"bench-cli-{round_}",
                                                  "--storage", f"{storage}/cli"])
                    timed("clearml-data add", [*cli, "add", "--files", str(folder)])
                    timed("clearml-data close", [*cli, "close"])
                before = len(standin.requests)
                timed("hat re-upload, unchanged", hat)
                created_by_unchanged += [e for e, _ in standin.requests[before:] if e == "tasks.create"]
        finally:
            s3.stop()
        if standin.unimplemented:
            sys.exit(f"the SDK called endpoints the stand-in lacks: {sorted(set(standin.unimplemented))}")

    cli_steps = [name for name in times if name.startswith("clearml-data")]
    times["clearml-data, 3 commands"] = [sum(step) for step in zip(*(times[name] for name in cli_steps))]
    print(f"{args.files} files, {total / 1e6:g} MB of random bytes (seed {args.seed}), {os.cpu_count()} cores, "
          f"{args.rounds} round(s); moto S3 and the ClearML stand-in on 127.0.0.1")
    print(f"{'case':<28}{'median s':>9}{'min-max s':>14}   opens of each file of the folder")
    for name, values in times.items():
        spread = f"{min(values):.2f}-{max(values):.2f}"
        print(f"{name:<28}{statistics.median(values):>9.2f}{spread:>14}   "
              f"{describe_opens(opens[name], args.files) if name in opens else ''}")
    datasets = [t for t in standin.tasks() if t["type"] == "data_processing"]
    states = Counter(t["status"] for t in datasets)
    print(f"afterwards: {len(standin.tasks())} tasks, {len(datasets)} datasets "
          f"({', '.join(f'{n} {status}' for status, n in sorted(states.items()))}); "
          f"the unchanged re-uploads created {len(created_by_unchanged)} tasks")


if __name__ == "__main__":
    main()
