"""How the hat runs a training script: main(argv) for the seed's form, otherwise the script as __main__."""
import ast
import json
import sys
import textwrap

import pytest

from clearml_hat.config.job import job_from_yaml
from clearml_hat.local import rank
from clearml_hat.local.training import main_takes_argv, run_training


@pytest.mark.parametrize(
    "source",
    [
        "def main(args=None):\n    a = parser.parse_args(args)\n",
        "def main(argv=None):\n    a = parser.parse_known_args(args=argv)[0]\n",
        "def main(args):\n    opt = parse_opt(args)\n",
    ],
)
def test_main_that_hands_its_argument_to_a_parser_takes_argv(source):
    assert main_takes_argv(source)


@pytest.mark.parametrize(
    "source",
    [
        "def main():\n    a = parser.parse_args()\n",
        "def main(args):\n    train(args.lr)\n",
        "def main(cfg=None):\n    a = parser.parse_args()\n    run(cfg)\n",
        "def train(args=None):\n    parser.parse_args(args)\n",
        "x = 1\n",
    ],
)
def test_other_mains_do_not_take_argv(source):
    assert not main_takes_argv(source)


def write(tmp_path, name, source):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


def test_main_argv_form_is_called_with_argv_and_its_return_comes_back(tmp_path):
    script = write(tmp_path, "train_a.py", """
        import argparse
        def main(args=None):
            parser = argparse.ArgumentParser()
            parser.add_argument("--n", type=int)
            return parser.parse_args(args).n * 2
        if __name__ == "__main__":
            raise SystemExit("the __main__ block must not run")
    """)
    assert train(script, ["--n", "21"]) == 42


def test_plain_script_runs_as_main_with_sys_argv(tmp_path):
    out = tmp_path / "argv.txt"
    script = write(tmp_path, "train_b.py", f"""
        import sys
        if __name__ == "__main__":
            open({str(out)!r}, "w").write(" ".join(sys.argv[1:]))
    """)
    saved = list(sys.argv)
    assert train(script, ["--lr", "0.1"]) is None
    assert out.read_text() == "--lr 0.1"
    assert sys.argv == saved


def test_script_folder_is_importable_during_training(tmp_path):
    write(tmp_path, "helper_mod_xyz.py", "VALUE = 7\n")
    script = write(tmp_path, "train_c.py", """
        def main(args=None):
            import helper_mod_xyz
            return helper_mod_xyz.VALUE + len(parse_args(args))
        def parse_args(args):
            return args
    """)
    assert train(script, ["a"]) == 8
    assert str(tmp_path) not in sys.path


def test_exit_code_of_training_passes_through(tmp_path):
    script = write(tmp_path, "train_d.py", "import sys\nsys.exit(3)\n")
    with pytest.raises(SystemExit) as exit_info:
        train(script, [])
    assert exit_info.value.code == 3


def test_a_successful_sys_exit_ends_the_training_normally(tmp_path):
    # click's standalone mode and absl's app.run end with sys.exit(0); the hat still reports and closes the task.
    script = write(tmp_path, "train_e.py", "import sys\nprint('trained')\nsys.exit(0)\n")
    assert train(script, []) is None


def train(script, argv):
    return run_training(script, argv, main_takes_argv(script.read_text()))


def parsing_fails(*args, **kwargs):
    raise SystemError("AST constructor recursion depth mismatch (before=30, after=24)")


MAIN_ARGV_SCRIPT = """
    import argparse
    def main(args=None):
        parser = argparse.ArgumentParser()
        parser.add_argument("--n", type=int, default=1)
        return parser.parse_args(args).n * 2
"""


def test_the_training_starts_without_parsing_python_once_the_task_may_have_started(tmp_path, monkeypatch):
    # Python 3.11's ast.parse in two threads at once fails in either (the SystemError above, seen in CI); ClearML's
    # requirements detection parses the repo's files in a thread from Task.init on. The job reads the script before.
    script = write(tmp_path, "train_f.py", MAIN_ARGV_SCRIPT)
    (tmp_path / "config.yaml").write_text("n: 21\n")
    job = job_from_yaml(str(script), str(tmp_path / "config.yaml"))
    with monkeypatch.context() as patch:  # undone before the assert: pytest parses to report a failure
        patch.setattr(ast, "parse", parsing_fails)
        result = job.train(job.argv)
    assert result == 42


def test_a_rank_reads_its_script_before_it_attaches_to_the_task(tmp_path, monkeypatch):
    script = write(tmp_path, "train_g.py", MAIN_ARGV_SCRIPT.replace("return parser", "return {'n2': parser").replace(
        "* 2", "* 2}"))
    monkeypatch.setattr(rank.tracking, "running_under_agent", lambda: True)
    monkeypatch.setenv("RANK", "0")
    with monkeypatch.context() as patch:  # undone before the asserts: pytest parses to report a failure
        patch.setattr(rank.dist_tracking, "attach_rank", lambda: patch.setattr(ast, "parse", parsing_fails))
        code = rank.main([str(tmp_path / "result.json"), str(script), "--n", "4"])
    assert code == 0
    assert json.loads((tmp_path / "result.json").read_text()) == {"values": {"n2": 8}}
