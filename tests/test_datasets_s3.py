"""Datasets on S3 end to end: moto's S3 server stands in for MinIO, configured in clearml.conf as users do.

Nothing in boto3 or ClearML's storage layer is patched. The moto server itself is instrumented: a WSGI wrapper
records every request it serves (to count downloads) and can take the server down in the middle of an upload.
moto checks signatures here (IAM auth on), so a wrong secret is refused as a real store would refuse it.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import zipfile
from pathlib import Path
from typing import Any, Callable, Iterator, List, Optional, Tuple

import boto3
import pytest
from moto.server import ThreadedMotoServer

from tests.conftest import REPO, run_script

pytestmark = pytest.mark.clearml

BUCKET = "hat"
NAME = "hat-sample-images"
PROJECT = "datasets/hat"
UPLOAD = "data/upload_dataset_to_s3.py"
ALLOW_S3 = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}


class S3Server:
    """moto's S3 on 127.0.0.1 with one user and one bucket; `requests` lists (method, path) as served."""

    def __init__(self) -> None:
        self.requests: List[Tuple[str, str]] = []
        self.down = False
        # A test's hook into the server: sees each request; returning an S3 error code refuses it with HTTP 403.
        self.on_request: Optional[Callable[[str, str, dict], Optional[str]]] = None
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._moto.start()
        self.host = "{}:{}".format(*self._moto.get_host_and_port())
        self.endpoint = f"http://{self.host}"
        app = self._moto._server.app

        def recording_app(environ: dict, start_response: Any) -> Any:
            method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
            self.requests.append((method, path))
            refusal = self.on_request(method, path, environ) if self.on_request else None
            if refusal:
                start_response("403 Forbidden", [("Content-Type", "application/xml")])
                return [f"<Error><Code>{refusal}</Code><Message>refused by the test</Message></Error>".encode()]
            return app(environ, start_response)

        self._moto._server.app = recording_app
        # moto keeps its state per process, not per server: start from nothing. Then let the next 3 calls
        # (create the user, its policy and its key) pass unsigned; every later call must be signed correctly.
        self._post("/moto-api/reset", b"")
        self._post("/moto-api/reset-auth", b"3")
        iam = boto3.client("iam", endpoint_url=self.endpoint, region_name="us-east-1",
                           aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
        iam.create_user(UserName="hat")
        iam.put_user_policy(UserName="hat", PolicyName="s3", PolicyDocument=json.dumps(ALLOW_S3))
        access = iam.create_access_key(UserName="hat")["AccessKey"]
        self.key, self.secret = access["AccessKeyId"], access["SecretAccessKey"]
        self.client = boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                                   aws_access_key_id=self.key, aws_secret_access_key=self.secret)
        self.client.create_bucket(Bucket=BUCKET)

    def _post(self, path: str, data: bytes) -> None:
        # Not form-encoded (urllib's default): moto reads the raw body.
        request = urllib.request.Request(self.endpoint + path, data=data, headers={"Content-Type": "text/plain"})
        urllib.request.urlopen(request, timeout=10).close()

    def keys(self, prefix: str = "") -> List[str]:
        listing = self.client.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
        return sorted(obj["Key"] for obj in listing.get("Contents", []))

    def downloads(self) -> List[str]:
        return [path for method, path in self.requests if method == "GET" and "/artifacts/" in path]

    def go_down(self) -> None:
        """Stop serving and close the port: new connections are refused, as with a store that went away."""
        self.down = True
        self._moto.stop()
        self._moto._server.server_close()

    def close(self) -> None:
        # The auth switch is process-wide: turn it off again for any other moto user in this process.
        if self.down:
            from moto import settings

            settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")  # the server is gone; the switch lives here
            return
        self._post("/moto-api/reset-auth", b"inf")
        self._post("/moto-api/reset", b"")
        self.go_down()


@pytest.fixture
def s3(clearml_server: Any) -> Iterator[S3Server]:
    """An S3 store configured in the test's clearml.conf the way a MinIO is: a credentials entry for its host."""
    server = S3Server()
    clearml_server.add_sdk_conf(s3_conf(server.host, server.key, server.secret))
    # The private HOME has no ~/.aws; drop inherited AWS settings too, so only clearml.conf supplies credentials.
    for name in [n for n in clearml_server.env if n.startswith("AWS_")]:
        del clearml_server.env[name]
    # botocore retries a refused connection 4 times with backoff; one retry keeps the failure tests fast.
    clearml_server.env["AWS_MAX_ATTEMPTS"] = "2"
    clearml_server.env["PYTHONUNBUFFERED"] = "1"
    yield server
    server.close()


