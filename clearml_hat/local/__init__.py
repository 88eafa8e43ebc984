"""Running the training on this machine: in this process (training.py), as torchrun ranks (distributed.py,
torchrun_ranks.py, rank.py), with its printed lines read as scalars (printed_metrics.py, metrics.py); repo.py
finds the repo root the training imports from.
"""
