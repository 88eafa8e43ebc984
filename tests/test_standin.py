"""The ClearML stand-in against the real SDK: a local run, execute_remotely, an agent run, clone-and-edit, datasets.

Each SDK step runs in its own process, as it would for a user; the stand-in only records and answers.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List

import pytest

from tests.clearml_standin import ApiError
from tests.fake_agent import run_next

pytestmark = pytest.mark.clearml

if TYPE_CHECKING:  # conftest.py loads it as a plugin; importing it here first would stop its assert rewriting
    from tests.standin_fixture import ClearMLServer

# A training script in miniature. With a queue name as argument it sends itself to that queue;
# under the agent (no argument) it runs and prints the values connect() gave it, with their types.
TRAIN_PY = """
import json, sys
from clearml import Task

task = Task.init(project_name="hat/demo", task_name="train")
args = task.connect({"epochs": 3, "lr": 0.1, "layers": [1, 2], "flag": True, "name": "x"}, name="train_args")
if len(sys.argv) > 1:
    task.set_base_docker(docker_image="python:3.11-slim", docker_arguments="--ipc=host",
                         docker_setup_bash_script=["apt-get install -y git"])
    task.execute_remotely(queue_name=sys.argv[1])
print("ARGS " + json.dumps({k: [type(v).__name__, v] for k, v in args.items()}))
for i in range(3):
    task.get_logger().report_scalar("loss", "train", value=1.0 / (i + 1), iteration=i)
task.upload_artifact("numbers", artifact_object={"a": 1}, wait_on_upload=True)
task.close()
"""

DEFAULT_ARGS = {"epochs": ["int", 3], "lr": ["float", 0.1], "layers": ["list", [1, 2]], "flag": ["bool", True],
                "name": ["str", "x"]}  # fmt: skip


def run_python(server: ClearMLServer, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, *args], cwd=cwd, env=server.env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def printed_args(stdout: str) -> Dict[str, List[Any]]:
    line = next(line for line in stdout.splitlines() if line.startswith("ARGS "))
    return json.loads(line[len("ARGS ") :])


def only_task(server: ClearMLServer, task_type: str = "training") -> Dict[str, Any]:
    (task,) = [t for t in server.standin.tasks() if t["type"] == task_type]
    return task


@pytest.fixture
def train_py(tmp_path: Path) -> Path:
    (tmp_path / "train.py").write_text(TRAIN_PY)
    return tmp_path


def test_local_run_records_params_scalars_artifact_and_completes(clearml_server, train_py):
    result = run_python(clearml_server, train_py, "train.py")

    task = only_task(clearml_server)
    assert task["status"] == "completed"
    params = task["hyperparams"]["train_args"]
    assert {name: (p["value"], p["type"]) for name, p in params.items()} == {
        "epochs": ("3", "int"), "lr": ("0.1", "float"), "layers": ("[1, 2]", "list/int"), "flag": ("True", "bool"),
        "name": ("x", "str"),
    }  # fmt: skip
    scalars = clearml_server.standin.events(task["id"], "training_stats_scalar")
    assert [(e["metric"], e["variant"], e["iter"], e["value"]) for e in scalars] == [
        ("loss", "train", 0, 1.0), ("loss", "train", 1, 0.5), ("loss", "train", 2, 1 / 3),
    ]  # fmt: skip
    log = "\n".join(e["msg"] for e in clearml_server.standin.events(task["id"], "log"))
    assert "ARGS " in log and printed_args(result.stdout) == DEFAULT_ARGS
    (artifact,) = task["execution"]["artifacts"]
    assert artifact["key"] == "numbers" and artifact["uri"].startswith(clearml_server.standin.files_url)
    with urllib.request.urlopen(artifact["uri"]) as response:
        assert json.loads(response.read()) == {"a": 1}
    assert clearml_server.standin.file(artifact["uri"][len(clearml_server.standin.files_url) :]) == b'{\n    "a": 1\n}'
    assert "method" not in task and all("method" not in e for e in clearml_server.standin.events(task["id"]))


def queue_remote_run(server: ClearMLServer, cwd: Path) -> Dict[str, Any]:
    result = run_python(server, cwd, "train.py", "compute")
    assert "ARGS " not in result.stdout, "execute_remotely should have ended the local process"
    return only_task(server)


def test_execute_remotely_queues_task_with_container(clearml_server, train_py):
    task = queue_remote_run(clearml_server, train_py)

    assert task["status"] == "queued"
    assert clearml_server.standin.queue_entries("compute") == [task["id"]]
    assert clearml_server.standin.queue_entries("default") == []
    assert task["container"] == {
        "image": "python:3.11-slim", "arguments": "--ipc=host", "setup_shell_script": "apt-get install -y git",
    }  # fmt: skip
    assert "development" not in task["system_tags"]
    assert task["script"]["entry_point"] == "train.py"
    assert ("queues.get_by_id", {"queue": "compute"}) in clearml_server.standin.requests


def test_agent_run_gets_server_values_and_completes(clearml_server, train_py):
    task = queue_remote_run(clearml_server, train_py)
    # An edit on the server (as from the web UI) must win over the script's default.
    lr = dict(task["hyperparams"]["train_args"]["lr"], value="0.25")
    clearml_server.standin.call("tasks.edit_hyper_params", {"task": task["id"], "hyperparams": [lr], "force": True})

    result = run_next(clearml_server.standin, "compute", [sys.executable, "train.py"], train_py, clearml_server.env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert printed_args(result.stdout) == dict(DEFAULT_ARGS, lr=["float", 0.25])
    task = clearml_server.standin.task(task["id"])
    assert task["status"] == "completed"
    assert clearml_server.standin.queue_entries("compute") == []
    assert [e["key"] for e in task["execution"]["artifacts"]] == ["numbers"]
    assert any("ARGS " in e["msg"] for e in clearml_server.standin.events(task["id"], "log"))


CLONE_AND_ENQUEUE = """
import sys
from clearml import Task

