"""capture_parser: the parser comes out of many script shapes, training never runs, and nothing is left behind.

These tests are a laptop without torch: torch is hidden even where it is installed (tests/missing_modules.py).
tests/test_capture_torch.py runs capture with torch really installed.
"""
from __future__ import annotations

import argparse
import os
import sys
import textwrap
import warnings

import pytest

from clearml_hat.config.argparser.capture import ParserNotReached, capture, capture_parser
from clearml_hat.config.argparser.stand_ins import is_stand_in, stand_in_origin
from clearml_hat.errors import HatError
from tests.missing_modules import hidden


@pytest.fixture(autouse=True)
def no_torch():
    with hidden("torch", "torchvision"):
        yield


def write(folder, source: str, name: str = "train.py") -> str:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source))
    return str(path)


def dests(parser: argparse.ArgumentParser) -> set[str]:
    return {action.dest for action in parser._actions} - {"help"}


def test_module_level_parser(tmp_path):
    script = write(tmp_path, """
        import argparse
        parser = argparse.ArgumentParser(description='demo')
        parser.add_argument('--lr', type=float, default=0.1)
        args = parser.parse_args()
    """)
    parser = capture_parser(script)
    assert parser.description == "demo"
    assert parser.get_default("lr") == 0.1


def test_parser_under_main_guard(tmp_path):
    script = write(tmp_path, """
        from argparse import ArgumentParser
        if __name__ == '__main__':
            parser = ArgumentParser()
            parser.add_argument('--epochs', type=int, default=3)
            parser.parse_args()
    """)
    assert capture_parser(script).get_default("epochs") == 3


def test_parser_in_main_with_args_none(tmp_path):
    script = write(tmp_path, """
        import argparse, sys
        def main(args=None):
            parser = argparse.ArgumentParser()
            parser.add_argument('--batch-size', type=int, default=64)
            opts = parser.parse_args(args)
            raise RuntimeError('training ran')
        if __name__ == '__main__':
            sys.exit(main())
    """)
    assert capture_parser(script).get_default("batch_size") == 64


def test_yolov5_style_parse_opt_known_false(tmp_path):
    script = write(tmp_path, """
        import argparse
        def parse_opt(known=False):
            parser = argparse.ArgumentParser()
            parser.add_argument('--weights', type=str, default='yolov5s.pt')
            return parser.parse_known_args()[0] if known else parser.parse_args()
        def run(**kwargs):
            opt = parse_opt(True)
        if __name__ == '__main__':
            opt = parse_opt()
            raise RuntimeError('training ran')
    """)
    assert capture_parser(script).get_default("weights") == "yolov5s.pt"


def test_yolov5_style_parse_opt_known_true_is_captured_too(tmp_path):
    script = write(tmp_path, """
        import argparse
        def parse_opt(known=False):
            parser = argparse.ArgumentParser()
            parser.add_argument('--weights', type=str, default='yolov5s.pt')
            return parser.parse_known_args()[0] if known else parser.parse_args()
        opt = parse_opt(True)
        raise RuntimeError('training ran')
    """)
    assert capture_parser(script).get_default("weights") == "yolov5s.pt"


def test_detr_style_get_args_parser_as_parent(tmp_path):
    script = write(tmp_path, """
        import argparse
        def get_args_parser():
            parser = argparse.ArgumentParser('Set transformer detector', add_help=False)
            parser.add_argument('--lr', default=1e-4, type=float)
            parser.add_argument('--aux_loss', dest='aux_loss', action='store_false')
            return parser
        def main(args):
            raise RuntimeError('training ran')
        if __name__ == '__main__':
            parser = argparse.ArgumentParser('DETR training', parents=[get_args_parser()])
            args = parser.parse_args()
            main(args)
    """)
    parser = capture_parser(script)
    assert parser.prog == "DETR training"
    assert parser.get_default("lr") == 1e-4
    assert parser.get_default("aux_loss") is True


def test_add_help_false_main_parser_is_captured(tmp_path):
    script = write(tmp_path, """
        import argparse
        parser = argparse.ArgumentParser(add_help=False)
        parser.add_argument('-h', '--height', type=int, default=32)
        args, unknown = parser.parse_known_args()
        open('trained.txt', 'w').write('training ran')
    """)
    parser = capture_parser(script)
    assert parser.get_default("height") == 32
    assert not (tmp_path / "trained.txt").exists()


