"""Capture up to a config system's entry call (clearml_hat/config/entry_capture.py, used by the fire and absl
backends): the call's arguments come back, the training after it never runs, and everything the script changed on
the way is put back; a script that fails or ends before the call is one line naming where."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from clearml_hat.config.entry_capture import run_until_call
from clearml_hat.errors import HatError

SCRIPT = """
import json, os, sys
import helper_mod_entry
os.environ["SET_BY_SCRIPT"] = "1"
sys.argv.append("--extra")
os.chdir(os.path.dirname(os.path.abspath(__file__)) + "/sub")
def main(lr=0.1):
    raise SystemExit("the training must not run")
if __name__ == "__main__":
    json.dumps(main, indent=helper_mod_entry.INDENT)
    raise SystemExit("nothing after the call runs")
"""


def test_the_call_comes_back_and_what_the_script_changed_is_put_back(tmp_path, monkeypatch):
    (tmp_path / "sub").mkdir()
    (tmp_path / "helper_mod_entry.py").write_text("INDENT = 2\n")
    (tmp_path / "train.py").write_text(SCRIPT)
    monkeypatch.chdir(tmp_path)
    argv, path, dumps = list(sys.argv), list(sys.path), json.dumps
    called = run_until_call(tmp_path / "train.py", [(json, "dumps")], "json.dumps")
    assert called.args[0].__name__ == "main" and called.kwargs == {"indent": 2}
    assert json.dumps is dumps and (sys.argv, sys.path) == (argv, path)
    assert os.getcwd() == str(tmp_path) and "SET_BY_SCRIPT" not in os.environ
    assert "helper_mod_entry" not in sys.modules, "the repo's own modules are imported afresh by the real run"


@pytest.mark.parametrize("body, message", [
    ("x = 1\nraise ValueError('no data')\n", "train.py:2 raised ValueError: no data before json.dumps(); fix that "
                                               "so `python train.py --help` works"),
    ("x = 1\n", "train.py ran to its end without calling json.dumps(); call it from `if __name__ == '__main__':` "
                "so the hat can read the options"),
    ("import hat_test_missing_entry\n", "train.py imports 'hat_test_missing_entry', which is not installed here; "
                                        "install it (pip install hat_test_missing_entry) so `python train.py --help` "
                                        "works"),
])
def test_a_script_that_stops_before_the_call_is_named_in_one_line(tmp_path, monkeypatch, body, message):
    (tmp_path / "train.py").write_text(body)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(HatError) as error:
        run_until_call(Path("train.py"), [(json, "dumps")], "json.dumps")
    assert str(error.value) == message