clone = Task.clone(source_task=Task.get_task(task_id=sys.argv[1]))
clone.update_parameters({"train_args/epochs": 7, "train_args/lr": 0.5, "train_args/layers": [3, 4],
                         "train_args/flag": False, "train_args/name": "y"})
Task.enqueue(clone, queue_name="compute")
print(clone.id)
"""


def test_clone_edit_enqueue_agent_run_sees_edited_typed_values(clearml_server, train_py):
    run_python(clearml_server, train_py, "train.py")
    source = only_task(clearml_server)

    clone_id = run_python(clearml_server, train_py, "-c", CLONE_AND_ENQUEUE, source["id"]).stdout.split()[-1]
    clone = clearml_server.standin.task(clone_id)
    assert clone["name"] == source["name"] and clone["status"] == "queued"
    assert clone["last_iteration"] == 0 and clone["execution"]["artifacts"] == []

    result = run_next(clearml_server.standin, "compute", [sys.executable, "train.py"], train_py, clearml_server.env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert printed_args(result.stdout) == {
        "epochs": ["int", 7], "lr": ["float", 0.5], "layers": ["list", [3, 4]], "flag": ["bool", False],
        "name": ["str", "y"],
    }  # fmt: skip
    assert clearml_server.standin.task(clone_id)["status"] == "completed"
    assert clearml_server.standin.task(source["id"])["hyperparams"]["train_args"]["epochs"]["value"] == "3"


def test_status_poll_of_a_long_local_run_does_not_abort_it(clearml_server, tmp_path):
    # The SDK polls the task's status every 2 s and aborts the run on an answer it does not expect.
    script = "import time\nfrom clearml import Task\nt = Task.init('hat', 'slow')\ntime.sleep(2.5)\nt.close()\n"

    run_python(clearml_server, tmp_path, "-c", script)

    polls = [body for name, body in clearml_server.standin.requests if name == "tasks.get_all"]
    assert polls and "status" in polls[0]["only_fields"]
    assert only_task(clearml_server)["status"] == "completed"


def test_clone_starts_fresh(clearml_server):
    standin = clearml_server.standin
    source_id = standin.call("tasks.create", {"name": "src", "type": "training", "system_tags": ["development"]})["id"]
    artifacts = [{"key": "out", "type": "str", "mode": "output"}, {"key": "in", "type": "str", "mode": "input"}]
    standin.call("tasks.add_or_update_artifacts", {"task": source_id, "artifacts": artifacts})
    standin.call("events.add_batch", [{"type": "training_stats_scalar", "task": source_id, "iter": 9, "value": 1}])
    standin.call("tasks.enqueue", {"task": source_id, "queue_name": "compute"})

    clone = standin.task(standin.call("tasks.clone", {"task": source_id})["id"])

    assert standin.task(source_id)["last_iteration"] == 9
    assert clone["name"] == "src" and clone["status"] == "created" and clone["parent"] == source_id
    assert clone["last_iteration"] == 0 and clone["system_tags"] == []
    assert [a["key"] for a in clone["execution"]["artifacts"]] == ["in"] and "queue" not in clone["execution"]
    renamed = standin.call("tasks.clone", {"task": source_id, "new_task_name": "copy"})["id"]
    assert standin.task(renamed)["name"] == "copy"
    assert standin.queue_entries("compute") == [source_id]


def test_hyper_params_edit_replaces_a_section_and_queues_can_be_added(clearml_server):
    standin = clearml_server.standin
    task_id = standin.call("tasks.create", {"name": "t", "type": "training"})["id"]
    old = [{"section": "a", "name": "x", "value": "1"}, {"section": "b", "name": "y", "value": "2"}]
    new = [{"section": "a", "name": "z", "value": "3"}]
    standin.call("tasks.edit_hyper_params", {"task": task_id, "hyperparams": old})
    standin.call("tasks.edit_hyper_params", {"task": task_id, "hyperparams": new, "replace_hyperparams": "section"})

    (params,) = standin.call("tasks.get_hyper_params", {"tasks": [task_id]})["params"]
    assert sorted((p["section"], p["name"], p["value"]) for p in params["hyperparams"]) == [
        ("a", "z", "3"),
        ("b", "y", "2"),
    ]
    standin.call("queues.create", {"name": "gpu"})
    standin.call("tasks.enqueue", {"task": task_id, "queue_name": "gpu"})
    assert standin.queue_entries("gpu") == [task_id]


def test_agent_marks_failed_task_and_logs_traceback(clearml_server, tmp_path):
    (tmp_path / "boom.py").write_text("from clearml import Task\nTask.init()\nraise RuntimeError('boom')\n")
    # In a project, as the SDK's own tasks are: under an agent, clearml 1.16 reads the task's project in Task.init.
    project = clearml_server.standin.call("projects.create", {"name": "boom"})["id"]
    body = {"name": "boom", "type": "training", "project": project}
    task_id = clearml_server.standin.call("tasks.create", body)["id"]
    clearml_server.standin.call("tasks.enqueue", {"task": task_id, "queue_name": "default"})

    result = run_next(clearml_server.standin, "default", [sys.executable, "boom.py"], tmp_path, clearml_server.env)

    assert result.returncode != 0
    assert clearml_server.standin.task(task_id)["status"] == "failed"
    log = [e["msg"] for e in clearml_server.standin.events(task_id, "log")]
    assert "Traceback (most recent call last):" in log and "RuntimeError: boom" in log


DATASET_VERSIONS = """
import sys
from clearml import Dataset