def test_argument_and_mutually_exclusive_groups(tmp_path):
    script = write(tmp_path, """
        import argparse
        parser = argparse.ArgumentParser()
        optim = parser.add_argument_group('optimizer')
        optim.add_argument('--momentum', type=float, default=0.9)
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument('--train', action='store_true')
        mode.add_argument('--eval', action='store_true')
        parser.parse_args()
    """)
    parser = capture_parser(script)
    assert {"momentum", "train", "eval"} <= dests(parser)
    assert len(parser._mutually_exclusive_groups) == 1


def test_set_defaults(tmp_path):
    script = write(tmp_path, """
        import argparse
        parser = argparse.ArgumentParser()
        parser.add_argument('--seed', type=int, default=0)
        parser.set_defaults(seed=42, extra='x')
        parser.parse_args()
    """)
    parser = capture_parser(script)
    assert parser.get_default("seed") == 42
    assert parser.get_default("extra") == "x"


def test_subparsers(tmp_path):
    script = write(tmp_path, """
        import argparse
        parser = argparse.ArgumentParser()
        commands = parser.add_subparsers(dest='command')
        fit = commands.add_parser('fit')
        fit.add_argument('--epochs', type=int, default=5)
        commands.add_parser('test')
        parser.parse_args()
    """)
    parser = capture_parser(script)
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert set(subparsers.choices) == {"fit", "test"}
    assert subparsers.choices["fit"].get_default("epochs") == 5


def test_timm_style_pre_parser_then_real_parser(tmp_path):
    script = write(tmp_path, """
        import argparse
        import torch
        from timm.utils import *
        config_parser = parser = argparse.ArgumentParser(description='Training Config', add_help=False)
        parser.add_argument('-c', '--config', default='', type=str)
        parser = argparse.ArgumentParser(description='PyTorch ImageNet Training')
        parser.add_argument('--model', default='resnet50', type=str)
        def _parse_args():
            args_config, remaining = config_parser.parse_known_args()
            if args_config.config:
                raise RuntimeError('no config file was given')
            args = parser.parse_args(remaining)
            return args
        def main():
            setup_default_logging()  # from the star import of the missing timm.utils
            args = _parse_args()
            raise RuntimeError('training ran')
        if __name__ == '__main__':
            main()
    """)
    parser = capture_parser(script)
    assert parser.description == "PyTorch ImageNet Training"
    assert parser.get_default("model") == "resnet50"


def test_version_of_a_missing_module_passes_minimum_checks(tmp_path):
    script = write(tmp_path, """
        import argparse
        import torch
        assert torch.__version__ >= '1.8', 'needs torch 1.8'
        TORCH_1_9 = tuple(int(part) for part in torch.__version__.split('+')[0].split('.')) >= (1, 9)
        parser = argparse.ArgumentParser()
        parser.add_argument('--compile', default=TORCH_1_9)
        parser.parse_args()
    """)
    assert capture_parser(script).get_default("compile") is True


def test_pre_parser_in_its_own_helper(tmp_path):
    script = write(tmp_path, """
        import argparse
        def read_config():
            pre = argparse.ArgumentParser(add_help=False)
            pre.add_argument('--config', default='')
            return pre.parse_known_args()[0]
        def main():
            config = read_config()
            parser = argparse.ArgumentParser(description='real')
            parser.add_argument('--lr', type=float, default=0.5)
            args = parser.parse_args()
            raise RuntimeError('training ran')
        main()
    """)
    assert capture_parser(script).description == "real"


def test_custom_action(tmp_path):
    script = write(tmp_path, """
        import argparse
        class ParseKwargs(argparse.Action):
            def __call__(self, parser, namespace, values, option_string=None):
                setattr(namespace, self.dest, dict(v.split('=') for v in values))
        parser = argparse.ArgumentParser()
        parser.add_argument('--opts', nargs='*', action=ParseKwargs, default={})
        parser.parse_args()
    """)
    parser = capture_parser(script)
    action = next(a for a in parser._actions if a.dest == "opts")
    assert type(action).__name__ == "ParseKwargs"


def test_parse_intermixed_args(tmp_path):
    script = write(tmp_path, """
        import argparse
        parser = argparse.ArgumentParser()
        parser.add_argument('files', nargs='*')
        parser.parse_intermixed_args()
        raise RuntimeError('training ran')
    """)
    assert "files" in dests(capture_parser(script))


