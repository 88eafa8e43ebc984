"""Distributed training under the hat, with real torch (gloo on the CPU), the real SDK and the real clearml-agent:
`--nproc_per_node 2` offline and against the stand-in, a crash in rank 1, bad launch flags, and a two-node run
across two agents through Task.launch_multi_node. The training is tests/ddp_allreduce.py."""
from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Dict, List

import pytest

from clearml_hat.local.distributed import Node, read_result, torchrun_command, write_result
from tests.conftest import REPO, run_script
from tests.missing_modules import missing_env
from tests.real_agent import FINAL_STATUSES, RealAgent
from tests.test_remote import PROJECT_FILES, commit, enqueue_from, log_text, make_checkout, params

pytestmark = pytest.mark.clearml

DDP = REPO / "tests" / "ddp_allreduce.py"


def ddp_run(tmp_path: Path, env: Dict[str, str], *args: str, crash_rank: int = -1) -> tuple:
    """`python hat.py --nproc_per_node 2` on the DDP training, value 2.5 from the YAML; returns (result, records)."""
    out = tmp_path / "ranks"
    (tmp_path / "ddp.yaml").write_text(f"value: 2.5\nout: {out}\ncrash_rank: {crash_rank}\n")
    result = run_script(["hat.py", "--script", str(DDP), "--train_yaml", str(tmp_path / "ddp.yaml"),
                         "--nproc_per_node", "2", *args], env, timeout=180)
    return result, records(out)


def records(out: Path) -> List[dict]:
    return [json.loads(p.read_text()) for p in sorted(out.glob("rank*.json"))]


def assert_two_ranks_all_reduced(ranks: List[dict]) -> None:
    assert [(r["rank"], r["world_size"], r["value"]) for r in ranks] == [(0, 2, 2.5), (1, 2, 2.5)]
    assert [r["all_reduced"] for r in ranks] == [7.5, 7.5]  # 2.5 * 1 + 2.5 * 2, on both ranks
    assert [r["grad"] for r in ranks] == [6.0, 6.0]  # DDP's averaged gradient: (4 * 1 + 4 * 2) / 2


def test_torchrun_command_standalone_here_static_rendezvous_across_nodes(tmp_path):
    here = torchrun_command(Path("t.py"), ["--lr", "0.1"], 2, None, tmp_path, tmp_path / "r.json")
    assert here[1:5] == ["-m", "torch.distributed.run", "--nproc_per_node", "2"]
    assert "--standalone" in here and here[here.index("--tee") + 1] == "3"
    assert here[-6:] == ["-m", "clearml_hat.local.rank", str(tmp_path / "r.json"), "t.py", "--lr", "0.1"]
    node = torchrun_command(Path("t.py"), [], 4, Node(2, 1, "10.0.0.5", 29511), tmp_path, tmp_path / "r.json")
    assert "--standalone" not in node
    flags = node[node.index("--nnodes"):node.index("-m", 3)]
    assert flags == ["--nnodes", "2", "--node_rank", "1", "--master_addr", "10.0.0.5", "--master_port", "29511"]


def test_rank_0_result_goes_through_a_file_as_main_returned_it(tmp_path):
    write_result(tmp_path / "a.json", {"acc": 0.5})
    write_result(tmp_path / "b.json", tmp_path)
    write_result(tmp_path / "c.json", {"model": object()})  # not recordable, as in a one-process run
    write_result(tmp_path / "d.json", None)
    assert read_result(tmp_path / "a.json") == {"acc": 0.5}
    assert read_result(tmp_path / "b.json") == tmp_path
    assert read_result(tmp_path / "c.json") is None and read_result(tmp_path / "d.json") is None


def offline_sessions(env: dict) -> list:
    folder = Path(env["CLEARML_CACHE_DIR"]) / "offline"
    return sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []


def test_two_ranks_offline_record_one_session_with_both_ranks_lines_and_rank_0s_result(tmp_path, offline_env):
    pytest.importorskip("torch")
    result, ranks = ddp_run(tmp_path, offline_env)
    assert result.returncode == 0, result.stderr
    assert_two_ranks_all_reduced(ranks)
    (session,) = offline_sessions(offline_env)
    task = json.loads((session / "task.json").read_text())
    assert task["hyperparams"]["train_args"]["value"]["value"] == "2.5"
    assert task["hyperparams"]["hat"]["nproc_per_node"]["value"] == "2"
    log = "".join(event["msg"] for line in (session / "log.jsonl").open() for event in json.loads(line))
    assert "[rank0]:rank 0 all-reduced 7.5" in log and "[rank1]:rank 1 all-reduced 7.5" in log
    metrics = [e for line in (session / "metrics.jsonl").open() for e in json.loads(line)]
    assert {e["variant"]: e["value"] for e in metrics if e["type"] == "training_stats_scalar"} == {
        "all_reduced": 7.5, "world_size": 2}


