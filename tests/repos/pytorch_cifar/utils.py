"""Helpers (in the shape of pytorch-cifar's utils.py): asks the terminal for its width at import."""
import os
import sys
import time

_, term_width = os.popen('stty size', 'r').read().split()
term_width = int(term_width)

TOTAL_BAR_LENGTH = 65.
last_time = time.time()
begin_time = last_time


def progress_bar(current, total, msg=None):
    sys.stdout.write(f" [{current + 1}/{total}] {msg or ''}\n")
