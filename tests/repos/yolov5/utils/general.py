"""General utils, import-time work included (in the shape of yolov5's utils/general.py)."""
import logging
import os
import platform
from pathlib import Path

import cv2
import numpy as np
import packaging
import pandas as pd
import torch
import torchvision

FILE = Path(__file__).resolve()
ROOT = FILE.parents[1]
NUM_THREADS = min(8, max(1, os.cpu_count() - 1))
LOGGING_NAME = "yolov5"

torch.set_printoptions(linewidth=320, precision=5, profile="long")
np.set_printoptions(linewidth=320, formatter={"float_kind": "{:11.5g}".format})
pd.options.display.max_columns = 10
cv2.setNumThreads(0)
os.environ["NUMEXPR_MAX_THREADS"] = str(NUM_THREADS)
# torch (or torchvision) imports packaging.version first on a machine that has them.
TORCH_1_9 = packaging.version.parse(str(torch.__version__).split("+")[0]) >= packaging.version.parse("1.9.0")
LOGGER = logging.getLogger(LOGGING_NAME)


def colorstr(*parts):
    return parts[-1]


def increment_path(path, exist_ok=False):
    return Path(path)


def check_requirements(requirements=ROOT / "requirements.txt"):
    return platform.system()