def test_missing_imports_become_stand_ins(tmp_path):
    script = write(tmp_path, """
        import argparse
        import cv2
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
        import wandb
        from torch.utils.data import DataLoader
        from utils.general import check_file
        import models.yolo as yolo

        cv2.setNumThreads(0)
        torch.backends.cudnn.benchmark = True

        class Net(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(3, 4)

            def forward(self, x):
                return F.relu(self.fc(x))

        @torch.no_grad()
        def evaluate(model):
            return model(torch.zeros(2, 3)) * 2 + 1

        @torch.jit.script
        def scale(x):
            return x

        with torch.cuda.amp.autocast():
            evaluate(Net())
        for _ in torch.cuda.device_count() * [0]:
            raise RuntimeError('a stand-in iterated')
        DEVICES = list(range(torch.cuda.device_count()))

        def main():
            parser = argparse.ArgumentParser()
            parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
            parser.add_argument('--gpus', type=int, default=torch.cuda.device_count())
            parser.add_argument('--data', default=check_file('coco.yaml'))
            parser.add_argument('--cfg', default=yolo.DEFAULT_CFG)
            parser.add_argument('--workers', type=int, default=len(DEVICES))
            return parser.parse_args()

        if __name__ == '__main__':
            main()
    """)
    captured = capture(script)
    parser = captured.parser
    assert parser.get_default("device") == "cpu"  # stand-ins are falsy: torch.cuda is "not available" here
    assert parser.get_default("workers") == 0
    gpus = parser.get_default("gpus")
    assert is_stand_in(gpus)
    assert stand_in_origin(gpus) == "torch"
    assert repr(gpus) == "<stand-in torch.cuda.device_count()>"
    assert stand_in_origin(parser.get_default("data")) == "utils.general"
    assert stand_in_origin(parser.get_default("cfg")) == "models.yolo"
    assert captured.missing_modules == ("cv2", "models", "torch", "utils", "wandb")


def test_missing_submodule_of_an_installed_package_is_cleaned_up(tmp_path):
    script = write(tmp_path, """
        import argparse
        import json.not_here_sub
        argparse.ArgumentParser().parse_args()
    """)
    assert capture(script).missing_modules == ("json.not_here_sub",)
    import json

    assert "json" in sys.modules and not hasattr(json, "not_here_sub")


def test_parser_subclass_from_a_local_module(tmp_path):
    # HuggingFace style: the script never names ArgumentParser itself and parses through a wrapper method.
    write(tmp_path, """
        import argparse
        class HfArgumentParser(argparse.ArgumentParser):
            def parse_args_into_dataclasses(self):
                namespace, _ = self.parse_known_args()
                return (namespace,)
    """, name="hf.py")
    script = write(tmp_path, """
        from hf import HfArgumentParser
        parser = HfArgumentParser(description='hf')
        parser.add_argument('--output_dir', default='out')
        (training_args,) = parser.parse_args_into_dataclasses()
    """)
    assert capture_parser(script).description == "hf"


def test_missing_submodule_of_a_local_package(tmp_path):
    write(tmp_path, "", name="models/__init__.py")
    write(tmp_path, "SIZES = (1, 2)\n", name="models/common.py")
    script = write(tmp_path, """
        import argparse
        from models.common import SIZES
        import models.yolo as yolo
        parser = argparse.ArgumentParser()
        parser.add_argument('--size', type=int, default=SIZES[-1])
        parser.add_argument('--anchors', default=yolo.ANCHORS)
        parser.parse_args()
    """)
    captured = capture(script)
    assert captured.parser.get_default("size") == 2
    assert stand_in_origin(captured.parser.get_default("anchors")) == "models.yolo"
    assert captured.missing_modules == ("models.yolo",)
    assert "models" not in sys.modules and "models.common" not in sys.modules


def test_stand_ins_in_a_local_module_the_script_imports(tmp_path):
    write(tmp_path, """
        import torch
        DEVICE = torch.device('cuda:0')
    """, name="helpers.py")
    script = write(tmp_path, """
        import argparse
        from helpers import DEVICE
        parser = argparse.ArgumentParser()
        parser.add_argument('--device', default=DEVICE)
        parser.parse_args()
    """)
    assert stand_in_origin(capture_parser(script).get_default("device")) == "torch"
    assert "helpers" not in sys.modules  # it holds stand-ins: a later real run must import it afresh