def s3_conf(host: str, key: str, secret: str) -> str:
    # Short boto3 timeouts: the defaults are 60 s each, and a failure test would wait for them.
    return (f'aws {{ s3 {{ credentials: [ {{ host: "{host}", key: "{key}", secret: "{secret}", secure: false, '
            'multipart: false } ] }, boto3 { connect_timeout: 5, read_timeout: 10 } }')


PROGRESS_BAR = re.compile(r"\s*\d+%\|.*\| \d+/\d+ ")


def url(s3: S3Server, bucket: str = BUCKET, prefix: str = "datasets") -> str:
    # An S3-compatible store is addressed with its host in the URL; that is how ClearML picks the credentials.
    return f"s3://{s3.host}/{bucket}/{prefix}"


def upload(env: dict, *args: str) -> Any:
    return run_script([UPLOAD, *args], env)


def dataset_tasks(standin: Any) -> List[dict]:
    return [t for t in standin.tasks() if t["type"] == "data_processing"]


def copy_images(tmp_path: Path) -> Path:
    folder = tmp_path / "images"
    shutil.copytree(REPO / "data" / "images", folder)
    return folder


# The upload's own progress lines (console.ProgressLines) on stderr, beside its one error line.
PROGRESS = re.compile(r"upload_dataset_to_s3\.py: ((hashing|zipping) \d+/\d+ files,|uploading zip \d+:) [\d.]+ [KM]iB/")


def error_lines(stderr: str) -> List[str]:
    return [line for line in stderr.strip().splitlines() if not PROGRESS.match(line)]


def assert_one_line_error(result: Any, *words: str) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = error_lines(result.stderr)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"{Path(UPLOAD).name}: error: ")
    for word in words:
        assert word in lines[0]
    return lines[0]


def assert_secret_hidden(clearml_server: Any, s3: S3Server, *outputs: str) -> None:
    standin = clearml_server.standin
    sent = json.dumps(standin.requests, default=str)
    events = json.dumps([standin.events(task["id"]) for task in standin.tasks()])
    for text in (sent, events, *outputs):
        assert s3.secret not in text


def test_upload_then_train_on_the_cached_copy_twice_downloading_once(clearml_server, s3, tmp_path):
    env = clearml_server.env
    result = upload(env, "--output_url", url(s3), "--tags", "sample")
    assert result.returncode == 0, result.stdout + result.stderr
    (task,) = dataset_tasks(clearml_server.standin)
    assert f"version 1.0.0 uploaded: id {task['id']}" in result.stdout
    assert task["status"] == "completed" and "sample" in task["tags"]
    keys = s3.keys("datasets/")
    assert any("/artifacts/data/" in key and key.endswith(".zip") for key in keys), keys
    assert any(key.endswith("/artifacts/state/state.json") for key in keys), keys

    cache = Path(env["CLEARML_CACHE_DIR"]).resolve()
    for run in (1, 2):
        s3.requests.clear()
        trained = run_script(["hat.py", "--s3", "--dataset_name", NAME, "epochs=1", f"output_dir={tmp_path / 'out'}"],
                             env)
        assert trained.returncode == 0, trained.stdout + trained.stderr
        line = next(line for line in trained.stdout.splitlines() if line.startswith("loaded "))
        assert line.startswith("loaded 24 images of 2 classes from ")
        data_path = Path(line.split(" from ", 1)[1])
        assert cache in data_path.resolve().parents
        if run == 1:
            assert any(path.endswith(".zip") for path in s3.downloads()), s3.requests
        else:
            assert s3.downloads() == [], s3.requests

    training = [t for t in clearml_server.standin.tasks() if t["name"] == "train_aip"]
    assert [t["hyperparams"]["hat"]["dataset_id"]["value"] for t in training] == [task["id"]] * 2
    assert_secret_hidden(clearml_server, s3, result.stdout, result.stderr, trained.stdout, trained.stderr)


