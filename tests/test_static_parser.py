"""read_parser: the fallback parser read from a script's add_argument lines, exact or refusing the key."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from clearml_hat.config.argparser.argv import build_argv
from clearml_hat.config.argparser.static_parser import read_parser
from clearml_hat.errors import HatError


def script(tmp_path: Path, source: str) -> Path:
    path = tmp_path / "main.py"
    path.write_text(textwrap.dedent(source))
    return path


def test_literal_options_keep_spelling_action_and_type(tmp_path):
    parser = read_parser(script(tmp_path, """
        import argparse
        parser = argparse.ArgumentParser()
        parser.add_argument('--batch-size', type=int, default=64)
        parser.add_argument('--no_aux_loss', dest='aux_loss', action='store_false')
        parser.add_argument('--lr', default=0.1, type=float)
        parser.add_argument('--img', nargs=2, type=int, default=[16, 16])
    """))
    assert parser.unreadable == {}
    argv = build_argv(parser, {"batch_size": 8, "aux_loss": False, "lr": 0.2, "img": [8, 4]})
    assert argv == ["--batch-size", "8", "--no_aux_loss", "--lr", "0.2", "--img", "8", "4"]


def test_custom_type_makes_the_key_unreadable_and_a_value_for_it_a_problem(tmp_path):
    parser = read_parser(script(tmp_path, """
        import argparse
        def str2bool(v): return v.lower() in ('yes', 'true')
        parser = argparse.ArgumentParser()
        parser.add_argument('--amp', type=str2bool, default=False)
        parser.add_argument('--lr', type=float, default=0.1)
    """))
    assert "amp" in parser.unreadable and "lr" not in parser.unreadable
    assert parser.problems({"amp": None, "lr": 0.2}) == []
    [problem] = parser.problems({"amp": True, "lr": 0.2})
    assert problem.startswith("amp: main.py stops before its parser, and its add_argument on line 5 has "
                              "type=str2bool, a function of its own")


def test_computed_default_of_a_value_option_is_left_out_so_the_value_is_written(tmp_path):
    parser = read_parser(script(tmp_path, """
        import argparse, os
        parser = argparse.ArgumentParser()
        parser.add_argument('--workers', type=int, default=os.cpu_count())
    """))
    assert parser.unreadable == {}
    assert build_argv(parser, {"workers": 4}) == ["--workers", "4"]
    assert build_argv(parser, {"workers": None}) == []


def test_computed_default_of_a_flag_is_unreadable(tmp_path):
    parser = read_parser(script(tmp_path, """
        import argparse, torch
        parser = argparse.ArgumentParser()
        parser.add_argument('--cuda', action='store_true', default=torch.cuda.is_available())
    """))
    assert "computed default= of a flag" in parser.unreadable["cuda"]


def test_literal_set_defaults_apply_and_a_computed_one_makes_every_key_unreadable(tmp_path):
    parser = read_parser(script(tmp_path, """
        import argparse
        parser = argparse.ArgumentParser()
        parser.add_argument('--pin_mem', action='store_true')
        parser.set_defaults(pin_mem=True)
    """))
    assert parser.get_default("pin_mem") is True  # as the script's own parser has it
    assert build_argv(parser, {"pin_mem": True}) == []
    with pytest.raises(HatError, match="pin_mem: False cannot be given"):  # left out, the script would get True
        build_argv(parser, {"pin_mem": False})
    computed = read_parser(script(tmp_path, """
        import argparse, yaml
        parser = argparse.ArgumentParser()
        parser.add_argument('--lr', type=float, default=0.1)
        parser.set_defaults(**yaml.safe_load(open('cfg.yaml')))
        parser.add_argument('--epochs', type=int, default=3)
    """))
    assert set(computed.unreadable) == {"lr", "epochs"}
    assert "set_defaults on line 5 may change any default" in computed.unreadable["lr"]


def test_subcommands_are_not_read(tmp_path):
    assert read_parser(script(tmp_path, """
        import argparse
        parser = argparse.ArgumentParser()
        sub = parser.add_subparsers()
        sub.add_parser('train').add_argument('--lr')
    """)) is None


@pytest.mark.parametrize("keyword", ["nargs=NARGS", "action=MyAction", "**extra"])
def test_computed_nargs_custom_action_or_kwargs_are_unreadable(tmp_path, keyword):
    parser = read_parser(script(tmp_path, f"""
        import argparse
        parser = argparse.ArgumentParser()
        parser.add_argument('--x', {keyword})
    """))
    assert "x" in parser.unreadable