def test_installed_libraries_keep_their_import_errors(tmp_path, monkeypatch):
    # Only the script's own imports get stand-ins; a library's optional import must fail as usual.
    site_packages = tmp_path / "venv" / "site-packages"
    write(site_packages, """
        try:
            import surely_not_installed_dep
        except ImportError:
            surely_not_installed_dep = None
    """, name="fake_lib.py")
    monkeypatch.syspath_prepend(str(site_packages))
    script = write(tmp_path, """
        import argparse
        import fake_lib
        parser = argparse.ArgumentParser()
        parser.add_argument('--dep', default=fake_lib.surely_not_installed_dep)
        parser.parse_args()
    """)
    assert capture_parser(script).get_default("dep") is None
    assert "fake_lib" in sys.modules  # installed modules stay imported
    del sys.modules["fake_lib"]


def test_training_code_after_the_parse_does_not_run(tmp_path):
    script = write(tmp_path, """
        import argparse, os, pathlib
        marker = pathlib.Path(__file__).with_name('trained.txt')
        parser = argparse.ArgumentParser()
        parser.add_argument('--epochs', type=int, default=1)
        try:
            args = parser.parse_args()
        except Exception:
            pass
        marker.write_text('training ran')
    """)
    capture_parser(script)
    assert not (tmp_path / "trained.txt").exists()


def test_bare_except_around_the_parse_cannot_hide_the_parser(tmp_path):
    script = write(tmp_path, """
        import argparse
        parser = argparse.ArgumentParser(description='swallowed')
        try:
            args = parser.parse_args()
        except:
            args = None
        print(args.lr)
    """)
    assert capture_parser(script).description == "swallowed"


def test_main_under_a_missing_decorator_still_runs(tmp_path):
    script = write(tmp_path, """
        import argparse
        import torch
        from torch.distributed.elastic.multiprocessing.errors import record

        @record
        def main():
            parser = argparse.ArgumentParser(description='decorated')
            return parser.parse_args()

        if __name__ == '__main__':
            main()
    """)
    assert capture_parser(script).description == "decorated"


def test_stand_ins_in_isinstance_containers_and_text(tmp_path):
    script = write(tmp_path, """
        import argparse
        import numpy_not_here as np
        import torch
        parser = argparse.ArgumentParser()
        parser.add_argument('--is-tensor', default=isinstance(3, torch.Tensor))
        parser.add_argument('--mean', default=[0.5, np.float32(0.4)])
        parser.add_argument('--name', default=f'run-{torch.cuda.device_count():03d}')
        parser.add_argument('--dtype', default=torch.float16 if torch.cuda.is_available() else torch.float32)
        parser.parse_args()
    """)
    parser = capture_parser(script)
    assert parser.get_default("is_tensor") is False
    assert is_stand_in(parser.get_default("mean"))
    assert stand_in_origin(parser.get_default("mean")) == "numpy_not_here"
    assert parser.get_default("name") == "run-<stand-in torch.cuda.device_count()>"
    assert repr(parser.get_default("dtype")) == "<stand-in torch.float32>"
    assert not is_stand_in([0.5, "x", {"a": 1}])


def test_action_class_from_a_missing_module(tmp_path):
    script = write(tmp_path, """
        import argparse
        from mmcv import DictAction
        parser = argparse.ArgumentParser()
        parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override config settings')
        parser.parse_args()
    """)
    action = next(a for a in capture_parser(script)._actions if a.dest == "cfg_options")
    assert (action.option_strings, action.nargs, action.help) == (["--cfg-options"], "+", "override config settings")


def test_help_printed_before_parsing_when_argv_is_empty(tmp_path):
    script = write(tmp_path, """
        import argparse, sys
        parser = argparse.ArgumentParser(description='cli')
        parser.add_argument('data')
        if len(sys.argv) == 1:
            parser.print_help(sys.stderr)
            sys.exit(1)
        parser.parse_args()
    """)
    assert capture_parser(script).description == "cli"


def test_parse_inside_asyncio_run(tmp_path):
    script = write(tmp_path, """
        import argparse, asyncio
        async def main():
            parser = argparse.ArgumentParser(description='async')
            parser.parse_args()
            raise RuntimeError('training ran')
        asyncio.run(main())
    """)
    assert capture_parser(script).description == "async"


def test_script_runs_as_main_from_its_folder(tmp_path):
    write(tmp_path, "VALUE = 'local'\n", name="local_config.py")
    script = write(tmp_path, """
        import argparse, sys
        import local_config
        parser = argparse.ArgumentParser()
        parser.add_argument('--name', default=__name__)
        parser.add_argument('--file', default=__file__)
        parser.add_argument('--argv', default=list(sys.argv))
        parser.add_argument('--value', default=local_config.VALUE)
        parser.parse_args()
    """)
    parser = capture_parser(script)
    assert parser.get_default("name") == "__main__"
    assert parser.get_default("file") == script
    assert parser.get_default("argv") == [script]
    assert parser.get_default("value") == "local"