def dataset_changes(env: dict, dataset_id: str) -> dict:
    """A version's changes against its parent, read by the SDK in a fresh process (its config is per process)."""
    code = (
        "import json, sys\nfrom clearml import Dataset\n"
        f"d = Dataset.get(dataset_id={dataset_id!r})\n"
        "print(json.dumps({'modified': d.list_modified_files(), 'added': d.list_added_files(), "
        f"'removed': d.list_removed_files(), 'parents': d.get_dependency_graph()[{dataset_id!r}]}}))\n"
    )
    result = run_script(["-c", code], env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_changed_file_uploads_only_that_file_and_no_change_creates_nothing(clearml_server, s3, tmp_path):
    env, folder = clearml_server.env, copy_images(tmp_path)
    assert upload(env, "--path", str(folder), "--output_url", url(s3)).returncode == 0
    (first,) = dataset_tasks(clearml_server.standin)

    unchanged = upload(env, "--path", str(folder), "--output_url", url(s3))
    assert unchanged.returncode == 0, unchanged.stderr
    assert "unchanged: no new version" in unchanged.stdout
    assert len(dataset_tasks(clearml_server.standin)) == 1

    changed = folder / "circle" / "circle_00.png"
    shutil.copyfile(folder / "square" / "square_00.png", changed)
    s3.requests.clear()
    second_run = upload(env, "--path", str(folder), "--output_url", url(s3))
    assert second_run.returncode == 0, second_run.stdout + second_run.stderr
    assert "version 1.0.1 uploaded" in second_run.stdout
    second = next(t for t in dataset_tasks(clearml_server.standin) if t["id"] != first["id"])

    changes = dataset_changes(env, second["id"])
    assert changes == {"modified": ["circle/circle_00.png"], "added": [], "removed": [], "parents": [first["id"]]}
    (zip_put,) = [path for method, path in s3.requests if method == "PUT" and path.endswith(".zip")]
    assert second["id"] in zip_put
    data_key = zip_put.split(f"/{BUCKET}/", 1)[1]
    archive = tmp_path / "chunk.zip"
    s3.client.download_file(BUCKET, data_key, str(archive))
    assert zipfile.ZipFile(archive).namelist() == ["circle/circle_00.png"]

    again = upload(env, "--path", str(folder), "--output_url", url(s3))
    assert "unchanged: no new version; latest is 1.0.1" in again.stdout
    assert len(dataset_tasks(clearml_server.standin)) == 2


def upload_counting_opens(env: dict, folder: Path, out: Path, *args: str) -> Tuple[Any, dict]:
    """Upload the folder under tests/open_counter.py: path -> {opener: opens} for each file of the folder opened."""
    result = run_script(["tests/open_counter.py", str(out), str(folder), UPLOAD, "--path", str(folder), *args], env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result, json.loads(out.read_text())


def test_each_file_is_read_once_to_hash_and_once_to_zip_and_an_unchanged_folder_once(clearml_server, s3, tmp_path):
    # One read of every file to hash it (before any draft exists) and one to zip it into the chunk. If ClearML's
    # sync_folder hashed the folder again, every new file would be opened three times.
    env, folder = clearml_server.env, copy_images(tmp_path)
    files = sorted(p.resolve().as_posix() for p in folder.rglob("*") if p.is_file())
    _, opens = upload_counting_opens(env, folder, tmp_path / "first.json", "--output_url", url(s3))
    assert {path: sum(by.values()) for path, by in opens.items()} == dict.fromkeys(files, 2), opens

    creates = len(clearml_server.standin.requests)
    unchanged, opens = upload_counting_opens(env, folder, tmp_path / "unchanged.json", "--output_url", url(s3))
    assert "unchanged: no new version" in unchanged.stdout
    assert {path: sum(by.values()) for path, by in opens.items()} == dict.fromkeys(files, 1), opens
    assert "tasks.create" not in [endpoint for endpoint, _ in clearml_server.standin.requests[creates:]]

    changed = folder / "circle" / "circle_00.png"
    shutil.copyfile(folder / "square" / "square_00.png", changed)
    second, opens = upload_counting_opens(env, folder, tmp_path / "changed.json", "--output_url", url(s3))
    assert "version 1.0.1 uploaded" in second.stdout
    expected = dict.fromkeys(files, 1)
    expected[changed.resolve().as_posix()] = 2  # hashed, then zipped: the only file in the new chunk
    assert {path: sum(by.values()) for path, by in opens.items()} == expected, opens
    assert len(dataset_tasks(clearml_server.standin)) == 2


def _missing_path(tmp_path: Path, s3: S3Server, env: dict) -> List[str]:
    return ["--path", str(tmp_path / "nowhere"), "--output_url", url(s3)]


def _empty_path(tmp_path: Path, s3: S3Server, env: dict) -> List[str]:
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    return ["--path", str(tmp_path / "empty"), "--output_url", url(s3)]


def _missing_bucket(tmp_path: Path, s3: S3Server, env: dict) -> List[str]:
    return ["--output_url", url(s3, bucket="no-such-bucket")]


def _wrong_secret(tmp_path: Path, s3: S3Server, env: dict) -> List[str]:
    return ["--output_url", url(s3)]


def _store_goes_down(tmp_path: Path, s3: S3Server, env: dict) -> List[str]:
    def take_down_on_first_chunk(method: str, path: str, environ: dict) -> Optional[str]:
        if method == "PUT" and "/artifacts/data/" in path and s3.on_request:
            s3.on_request = None
            threading.Thread(target=s3.go_down).start()
            # Cut this very upload off as well: the client sees its connection reset, then a refused port.
            environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)
        return None

    s3.on_request = take_down_on_first_chunk
    return ["--output_url", url(s3)]


def _chunk_refused(tmp_path: Path, s3: S3Server, env: dict) -> List[str]:
    # The store answers everything but the data chunk, which it refuses as a bucket policy or quota would.
    # ClearML's upload() then returns without an error; the hat must notice before it finalizes.
    def refuse_chunks(method: str, path: str, environ: dict) -> Optional[str]:
        return "AccessDenied" if method == "PUT" and "/artifacts/data/" in path else None

    s3.on_request = refuse_chunks
    return ["--output_url", url(s3)]


@pytest.mark.parametrize(
    "make_args, words",
    [
        (_missing_path, ["nowhere: no such folder", "--path"]),
        (_empty_path, ["empty: the folder has no files"]),
        (_missing_bucket, ["bucket 'no-such-bucket' does not exist", "--output_uri"]),
        (_wrong_secret, ["refused access", "clearml.conf"]),
        (_store_goes_down, ["was deleted: ", "the S3 store does not answer"]),
        (_chunk_refused, ["was deleted: ", "the data chunk(s) data did not reach the storage"]),
    ],
    ids=["path-missing", "path-empty", "bucket-missing", "wrong-credentials", "store-down-mid-upload",
         "chunk-refused"],
)
def test_failed_upload_is_one_line_and_leaves_no_dataset(clearml_server, s3, tmp_path, make_args, words):
    if make_args is _wrong_secret:
        clearml_server.add_sdk_conf(s3_conf(s3.host, s3.key, "not-the-secret"))
    temp = private_temp_dir(clearml_server.env, tmp_path)
    result = upload(clearml_server.env, *make_args(tmp_path, s3, clearml_server.env))
    assert_one_line_error(result, *words)
    assert dataset_tasks(clearml_server.standin) == []
    assert list(temp.iterdir()) == [], "a temporary zip was left behind"
    created = [body for endpoint, body in clearml_server.standin.requests if endpoint == "tasks.create"]
    if make_args in (_store_goes_down, _chunk_refused):  # a draft was made, and deleted again
        assert [body["type"] for body in created] == ["data_processing"]
        assert "tasks.completed" not in [endpoint for endpoint, _ in clearml_server.standin.requests]
    else:  # caught before any draft
        assert created == []
    assert_secret_hidden(clearml_server, s3, result.stdout, result.stderr)


def private_temp_dir(env: dict, tmp_path: Path) -> Path:
    """The upload's temporary folder (ClearML zips the files there), to see what it leaves behind."""
    temp = tmp_path / "temp"
    temp.mkdir()
    env["TMPDIR"] = str(temp)
    return temp


def start_upload(env: dict, *args: str) -> subprocess.Popen:
    """The upload in its own process group, as a terminal runs it: Ctrl-C there is SIGINT to the group."""
    return subprocess.Popen([sys.executable, UPLOAD, *args], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def ctrl_c(process: subprocess.Popen) -> Tuple[str, str]:
    os.killpg(process.pid, signal.SIGINT)
    try:
        return process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)


def test_ctrl_c_while_hashing_is_one_line_and_creates_nothing(clearml_server, s3, tmp_path):
    folder = tmp_path / "big"
    folder.mkdir()
    with (folder / "sparse.bin").open("wb") as big:  # 4 GiB of zeros on no disk: seconds of hashing
        big.truncate(4 << 30)
    temp = private_temp_dir(clearml_server.env, tmp_path)
    process = start_upload(clearml_server.env, "--path", str(folder), "--output_url", url(s3))
    assert process.stderr is not None
    first = process.stderr.readline()
    assert first.startswith("upload_dataset_to_s3.py: hashing 0/1 files, 0.0 KiB/4096.0 MiB"), first
    _, stderr = ctrl_c(process)
    assert process.returncode == 130, stderr
    assert error_lines(stderr) == [f"upload_dataset_to_s3.py: error: Ctrl-C: the upload stopped while hashing "
                                   f"{folder}; nothing was created"], stderr
    assert clearml_server.standin.tasks() == []
    assert list(temp.iterdir()) == []


def test_ctrl_c_while_uploading_deletes_the_unfinished_version_and_its_zips(clearml_server, s3, tmp_path):
    reached, release = threading.Event(), threading.Event()

    def hold_the_first_chunk(method: str, path: str, environ: dict) -> Optional[str]:
        if method == "PUT" and "/artifacts/data/" in path:
            reached.set()
            release.wait(30)
        return None

    s3.on_request = hold_the_first_chunk
    temp = private_temp_dir(clearml_server.env, tmp_path)
    process = start_upload(clearml_server.env, "--output_url", url(s3))
    try:
        assert reached.wait(60), "the upload never reached the store"
        os.killpg(process.pid, signal.SIGINT)
        time.sleep(1)  # the chunk's request stays open while the hat handles Ctrl-C, as a slow upload's would
    finally:
        release.set()
    _, stderr = ctrl_c(process) if process.poll() is None else process.communicate()
    assert process.returncode == 130, stderr
    (line,) = error_lines(stderr)
    assert line.startswith("upload_dataset_to_s3.py: error: Ctrl-C: the upload of ") and "was deleted" in line, line
    assert dataset_tasks(clearml_server.standin) == []
    assert "tasks.completed" not in [endpoint for endpoint, _ in clearml_server.standin.requests]
    assert list(temp.iterdir()) == [], "a temporary zip was left behind"


def test_upload_progress_shows_files_bytes_and_rate_of_each_stage(clearml_server, s3, tmp_path):
    folder = tmp_path / "noise"
    folder.mkdir()
    for number in range(3):  # 12 MiB that do not compress: ClearML reports an upload every 5 MiB and at its end
        (folder / f"part{number}.bin").write_bytes(os.urandom(4 << 20))
    result = upload(clearml_server.env, "--path", str(folder), "--output_url", url(s3))
    assert result.returncode == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert all(PROGRESS.match(line) for line in lines), lines  # and no tqdm bar of ClearML's
    assert lines[0] == "upload_dataset_to_s3.py: hashing 0/3 files, 0.0 KiB/12.0 MiB"
    hashed = [line for line in lines if ": hashing " in line][-1]
    assert re.fullmatch(r"upload_dataset_to_s3\.py: hashing 3/3 files, 12.0 MiB/12.0 MiB, [\d.]+ MiB/s, [\d.]+ s",
                        hashed), hashed
    assert "upload_dataset_to_s3.py: zipping 0/3 files, 0.0 KiB/12.0 MiB" in lines
    uploading = [line for line in lines if ": uploading zip 1: " in line]
    assert len(uploading) >= 2, lines
    assert re.fullmatch(r"upload_dataset_to_s3\.py: uploading zip 1: (12\.0 MiB)/\1, [\d.]+ MiB/s, [\d.]+ s",
                        uploading[-1]), uploading


def test_hat_s3_with_an_unknown_dataset_lists_the_existing_ones(clearml_server, s3):
    assert upload(clearml_server.env, "--output_url", url(s3)).returncode == 0
    result = run_script(["hat.py", "--s3", "--dataset_name", "no-such-data", "epochs=1"], clearml_server.env)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("hat.py: error: no finalized dataset 'no-such-data'")
    assert f"datasets there: {NAME}" in line


def test_hat_s3_with_an_unknown_dataset_id_is_one_line(clearml_server, s3):
    result = run_script(["hat.py", "--s3", "--dataset_id", "0123456789abcdef", "epochs=1"], clearml_server.env)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line == ("hat.py: error: no dataset with id '0123456789abcdef'; copy the id from the upload's output or "
                    "the web UI, or give --dataset_name instead")


def test_hat_s3_with_a_data_key_that_is_no_training_value_starts_nothing(clearml_server):
    result = run_script(["hat.py", "--s3", "--dataset_name", NAME, "--data_key", "nope"], clearml_server.env)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("hat.py: error: --data_key 'nope' is not a training value") and "data_path" in line
    assert clearml_server.standin.tasks() == []


def test_hat_s3_with_the_store_down_is_one_line_and_trains_nothing(clearml_server, s3, tmp_path):
    assert upload(clearml_server.env, "--output_url", url(s3)).returncode == 0
    s3.go_down()
    result = run_script(["hat.py", "--s3", "--dataset_name", NAME, "epochs=1", f"output_dir={tmp_path / 'out'}"],
                        clearml_server.env)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("hat.py: error: Could not load Dataset id=")
    assert "its files cannot be read; check that its storage" in line
    assert [t["name"] for t in clearml_server.standin.tasks()] == [NAME]  # no training task was started


def test_output_uri_puts_the_returned_folder_in_the_bucket(clearml_server, s3, tmp_path):
    assert upload(clearml_server.env, "--output_url", url(s3)).returncode == 0
    result = run_script(["hat.py", "--s3", "--dataset_name", NAME, "--output_uri", url(s3, prefix="models"),
                         "epochs=1", f"output_dir={tmp_path / 'out'}"], clearml_server.env)
    assert result.returncode == 0, result.stdout + result.stderr
    keys = s3.keys("models/")
    assert any("/artifacts/output/" in key for key in keys), keys
    (task,) = [t for t in clearml_server.standin.tasks() if t["name"] == "train_aip"]
    (artifact,) = [a for a in task["execution"]["artifacts"] if a["key"] == "output"]
    assert artifact["uri"].startswith(url(s3, prefix="models"))
    assert_secret_hidden(clearml_server, s3, result.stdout, result.stderr)


def test_agent_run_trains_on_the_same_dataset_and_stores_the_output_in_the_bucket(clearml_server, s3, tmp_path):
    from tests.fake_agent import run_next

    assert upload(clearml_server.env, "--output_url", url(s3)).returncode == 0
    (dataset,) = dataset_tasks(clearml_server.standin)
    enqueued = run_script(["hat.py", "--remote", "--force", "--s3", "--dataset_name", NAME,
                           "--output_uri", url(s3, prefix="models"), "epochs=1", f"output_dir={tmp_path / 'out'}"],
                          clearml_server.env)
    assert enqueued.returncode == 0, enqueued.stderr
    # The agent's machine has its own cache: it must fetch the dataset itself, by the id stored on the task.
    agent_env = dict(clearml_server.env, CLEARML_CACHE_DIR=str(tmp_path / "agent-cache"))
    result = run_next(clearml_server.standin, "default", [sys.executable, "hat.py"], cwd=REPO, env=agent_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"loaded 24 images of 2 classes from {tmp_path / 'agent-cache'}" in result.stdout
    assert f"ds_{dataset['id']}" in result.stdout
    assert any("/artifacts/output/" in key for key in s3.keys("models/")), s3.keys()


def test_ctrl_c_while_zipping_deletes_the_unfinished_version_and_its_zip(clearml_server, s3, tmp_path):
    folder = tmp_path / "big"
    folder.mkdir()
    with (folder / "sparse.bin").open("wb") as big:  # 256 MiB of zeros on no disk: seconds of zipping
        big.truncate(256 << 20)
    sent: List[str] = []
    s3.on_request = lambda method, path, environ: sent.append(path) if "/artifacts/data" in path else None
    temp = private_temp_dir(clearml_server.env, tmp_path)
    process = start_upload(clearml_server.env, "--path", str(folder), "--output_url", url(s3))
    assert process.stderr is not None
    for line in process.stderr:
        if line.startswith("upload_dataset_to_s3.py: zipping 0/1 files"):
            break
    # ClearML opens the zip in the upload's temp folder before it writes to it: the zipping has begun.
    deadline = time.monotonic() + 60
    while not list(temp.rglob("*.zip")):
        assert time.monotonic() < deadline and process.poll() is None, "the upload never started zipping"
        time.sleep(0.05)
    _, stderr = ctrl_c(process)
    assert sent == [], "the zip was done before Ctrl-C: the test did not interrupt the zipping"
    assert process.returncode == 130, stderr
    (draft,) = [body for endpoint, body in clearml_server.standin.requests if endpoint == "tasks.create"]
    (line,) = error_lines(stderr)
    assert re.fullmatch(f"upload_dataset_to_s3.py: error: Ctrl-C: the upload of {re.escape(str(folder))} stopped; "
                        r"its unfinished version (\w+) was deleted", line), stderr
    assert dataset_tasks(clearml_server.standin) == [], f"draft {draft['name']} left"
    assert "tasks.completed" not in [endpoint for endpoint, _ in clearml_server.standin.requests]
    assert list(temp.iterdir()) == [], "a temporary zip was left behind"
