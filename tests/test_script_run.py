"""The one runner of every capture: what a script run leaves behind (config/script_run.py)."""
import argparse
import sys
import textwrap

from clearml_hat.config.script_run import replaced, running_as_main


class Importer:
    """An import hook of an installed package (six.moves adds one when six is imported)."""

    def find_spec(self, fullname, path=None, target=None):
        return None


def test_an_importer_a_package_adds_during_the_run_stays_and_the_stand_ins_go(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent("""
        import sys
        import hat_test_missing_script_run  # stood in
        sys.meta_path.append(IMPORTER)
    """))
    importer = Importer()
    before = list(sys.meta_path)
    try:
        with running_as_main(str(script), stand_ins=True) as run:
            exec(compile(script.read_text(), str(script), "exec"), {**run.module.__dict__, "IMPORTER": importer})
        assert run.finder.modules == ["hat_test_missing_script_run"]
        assert sys.meta_path == before + [importer]
        assert "hat_test_missing_script_run" not in sys.modules
    finally:
        if importer in sys.meta_path:
            sys.meta_path.remove(importer)


def test_a_replaced_method_goes_back_as_it_was_also_when_it_was_only_inherited():
    class Parser(argparse.ArgumentParser):
        pass

    def reach(*args, **kwargs):
        raise AssertionError("not called")

    own = argparse.ArgumentParser.__dict__["parse_args"]
    with replaced([(argparse.ArgumentParser, "parse_args", reach), (Parser, "print_help", reach)]):
        assert Parser.parse_args is reach and Parser.print_help is reach
    assert argparse.ArgumentParser.__dict__["parse_args"] is own
    assert "print_help" not in Parser.__dict__