def test_error_script_not_found(tmp_path):
    with pytest.raises(HatError, match="training script not found: .*nope.py"):
        capture_parser(tmp_path / "nope.py")


def test_error_syntax_error_names_file_line_and_column(tmp_path):
    script = write(tmp_path, "import argparse\nx = (1,\ndef f(:\n")
    with pytest.raises(HatError, match=r"train\.py:3:\d+: syntax error") as error:
        capture_parser(script)
    assert "\n" not in str(error.value)


def test_error_no_parser_is_decided_without_running(tmp_path):
    script = write(tmp_path, """
        # no ArgumentParser here: parse_args is only mentioned in this comment
        open('trained.txt', 'w').write('training ran')
    """)
    with pytest.raises(HatError, match="never uses argparse.ArgumentParser"):
        capture_parser(script)
    assert not (tmp_path / "trained.txt").exists()


def test_error_exception_before_parser_names_exception_and_line(tmp_path):
    script = write(tmp_path, """
        import argparse
        import torch
        config = {}
        lr = config['lr']
        parser = argparse.ArgumentParser()
        parser.parse_args()
    """)
    with pytest.raises(ParserNotReached, match=r"train\.py:5 raised KeyError: 'lr' before parsing .*for: torch"):
        capture_parser(script)


def test_error_sys_exit_before_parser(tmp_path):
    script = write(tmp_path, """
        import argparse, sys
        if len(sys.argv) < 2:
            sys.exit('usage: train.py DATA')
        argparse.ArgumentParser().parse_args()
    """)
    with pytest.raises(ParserNotReached, match=r"train\.py:4 called sys.exit\('usage: train.py DATA'\) before parsing"):
        capture_parser(script)


def test_error_script_ends_without_parsing(tmp_path):
    script = write(tmp_path, """
        import argparse
        def main():
            argparse.ArgumentParser().parse_args()
        if __name__ == 'train':
            main()
    """)
    with pytest.raises(ParserNotReached, match="ran to the end without parsing its arguments"):
        capture_parser(script)


def test_state_is_restored_after_capture(tmp_path):
    script = write(tmp_path, """
        import argparse, os, sys, warnings
        import torch, not_installed_pkg.sub
        sys.path.insert(0, '/somewhere')
        sys.argv.append('--extra')
        os.environ['CAPTURE_TEST_VAR'] = '1'
        os.chdir(os.path.dirname(__file__))
        warnings.filterwarnings('ignore')
        print('banner the hat must not print on stdout')
        argparse.ArgumentParser().parse_args()
    """)
    methods = {name: vars(argparse.ArgumentParser)[name]
               for name in ("parse_args", "parse_known_args", "parse_intermixed_args", "print_help")}
    before = (list(sys.argv), sys.argv, list(sys.path), list(sys.meta_path), os.getcwd(), sys.modules["__main__"],
              list(warnings.filters))
    capture_parser(script)
    assert {name: vars(argparse.ArgumentParser)[name] for name in methods} == methods
    after = (list(sys.argv), sys.argv, list(sys.path), list(sys.meta_path), os.getcwd(), sys.modules["__main__"],
             list(warnings.filters))
    assert after == before
    assert "CAPTURE_TEST_VAR" not in os.environ
    assert not {"torch", "not_installed_pkg", "not_installed_pkg.sub"} & set(sys.modules)
    with pytest.raises(ImportError):
        import not_installed_pkg  # noqa: F401


def test_logging_and_multiprocessing_settings_are_restored(tmp_path):
    import logging
    import multiprocessing

    script = write(tmp_path, """
        import argparse, logging, multiprocessing, sys
        logging.basicConfig(stream=sys.stdout, level=logging.INFO)
        multiprocessing.set_start_method('spawn', force=True)
        argparse.ArgumentParser().parse_args()
    """)
    handlers, method = logging.root.handlers[:], multiprocessing.get_start_method(allow_none=True)
    capture_parser(script)
    assert logging.root.handlers == handlers
    assert multiprocessing.get_start_method(allow_none=True) == method


def test_local_namespace_package_leaves_sys_modules(tmp_path):
    write(tmp_path, "X = 1\n", name="nspkg/mod.py")  # a folder without __init__.py
    script = write(tmp_path, """
        import argparse
        from nspkg.mod import X
        argparse.ArgumentParser().parse_args()
    """)
    capture_parser(script)
    assert "nspkg" not in sys.modules and "nspkg.mod" not in sys.modules