v1_dir, v2_dir, storage = sys.argv[1:]
v1 = Dataset.create(dataset_name="digits", dataset_project="hat/data")
v1.add_files(v1_dir)
v1.upload(output_url=storage)
v1.finalize()
v2 = Dataset.create(dataset_name="digits", dataset_project="hat/data", parent_datasets=[v1.id])
v2.add_files(v2_dir)
v2.upload(output_url=storage)
v2.finalize()
print(v1.id, v2.id)
"""

DATASET_GET = """
import os
from clearml import Dataset

dataset = Dataset.get(dataset_name="digits", dataset_project="hat/data")
path = dataset.get_local_copy()
print(dataset.id, sorted(os.listdir(path)))
"""


def test_dataset_versions_and_get_latest_local_copy(clearml_server, tmp_path):
    for name in ("v1", "v2", "storage"):
        (tmp_path / name).mkdir()
    (tmp_path / "v1" / "a.txt").write_text("one")
    (tmp_path / "v2" / "b.txt").write_text("two")

    created = run_python(clearml_server, tmp_path, "-c", DATASET_VERSIONS, "v1", "v2", str(tmp_path / "storage"))
    v1_id, v2_id = created.stdout.split()[-2:]
    fetched = run_python(clearml_server, tmp_path, "-c", DATASET_GET).stdout.split("\n")[-2]

    assert fetched == f"{v2_id} ['a.txt', 'b.txt']"
    for task_id in (v1_id, v2_id):
        task = clearml_server.standin.task(task_id)
        assert task["status"] == "completed" and task["type"] == "data_processing"
        assert {"dataset", "development"} <= set(task["system_tags"])
    assert clearml_server.standin.task(v2_id)["runtime"]["version"] == "1.0.1"
    hidden = [p for p in clearml_server.standin.projects() if p["name"] == "hat/data/.datasets/digits"]
    assert hidden and set(hidden[0]["system_tags"]) == {"dataset", "hidden"}


def test_extra_sdk_conf_reaches_the_sdk(clearml_server, tmp_path):
    clearml_server.add_sdk_conf('aws { s3 { key: "standin-key", secret: "standin-secret" } }')
    clearml_server.add_sdk_conf('development { default_output_uri: "file:///tmp" }')
    keys = ["aws.s3.key", "development.report_use_subprocess", "development.default_output_uri"]
    # clearml.config.config is the sdk section.
    show = f"from clearml.config import config; print(*(config.get(k) for k in {keys!r}))"

    printed = run_python(clearml_server, tmp_path, "-c", show).stdout

    # HOCON merges the appended development block with the stand-in's own.
    assert printed.split() == ["standin-key", "False", "file:///tmp"]


def test_unimplemented_endpoint_fails_loudly(clearml_server):
    request = urllib.request.Request(f"{clearml_server.standin.api_url}/v2.23/models.no_such_call", data=b"{}")
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request)
    meta = json.loads(error.value.read())["meta"]
    assert error.value.code == 400 and meta["result_code"] == 400
    assert meta["result_msg"] == "stand-in does not implement models.no_such_call"
    with pytest.raises(ApiError, match="does not implement the 'search_text' filter of tasks.get_all"):
        clearml_server.standin.call("tasks.get_all", {"search_text": "x"})
    assert clearml_server.standin.unimplemented == ["models.no_such_call"]
    clearml_server.standin.unimplemented.clear()  # reported here on purpose; the fixture would fail the test


def test_status_machine_refuses_bad_transition_unless_forced(clearml_server):
    standin = clearml_server.standin
    task_id = standin.call("tasks.create", {"name": "t", "type": "training"})["id"]
    with pytest.raises(ApiError, match="cannot change created to completed") as error:
        standin.call("tasks.completed", {"task": task_id})
    assert error.value.subcode == 110
    standin.call("tasks.completed", {"task": task_id, "force": True})
    with pytest.raises(ApiError, match="expected created"):
        standin.call("tasks.edit", {"task": task_id, "comment": "late"})
    standin.call("tasks.reset", {"task": task_id})
    standin.call("tasks.enqueue", {"task": task_id, "queue_name": "default"})
    standin.call("tasks.dequeue", {"task": task_id})
    assert standin.task(task_id)["status"] == "created" and standin.queue_entries("default") == []
    with pytest.raises(ApiError) as error:
        standin.call("tasks.get_by_id", {"task": "nope"})
    assert error.value.subcode == 101


def test_get_all_filters_tags_order_and_projection(clearml_server):
    standin = clearml_server.standin
    ids = [
        standin.call("tasks.create", {"name": name, "type": "data_processing", "system_tags": tags,
                                      "runtime": {"version": version} if version else {}})["id"]
        for name, tags, version in [("d.1", ["dataset"], "1.0.0"), ("d.2", ["dataset", "archived"], "1.0.1"),
                                    ("d.3", ["dataset"], None), ("other", [], None)]
    ]  # fmt: skip
    query = {"name": r"^d\.", "system_tags": ["__$all", "dataset", "__$not", "archived"],
             "order_by": ["-last_update"], "only_fields": ["name", "runtime.version"]}  # fmt: skip
    assert standin.call("tasks.get_all", query)["tasks"] == [
        {"id": ids[2], "name": "d.3", "runtime": {}},
        {"id": ids[0], "name": "d.1", "runtime": {"version": "1.0.0"}},
    ]
    rows = standin.call("tasks.get_all", {"system_tags": ["-dataset"], "only_fields": ["id"]})["tasks"]
    assert rows == [{"id": ids[3]}]
    rows = standin.call("tasks.get_all", {"id": ids, "order_by": ["name"], "page": 1, "page_size": 2})["tasks"]
    assert [r["name"] for r in rows] == ["d.3", "other"]


def test_workers_register_report_unregister_and_runtime_properties(clearml_server):
    standin = clearml_server.standin
    task_id = standin.call("tasks.create", {"name": "t", "type": "training"})["id"]
    (compute,) = standin.call("queues.get_all", {"name": "^compute$"})["queues"]
    with pytest.raises(ApiError, match="Invalid queue id") as error:
        standin.call("workers.register", {"worker": "w:0", "queues": ["no-such-queue"]})
    assert error.value.subcode == 701

    standin.call("workers.register", {"worker": "w:0", "queues": [compute["id"]]})
    standin.call("workers.status_report", {"worker": "w:0", "timestamp": 1, "task": task_id, "machine_stats": {}})
    (worker,) = standin.workers()
    assert worker["id"] == "w:0" and worker["queues"] == [{"id": compute["id"], "name": "compute"}]
    assert worker["task"] == {"id": task_id, "name": "t", "last_iteration": 0}
    assert standin.task(task_id)["last_worker"] == "w:0"
    with pytest.raises(ApiError) as error:
        standin.call("workers.status_report", {"worker": "w:0", "timestamp": 2, "task": "nope"})
    assert error.value.subcode == 101

    # The agent reads and writes its runtime properties as lists of {key, value}.
    assert standin.call("workers.get_runtime_properties", {"worker": "w:0"}) == {"runtime_properties": []}
    props = [{"key": "available_gpus", "value": "0,1"}]
    standin.call("workers.set_runtime_properties", {"worker": "w:0", "runtime_properties": props})
    (prop,) = standin.call("workers.get_runtime_properties", {"worker": "w:0"})["runtime_properties"]
    assert (prop["key"], prop["value"]) == ("available_gpus", "0,1")

    # Like the real server's defaults: a report from an unknown worker registers it, and unregistering one
    # that is not registered is no error.
    standin.call("workers.status_report", {"worker": "w:1", "timestamp": 3})
    assert sorted(w["id"] for w in standin.workers()) == ["w:0", "w:1"]
    for worker_id in ("w:0", "w:1", "never-registered"):
        standin.call("workers.unregister", {"worker": worker_id})
    assert standin.workers() == []

    standin.call("tasks.ping", {"task": task_id})
    with pytest.raises(ApiError) as error:
        standin.call("tasks.ping", {"task": "nope"})
    assert error.value.subcode == 101


def test_model_endpoints_create_find_edit_publish_and_delete(clearml_server):
    standin = clearml_server.standin
    task_id = standin.call("tasks.create", {"name": "train", "type": "training"})["id"]
    with pytest.raises(ApiError, match="at least 3 characters"):
        standin.call("models.create", {"uri": "file:///m.pt", "name": "m"})
    with pytest.raises(ApiError) as error:
        standin.call("models.create", {"uri": "file:///m.pt", "name": "model", "task": "nope"})
    assert error.value.subcode == 101
    first = standin.call("models.create", {"uri": "file:///a.pt", "name": "model a", "task": task_id})["id"]
    second = standin.call("models.create", {"uri": "file:///b.pt", "name": "model b", "framework": "PyTorch"})["id"]

    def found(query):
        return [m["id"] for m in standin.call("models.get_all", {"only_fields": ["id"], **query})["models"]]

    assert found({"task": [task_id]}) == [first]
    assert found({"uri": ["file:///b.pt"]}) == [second]
    assert found({"name": "^model", "order_by": ["-name"]}) == [second, first]
    assert found({"ready": False, "framework": ["PyTorch"]}) == [second]

    edited = standin.call("models.edit", {"model": second, "task": task_id, "iteration": 7, "comment": "c"})
    assert edited["updated"] == 1 and standin.model(second)["comment"] == "c"
    assert standin.task(task_id)["last_iteration"] == 7
    standin.call("models.add_or_update_metadata", {"model": second, "metadata": [{"key": "k", "value": "1"}]})
    assert standin.model(second)["metadata"] == {"k": {"key": "k", "value": "1"}}

    standin.call("tasks.add_or_update_model", {"task": task_id, "name": "model", "model": first, "type": "output"})
    standin.call("tasks.add_or_update_model", {"task": task_id, "name": "model", "model": second, "type": "output"})
    standin.call("tasks.add_or_update_model", {"task": task_id, "name": "init", "model": first, "type": "input"})
    models = standin.task(task_id)["models"]
    assert [(m["name"], m["model"]) for m in models["output"]] == [("model", second)]
    clone = standin.task(standin.call("tasks.clone", {"task": task_id})["id"])
    assert clone["models"]["output"] == [] and [m["model"] for m in clone["models"]["input"]] == [first]

    assert standin.call("models.set_ready", {"model": second, "publish_task": False})["updated"] == 1
    with pytest.raises(ApiError) as error:
        standin.call("models.set_ready", {"model": second})
    assert error.value.subcode == 203 and standin.model(second)["ready"] is True

    with pytest.raises(ApiError) as error:  # the clone and the task use it as their input model
        standin.call("models.delete", {"model": first})
    assert error.value.subcode == 205
    assert standin.call("models.delete", {"model": first, "force": True}) == {"deleted": True, "url": "file:///a.pt"}
    with pytest.raises(ApiError) as error:
        standin.call("models.get_by_id", {"model": first})
    assert error.value.subcode == 201
    standin.call("tasks.delete_models", {"task": task_id, "models": [{"name": "model", "type": "output"}]})
    assert standin.task(task_id)["models"]["output"] == []


TORCH_SAVE = """
import torch
from clearml import Task