def test_two_ranks_against_a_server_make_one_task_that_no_rank_rewrites(tmp_path, clearml_server):
    pytest.importorskip("torch")
    result, ranks = ddp_run(tmp_path, clearml_server.env)
    assert result.returncode == 0, result.stderr
    assert_two_ranks_all_reduced(ranks)
    standin = clearml_server.standin
    (task,) = standin.tasks()
    assert task["status"] == "completed"
    assert params(task, "train_args")["value"] == "2.5" and params(task, "hat")["nproc_per_node"] == "2"
    log = log_text(standin, task["id"])
    assert "[rank0]:rank 0 all-reduced 7.5" in log and "[rank1]:rank 1 all-reduced 7.5" in log
    scalars = standin.events(task["id"], "training_stats_scalar")
    assert {e["variant"]: e["value"] for e in scalars} == {"all_reduced": 7.5, "world_size": 2}
    # The ranks attach (three logins: the owner and two ranks) and only read: no task, no edit of the task (the SDK's
    # minutely tasks.ping, sent on a slow run, changes nothing).
    endpoints = [endpoint for endpoint, _ in standin.requests]
    assert endpoints.count("auth.login") == 3 and endpoints.count("tasks.create") == 1
    ranks_start = [i for i, endpoint in enumerate(endpoints) if endpoint == "auth.login"][1]
    writes = [(endpoint, sorted(set(body) - {"task", "force"})) for endpoint, body in standin.requests[ranks_start:]
              if endpoint.startswith("tasks.") and endpoint not in ("tasks.get_by_id", "tasks.get_all", "tasks.ping")]
    # Left: each rank's Task.init records ClearML's start-up runtime info (CLI, version, progress 0), the owner's
    # close() progress 100, and the owner's completed.
    assert writes == [("tasks.edit", ["runtime"])] * 3 + [("tasks.completed", ["publish", "status_reason"])], writes


def test_a_crash_in_rank_1_fails_the_task_with_its_traceback_and_torchruns_exit_code(tmp_path, clearml_server):
    pytest.importorskip("torch")
    result, ranks = ddp_run(tmp_path, clearml_server.env, crash_rank=1)
    assert result.returncode == 1, result.stderr  # torchrun's
    assert ranks == []
    (task,) = clearml_server.standin.tasks()
    assert task["status"] == "failed"
    assert task["status_reason"].startswith("torchrun exited with code 1: a rank failed")
    log = log_text(clearml_server.standin, task["id"])
    assert "[rank1]:" in log and "RuntimeError: boom on rank 1" in log
    assert "hat.py: torchrun exited with code 1" in result.stderr.splitlines()[-1]