def test_state_is_restored_after_an_error(tmp_path):
    script = write(tmp_path, """
        import argparse, sys, torch
        sys.path.insert(0, '/somewhere')
        raise ValueError('boom')
        argparse.ArgumentParser().parse_args()
    """)
    before = (list(sys.path), list(sys.meta_path), argparse.ArgumentParser.parse_args)
    with pytest.raises(HatError, match="ValueError: boom"):
        capture_parser(script)
    assert (list(sys.path), list(sys.meta_path), argparse.ArgumentParser.parse_args) == before
    assert "torch" not in sys.modules


def test_parser_handed_to_a_missing_module_is_an_error_naming_the_call(tmp_path):
    marker = tmp_path / "trained"
    script = write(tmp_path, f"""
        import argparse
        import deepspeed
        parser = argparse.ArgumentParser()
        parser.add_argument('--epochs', type=int, default=30)
        parser = deepspeed.add_config_arguments(parser)
        args = parser.parse_args()
        open({str(marker)!r}, 'w').write('training ran')
    """)
    with pytest.raises(HatError, match=r"train\.py:6 hands the parser to deepspeed\.add_config_arguments\(\), but "
                                       r"'deepspeed' is missing here.*install 'deepspeed'"):
        capture_parser(script)
    assert not marker.exists()


def test_improved_diffusion_style_parser_filled_by_a_missing_helper_is_an_error(tmp_path):
    script = write(tmp_path, """
        import argparse
        from improved_diffusion.script_util import add_dict_to_argparser, model_and_diffusion_defaults
        def create_argparser():
            defaults = dict(data_dir="", lr=1e-4)
            defaults.update(model_and_diffusion_defaults())
            parser = argparse.ArgumentParser()
            add_dict_to_argparser(parser, defaults)
            return parser
        args = create_argparser().parse_args()
    """, name="scripts/image_train.py")
    with pytest.raises(HatError, match=r"image_train\.py:8 hands the parser to improved_diffusion\.script_util\."
                                       r"add_dict_to_argparser\(\).*install 'improved_diffusion'"):
        capture_parser(script)


def test_odd_entries_in_sys_modules_do_not_stop_the_clean_up(tmp_path):
    """torch.ops has a __path__ that is no list; libraries also put plain objects into sys.modules."""
    write(tmp_path, """
        import sys, types
        class Namespace:  # answers every attribute, as torch.ops does, and is no list
            def __getattr__(self, name):
                return Namespace()
        odd = types.ModuleType("odd_ops")
        odd.__path__ = Namespace()
        sys.modules["odd_ops"] = odd
        sys.modules["not_a_module"] = object()
    """, name="helpers.py")
    script = write(tmp_path, """
        import argparse
        import helpers
        parser = argparse.ArgumentParser()
        parser.add_argument('--lr', type=float, default=0.1)
        parser.parse_args()
    """)
    try:
        assert capture_parser(script).get_default("lr") == 0.1
        assert "helpers" not in sys.modules  # the script's own module left, as it should
    finally:
        sys.modules.pop("odd_ops", None)
        sys.modules.pop("not_a_module", None)


def test_a_failed_assert_without_message_is_named_by_its_source_line(tmp_path):
    write(tmp_path, "import os\nassert os.environ.get('NO_SUCH_VARIABLE_HERE'), None or ''\n", name="checks.py")
    script = write(tmp_path, """
        import argparse
        import checks
        argparse.ArgumentParser().parse_args()
    """)
    with pytest.raises(ParserNotReached, match=r"train\.py:3 raised AssertionError at `assert os\.environ\.get\("):
        capture_parser(script)


@pytest.mark.clearml
def test_subcommands_keep_their_key_when_clearml_is_imported_first(tmp_path, monkeypatch):
    """Under the agent the task starts (clearml imported, argparse patched by it) before the parser is read."""
    import clearml.binding.args as clearml_args

    monkeypatch.setattr(argparse.ArgumentParser, "add_subparsers", clearml_args.PatchArgumentParser.add_subparsers)
    script = write(tmp_path, """
        import argparse
        parser = argparse.ArgumentParser()
        commands = parser.add_subparsers()
        commands.add_parser('train').add_argument('--lr', type=float, default=0.1)
        parser.parse_args()
    """)
    from clearml_hat.config.argparser.parser_values import known_keys

    assert known_keys(capture_parser(script)) == ["command", "lr"]