task = Task.init(project_name="hat/models", task_name="saves")
torch.save({"w": torch.zeros(2)}, "model.pt")
task.close()
print(task.id)
"""

READ_MODELS = """
import sys
from clearml import Task

for model in Task.get_task(task_id=sys.argv[1]).models["output"]:
    print("MODEL", model.id, model.name, model.url, model.framework)
"""


def test_torch_save_under_a_task_records_an_output_model_the_sdk_reads_back(clearml_server, tmp_path):
    pytest.importorskip("torch")
    task_id = run_python(clearml_server, tmp_path, "-c", TORCH_SAVE).stdout.split()[-1]

    (model,) = clearml_server.standin.models()
    assert model["task"] == task_id and model["framework"] == "PyTorch"
    assert model["uri"] == (tmp_path / "model.pt").as_uri()
    (slot,) = clearml_server.standin.task(task_id)["models"]["output"]
    assert slot["model"] == model["id"]
    printed = run_python(clearml_server, tmp_path, "-c", READ_MODELS, task_id).stdout
    lines = [line.split() for line in printed.splitlines() if line.startswith("MODEL ")]
    assert lines == [["MODEL", model["id"], *model["name"].split(), model["uri"], "PyTorch"]]


REPORT_SCALARS = """
from clearml import Task

