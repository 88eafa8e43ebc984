"""What each rank runs when the hat starts torchrun (distributed.py): attach to the task, train, hand back.

    python -m torch.distributed.run --nproc_per_node 2 ... -m clearml_hat.local.rank RESULT_FILE SCRIPT ARGV...

The argv is the one the launching hat built and connected, so every rank trains with the task's values (web-UI
edits included) without reading the YAML or the parser again. With a ClearML server the rank attaches to the
launcher's task (CLEARML_TASK_ID), so ClearML's framework bindings in the rank (torch.save, TensorBoard) report
to it; offline no rank records anything itself: the launcher's session has the values, the log and the result.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import List, Optional

from clearml_hat.clearml import dist_tracking, tracking
from clearml_hat.local.distributed import write_result
from clearml_hat.local.training import main_takes_argv, run_training


def main(argv: Optional[List[str]] = None) -> int:
    result_file, script, *train_argv = sys.argv[1:] if argv is None else argv
    calls_main = main_takes_argv(Path(script).read_text(encoding="utf-8"))  # before ClearML's threads start
    if tracking.running_under_agent():  # the launcher put its task id here (clearml-agent did, on an agent)
        dist_tracking.attach_rank()
    result = run_training(Path(script), train_argv, calls_main)
    if os.environ.get("RANK") == "0":
        write_result(Path(result_file), result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