@pytest.mark.parametrize("args, hide_torch, message", [
    (["--nproc_per_node", "0"], False, "--nproc_per_node 0: give the number of processes per machine, 1 or more"),
    (["--nodes", "2"], False, "--nodes 2 needs --remote"),
    (["--nproc_per_node", "2"], True, "torch is not installed"),
], ids=["no processes", "nodes without remote", "no torch"])
def test_bad_launch_flags_are_one_line_before_any_task(tmp_path, offline_env, args, hide_torch, message):
    env = missing_env(offline_env, "torch") if hide_torch else offline_env
    result = run_script(["hat.py", *args, f"output_dir={tmp_path / 'out'}"], env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hat.py: error: ") and message in lines[0], result.stderr
    assert offline_sessions(offline_env) == [] and not (tmp_path / "out").exists()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_two_nodes_on_two_agents_are_one_job_through_launch_multi_node(tmp_path, clearml_server, real_agent):
    pytest.importorskip("torch")
    work = make_checkout(tmp_path, files=[*PROJECT_FILES, "tests/ddp_allreduce.py"])
    out = tmp_path / "ranks"
    (work / "ddp.yaml").write_text(f"value: 2.5\nout: {out}\ncrash_rank: -1\n")
    commit(work, "the DDP training")
    second = RealAgent(clearml_server, tmp_path / "agent2")
    # Both agents on this machine: node 0's address is loopback, and its port one that is free now.
    network = {"CLEARML_MULTI_NODE_MASTER_DEF_ADDR": "127.0.0.1",
               "CLEARML_MULTI_NODE_MASTER_DEF_PORT": str(free_port())}
    for agent in (real_agent, second):
        agent.env.update(network)
    try:
        with real_agent.daemon("default") as first_daemon, second.daemon("default") as second_daemon:
            enqueued = enqueue_from(work, clearml_server, "--script", "tests/ddp_allreduce.py", "--train_yaml",
                                    "ddp.yaml", "--nodes", "2", "--nproc_per_node", "1")
            assert enqueued.returncode == 0, enqueued.stderr
            (master,) = clearml_server.standin.tasks()
            # Either agent may take node 0; the other one takes the clone it enqueues.
            done = lambda: [t["status"] for t in clearml_server.standin.tasks()]  # noqa: E731
            first_daemon.wait_until(lambda: len(done()) == 2 and all(s in FINAL_STATUSES for s in done()) or
                                    done()[0] in FINAL_STATUSES and len(done()) == 1, 180, "both nodes to finish")
            for daemon in (first_daemon, second_daemon):
                daemon.wait_until(lambda d=daemon: not d._runs(master["id"]), 30, "the agents to be idle")
    finally:
        second.close()
    standin = clearml_server.standin
    logs = "\n---\n".join(log_text(standin, t["id"]) for t in standin.tasks())
    assert len(standin.tasks()) == 2, logs
    master = standin.task(master["id"])
    (clone,) = [t for t in standin.tasks() if t["id"] != master["id"]]
    assert (master["status"], clone["status"]) == ("completed", "completed"), logs
    assert params(master, "hat")["nodes"] == "2" and params(master, "hat")["nproc_per_node"] == "1"
    assert clone["parent"] == master["id"] and "hidden" in clone["system_tags"]
    assert [t["id"] for t in standin.tasks() if "hidden" not in t["system_tags"]] == [master["id"]]
    ranks = records(out)
    assert [(r["rank"], r["node_rank"], r["world_size"], r["value"]) for r in ranks] == [(0, 0, 2, 2.5),
                                                                                       (1, 1, 2, 2.5)]
    assert [r["all_reduced"] for r in ranks] == [7.5, 7.5]
    assert "[rank0]:rank 0 all-reduced 7.5" in log_text(standin, master["id"])
    assert "[rank1]:rank 1 all-reduced 7.5" in log_text(standin, clone["id"])
    scalars = standin.events(master["id"], "training_stats_scalar")
    assert {e["variant"]: e["value"] for e in scalars} == {"all_reduced": 7.5, "world_size": 2}


def torchrun_by_hand(tmp_path: Path, env: Dict[str, str], crash_rank: int = -1) -> tuple:
    """`torchrun --nproc_per_node 2 hat.py ...` as a user types it (torchrun is `python -m torch.distributed.run`)."""
    out = tmp_path / "ranks"
    (tmp_path / "ddp.yaml").write_text(f"value: 2.5\nout: {out}\ncrash_rank: {crash_rank}\n")
    result = run_script(["-m", "torch.distributed.run", "--nproc_per_node", "2", "hat.py", "--script", str(DDP),
                         "--train_yaml", str(tmp_path / "ddp.yaml")], env, timeout=180)
    return result, records(out)


def test_torchrun_typed_by_hand_makes_the_same_one_task(tmp_path, clearml_server):
    pytest.importorskip("torch")
    result, ranks = torchrun_by_hand(tmp_path, clearml_server.env)
    assert result.returncode == 0, result.stderr
    assert_two_ranks_all_reduced(ranks)
    standin = clearml_server.standin
    (task,) = standin.tasks()
    assert task["status"] == "completed"
    assert params(task, "train_args")["value"] == "2.5"
    log = log_text(standin, task["id"])
    assert "[rank0]:rank 0 all-reduced 7.5" in log and "[rank1]:rank 1 all-reduced 7.5" in log
    scalars = standin.events(task["id"], "training_stats_scalar")
    assert {e["variant"]: e["value"] for e in scalars} == {"all_reduced": 7.5, "world_size": 2}


def test_torchrun_typed_by_hand_a_crash_in_rank_1_fails_the_task_with_its_traceback(tmp_path, clearml_server):
    pytest.importorskip("torch")
    result, _ = torchrun_by_hand(tmp_path, clearml_server.env, crash_rank=1)
    assert result.returncode == 1, result.stderr
    (task,) = clearml_server.standin.tasks()
    assert task["status"] == "failed"
    log = log_text(clearml_server.standin, task["id"])
    assert "[rank1]:Traceback" in log and "[rank1]:RuntimeError: boom on rank 1" in log


def test_hat_flags_that_launch_are_refused_under_a_hand_typed_torchrun(tmp_path, offline_env):
    pytest.importorskip("torch")
    result = run_script(["-m", "torch.distributed.run", "--nproc_per_node", "1", "hat.py", "--nproc_per_node", "2",
                         f"output_dir={tmp_path / 'out'}"], offline_env, timeout=120)
    assert result.returncode != 0
    assert "hat.py: error: --nproc_per_node/--nodes/--remote under torchrun" in result.stderr
    assert offline_sessions(offline_env) == []
