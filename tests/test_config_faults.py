"""A broken ClearML set-up is one line naming the file or folder and the fix, exit 2, before any training: the
real hat.py and upload script in fresh processes with a private HOME."""
from __future__ import annotations

import pytest

from tests.conftest import run_script

pytestmark = pytest.mark.clearml

BROKEN_CONF = 'api {\n  api_server: "http://127.0.0.1:1"\n  credentials { access_key: "a", secret_key: \n}\n'


@pytest.mark.parametrize("command", [["hat.py"], ["data/upload_dataset_to_s3.py"]], ids=["run", "upload"])
def test_a_clearml_conf_with_a_syntax_error_is_one_line_naming_it(tmp_path, offline_env, command):
    conf = tmp_path / "clearml.conf"
    conf.write_text(BROKEN_CONF)
    env = {**offline_env, "CLEARML_CONFIG_FILE": str(conf)}
    result = run_script([*command, f"output_dir={tmp_path / 'out'}"] if command == ["hat.py"] else command, env)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    prog = command[0].rsplit("/", 1)[-1]
    errors = [line for line in result.stderr.splitlines() if line.startswith(f"{prog}: error: ")]
    assert errors == [f"{prog}: error: Failed parsing {conf} (ParseSyntaxException): (at char 89, line:5, col:1): "
                      "fix the ClearML configuration file there (clearml-init writes a new one)"], result.stderr
    assert not (tmp_path / "out").exists()


def test_an_offline_cache_that_cannot_be_written_is_one_line_naming_it(tmp_path, offline_env):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")  # as unwritable as a read-only folder, for root too
    env = {**offline_env, "CLEARML_CACHE_DIR": str(blocker / "cache")}
    result = run_script(["hat.py", f"output_dir={tmp_path / 'out'}"], env)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        f"hat.py: error: ClearML's offline folder {blocker / 'cache' / 'offline'} cannot be written (Not a "
        "directory); set CLEARML_CACHE_DIR to a writable folder (or sdk.storage.cache.default_base_dir in "
        "clearml.conf)")
    assert not (tmp_path / "out").exists()