task = Task.init(project_name="hat/metrics", task_name="scalars")
for i, (loss, acc) in enumerate([(0.9, 0.5), (0.4, 0.7), (0.6, 0.8)]):
    task.get_logger().report_scalar("loss", "train", value=loss, iteration=i)
    task.get_logger().report_scalar("accuracy", "val", value=acc, iteration=i)
task.close()
print(task.id)
"""

READ_SCALARS = """
import json, sys
from clearml import Task
from clearml.automation.optimization import Objective

task = Task.get_task(task_id=sys.argv[1])
print(json.dumps({
    "last": task.get_last_scalar_metrics(),
    "reported": task.get_reported_scalars(),
    "last_iteration": task.get_last_iteration(),
    "objective_last": Objective("loss", "train", order="min").get_objective(task.id),
    "objective_min": Objective("loss", "train", order="min", extremum=True).get_objective(task.id),
    "raw_objective": Objective("accuracy", "val", order="max").get_current_raw_objective(task.id),
}))
"""


def test_reported_scalars_become_last_metrics_the_sdk_and_the_optimizer_read(clearml_server, tmp_path):
    task_id = run_python(clearml_server, tmp_path, "-c", REPORT_SCALARS).stdout.split()[-1]
    printed = run_python(clearml_server, tmp_path, "-c", READ_SCALARS, task_id).stdout.splitlines()[-1]

    read = json.loads(printed)
    assert read["last"] == {"loss": {"train": {"last": 0.6, "min": 0.4, "max": 0.9}},
                            "accuracy": {"val": {"last": 0.8, "min": 0.5, "max": 0.8}}}  # fmt: skip
    assert read["reported"]["loss"]["train"] == {"name": "train", "x": [0, 1, 2], "y": [0.9, 0.4, 0.6]}
    assert read["last_iteration"] == 2
    assert (read["objective_last"], read["objective_min"], read["raw_objective"]) == (0.6, 0.4, [2, 0.8])


def test_last_metrics_summary_per_batch_like_the_real_server(clearml_server):
    standin = clearml_server.standin
    ids = [standin.call("tasks.create", {"name": f"t{i}", "type": "training"})["id"] for i in range(3)]

    def scalar(task_id, it, value, ts=0):
        return {"type": "training_stats_scalar", "task": task_id, "metric": "loss", "variant": "val", "iter": it,
                "value": value, "timestamp": ts}  # fmt: skip

    standin.call("events.add_batch", [scalar(ids[0], 2, 0.5), scalar(ids[0], 1, 0.8), scalar(ids[0], 2, 0.3, ts=9)])
    standin.call("events.add_batch", [scalar(ids[0], 0, 0.9)])
    metric_hash, variant_hash = hashlib.md5(b"loss").hexdigest(), hashlib.md5(b"val").hexdigest()
    entry = standin.task(ids[0])["last_metrics"][metric_hash][variant_hash]
    # value: the latest event of the latest batch; first_value: set by the first batch only.
    assert entry == {
        "metric": "loss", "variant": "val", "value": 0.9, "first_value": 0.8, "first_value_iteration": 1,
        "min_value": 0.3, "min_value_iteration": 2, "max_value": 0.9, "max_value_iteration": 0,
        "count": 4, "mean_value": 0.62,
    }  # fmt: skip
    assert standin.task(ids[0])["last_iteration"] == 2

    # The optimizer ranks trials by ordering on a last_metrics value: numbers sort as numbers.
    standin.call("events.add_batch", [scalar(ids[1], 0, 10.0)])
    standin.call("events.add_batch", [scalar(ids[2], 0, 2.0)])
    order = [f"-last_metrics.{metric_hash}.{variant_hash}.value"]
    rows = standin.call("tasks.get_all", {"order_by": order, "only_fields": ["name"]})["tasks"]
    assert [r["name"] for r in rows] == ["t1", "t2", "t0"]
    result = standin.call("events.add_batch", [scalar("no-such-task", 0, 1.0)])
    assert (result["added"], result["errors"]) == (0, 1)
