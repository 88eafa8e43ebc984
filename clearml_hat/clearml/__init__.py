"""The ClearML layer: every call into the clearml SDK lives here (tracking.py for a run's task, datasets.py,
sweep.py, dist_tracking.py; sdk_private.py holds the bets on private SDK attributes), with what is stored on a
task (settings.py) and what a remote run needs (preflight.py, requirements.py). clearml is imported inside
functions only, so commands that never track pay nothing for it.
"""
