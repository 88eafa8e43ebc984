"""The SIGTERM guard itself (clearml_hat/local/terminate.py), in fresh processes: the two ways a SIGTERM under
ClearML failed to stop a training (1 run in 10 of tests/test_stop_signals.py with clearml 1.16.3), each made
deterministic here."""
from __future__ import annotations

import subprocess
import sys
import textwrap
import time
import types

import pytest

from clearml_hat.local import terminate
from tests.conftest import REPO

# The signal lands on a thread other than the main one (the kernel may pick any thread of the process; ClearML runs
# several) while the main thread sleeps: Python alone would run the handler only when the sleep ends.
SIGNAL_ON_ANOTHER_THREAD = """
import signal, threading, time
from clearml_hat.local import terminate

def signal_this_thread():
    time.sleep(0.3)
    signal.pthread_kill(threading.get_ident(), signal.SIGTERM)

started = time.monotonic()
try:
    with terminate.raises_on_sigterm():
        threading.Thread(target=signal_this_thread).start()
        time.sleep(60)
except terminate.Terminated:
    print(f"terminated after {time.monotonic() - started:.1f} s")
print("handler back:", signal.getsignal(signal.SIGTERM) == signal.SIG_DFL)
print("wakeup fd back:", signal.set_wakeup_fd(-1))
"""


def test_a_sigterm_taken_by_another_thread_stops_a_sleeping_main_thread():
    done = subprocess.run([sys.executable, "-c", SIGNAL_ON_ANOTHER_THREAD], cwd=REPO, capture_output=True,
                          text=True, timeout=50)
    lines = done.stdout.splitlines()
    assert lines[0].startswith("terminated after "), done.stdout + done.stderr
    assert float(lines[0].split()[2]) < 10  # the sleep would go on for 60 s
    assert lines[1:] == ["handler back: True", "wakeup fd back: -1"]


def frame_in(package_file: str):
    """A frame whose code belongs to the file named, as if ClearML's code were running."""
    code = compile("import sys\nframe = sys._getframe()", package_file, "exec")
    namespace: dict = {}
    exec(code, namespace)
    return namespace["frame"]


@pytest.fixture
def fake_clearml(tmp_path, monkeypatch):
    package = tmp_path / "clearml"
    package.mkdir()
    (package / "__init__.py").write_text("")
    module = types.ModuleType("clearml")
    module.__file__ = str(package / "__init__.py")
    monkeypatch.setitem(sys.modules, "clearml", module)
    return package


def test_inside_clearml_looks_at_the_callers_too(fake_clearml, tmp_path):
    assert terminate.inside_clearml(frame_in(str(fake_clearml / "utilities" / "mp.py")))
    assert not terminate.inside_clearml(frame_in(str(tmp_path / "train.py")))
    assert not terminate.inside_clearml(sys._getframe())


def test_a_sigterm_inside_clearml_waits_for_its_code_to_return_then_raises(fake_clearml, tmp_path, monkeypatch):
    sigterm = terminate._Sigterm()
    in_clearml = frame_in(str(fake_clearml / "backend_interface" / "logger.py"))
    assert sigterm.handle(15, in_clearml) is None  # deferred: ClearML may hold its console lock here
    assert sigterm.pending()
    with pytest.raises(terminate.Terminated):
        sigterm.handle(15, frame_in(str(tmp_path / "train.py")))
    assert not sigterm.pending()


def test_a_sigterm_deferred_too_long_is_raised_even_inside_clearml(fake_clearml, monkeypatch):
    sigterm = terminate._Sigterm()
    in_clearml = frame_in(str(fake_clearml / "task.py"))
    sigterm.handle(15, in_clearml)
    assert sigterm.requested_at is not None
    monkeypatch.setattr(time, "monotonic", lambda: sigterm.requested_at + terminate.DEFER_AT_MOST + 1)
    with pytest.raises(terminate.Terminated):
        sigterm.handle(15, in_clearml)


# A SIGTERM deferred inside ClearML's code whose redelivery has not come when the block ends: the training is still
# stopped (a bare script would have died), not reported as completed.
BLOCK_ENDS_WHILE_DEFERRED = """
import signal
from clearml_hat.local import terminate

try:
    with terminate.raises_on_sigterm():
        terminate.inside_clearml = lambda frame: True
        signal.raise_signal(signal.SIGTERM)
        terminate.inside_clearml = lambda frame: False
except terminate.Terminated:
    print("terminated")
else:
    print("completed")
"""


def test_a_block_that_ends_with_a_deferred_sigterm_raises_it():
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(BLOCK_ENDS_WHILE_DEFERRED)], cwd=REPO,
                          capture_output=True, text=True, timeout=50)
    assert done.stdout.splitlines() == ["terminated"], done.stdout + done.stderr
