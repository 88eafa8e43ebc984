"""Server outage: the ClearML stand-in goes down in the middle of a tracked training.

Back after 10 s: the training goes on, every console line and value reaches the task, the exit code is the
training's. Gone for good: the hat ends about 30 s (tracking.SERVER_GONE_AFTER) after the training with one line
saying so and where the training's result is. About 45 s with `-n 2` (the two runs are 30 and 45 s long).
"""
from __future__ import annotations

import http.client

import pytest

from clearml_hat.clearml import tracking
from tests.clearml_standin import ApiError
from tests.outage import run_with_outage, training_lines, training_values

pytestmark = pytest.mark.clearml


def test_pause_refuses_and_drops_requests_and_resume_keeps_port_and_state(clearml_server):
    standin = clearml_server.standin
    project = standin.call("projects.create", {"name": "kept"})["id"]
    kept_alive = http.client.HTTPConnection(standin.api_url[len("http://"):], timeout=5)
    kept_alive.request("GET", "/v2.23/projects.get_all", body="{}")
    assert kept_alive.getresponse().read()
    api_url = standin.api_url

    standin.pause()
    with pytest.raises(OSError):  # connection refused
        standin.call("projects.get_all", {})
    kept_alive.request("GET", "/v2.23/projects.get_all", body="{}")
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        kept_alive.getresponse()  # a connection the SDK kept alive: closed without an answer
    standin.resume()

    assert standin.api_url == api_url
    assert [p["id"] for p in standin.call("projects.get_all", {})["projects"]] == [project]
    with pytest.raises(ApiError):
        standin.call("tasks.get_by_id", {"task": "nope"})  # it answers errors again too


def test_training_goes_on_through_a_10_s_outage_and_everything_reaches_the_task(tmp_path, clearml_server):
    standin = clearml_server.standin
    run = run_with_outage(standin, clearml_server.env, tmp_path, steps=20, step_seconds=1.0, pause_at_step=4,
                          outage=10.0)
    assert run.resumed_at is not None and run.resumed_at - run.paused_at >= 10.0
    assert run.returncode == 0, run.output  # the training's: main() returned
    assert "Traceback" not in run.output
    (task,) = standin.tasks()
    assert task["status"] == "completed"
    logged = set("\n".join(e["msg"] for e in standin.events(task["id"], "log")).splitlines())
    missing = [line for line in training_lines(20) if line not in logged]
    assert not missing, f"{len(missing)} console lines never reached the task, first: {missing[:3]}"
    events = standin.events(task["id"], "training_stats_scalar")
    # main()'s dict as single values, and the loss each step printed as a scalar (printed metrics), all of them.
    assert {e["variant"]: e["value"] for e in events if e["metric"] == "Summary"} == training_values(20)
    printed = {e["iter"]: e["value"] for e in events if e["metric"] == "loss"}
    assert printed == {step: pytest.approx(1.0 / step, abs=1e-6) for step in range(1, 21)}


def test_server_gone_for_good_ends_in_bounded_time_saying_where_the_result_is(tmp_path, clearml_server):
    run = run_with_outage(clearml_server.standin, clearml_server.env, tmp_path, steps=8, step_seconds=0.5,
                          pause_at_step=2, outage=None, timeout=120)
    assert run.returncode == tracking.ServerGone.exit_code, run.output
    assert run.training_done_at is not None, "the training did not run to its end"
    assert run.ended_at - run.training_done_at < tracking.SERVER_GONE_AFTER + 10, run.output
    assert "Traceback" not in run.output
    last = run.output.strip().splitlines()[-1]
    assert last.startswith("hat.py: error: the ClearML server http://127.0.0.1:") and "has not answered for 30 s" \
        in last, run.output
    assert 'its values (not on the task): {"final_loss": 0.125, "steps": 8.0}' in last
    printed = set(run.output.splitlines())
    assert all(line in printed for line in training_lines(8))  # the console output is on the terminal
