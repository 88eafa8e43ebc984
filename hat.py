"""Run a plain argparse training script under ClearML, with config.yaml as the one source of truth.

    python hat.py                                   # config.yaml -> train_aip.py, tracked (offline without a server)
    python hat.py --train_yaml config.yaml epochs=5 lr=0.05
    python hat.py --print_argv                      # show the argv the training would get, touch nothing
    python hat.py --remote --queue compute          # enqueue on a clearml-agent queue instead of training here
    python hat.py --s3 --dataset_name cats          # train on a ClearML Dataset's cached local copy

This is `clearml-hat run` (clearml_hat/run.py says what a run does). Under clearml-agent, `python hat.py` runs
with no arguments: its settings and values come from the task itself.
"""
import sys

from clearml_hat.cli import script_main

if __name__ == "__main__":
    sys.exit(script_main("run", "hat.py", description="Run a training script under ClearML with the values of a "
                                                      "YAML file; trailing key=value pairs change them for this run."))
