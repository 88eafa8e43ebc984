"""Pytest fixture `clearml_server`: a fresh ClearML stand-in per test, with a private HOME, clearml.conf and cache.

Tests never read or write the user's ~/clearml.conf or ~/.clearml. Register with
`pytest_plugins = ["tests.standin_fixture"]`, then:

    def test_run(clearml_server, tmp_path):
        clearml_server.add_sdk_conf('aws { s3 { key: "k", secret: "s" } }')  # optional, rewrites the conf
        subprocess.run([sys.executable, "train.py"], env=clearml_server.env, check=True)
        assert clearml_server.standin.tasks()[0]["status"] == "completed"

The fixture also points this process's environment at the stand-in, for tests that call the SDK in-process.
It fails the test at teardown if the SDK called an endpoint the stand-in does not implement.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, Iterator

import pytest

from tests.clearml_standin import ApiStandIn


class ClearMLServer:
    """What the fixture yields: the running stand-in, the conf file and a subprocess environment using them."""

    def __init__(self, standin: ApiStandIn, root: Path) -> None:
        self.standin = standin
        self.conf_path = root / "clearml.conf"
        self._extra_sdk = ""
        home, cache = root / "home", root / "cache"
        home.mkdir()
        cache.mkdir()
        # Drop every inherited ClearML/Trains setting: a stray CLEARML_TASK_ID or API host would redirect the SDK.
        self.env: Dict[str, str] = {k: v for k, v in os.environ.items() if not k.startswith(("CLEARML_", "TRAINS_"))}
        # One cache per test: Task.init may reuse the last task it remembers there.
        self.env.update(HOME=str(home), CLEARML_CONFIG_FILE=str(self.conf_path), CLEARML_CACHE_DIR=str(cache))
        self._write_conf()

    def add_sdk_conf(self, text: str) -> None:
        """Append HOCON text inside the conf's `sdk { }` block, e.g. S3 credentials under `aws { s3 {...} }`."""
        self._extra_sdk += text + "\n"
        self._write_conf()

    def _write_conf(self) -> None:
        self.conf_path.write_text(self.standin.clearml_conf(self._extra_sdk))


@pytest.fixture
def clearml_server(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ClearMLServer]:
    with ApiStandIn() as standin:
        server = ClearMLServer(standin, tmp_path_factory.mktemp("clearml"))
        for key in list(os.environ):  # monkeypatch.delenv changes os.environ
            if key.startswith(("CLEARML_", "TRAINS_")):
                monkeypatch.delenv(key)
        for key in ("HOME", "CLEARML_CONFIG_FILE", "CLEARML_CACHE_DIR"):
            monkeypatch.setenv(key, server.env[key])
        yield server
        assert not standin.unimplemented, f"the SDK called endpoints the stand-in lacks: {standin.unimplemented}"
