"""An in-memory stand-in for the ClearML API server and files server, so the real SDK can run in tests.

A real ClearML server needs MongoDB and Elasticsearch; this speaks just enough of the REST API (v2.23) for
the flows the hat uses: tracked runs, execute_remotely, runs under the real clearml-agent (workers, pings),
clone-and-edit, datasets, output models (models.*) and the scalar summary (last_metrics) sweeps read.

Run it alone and point a clearml.conf at it:

    python -m tests.clearml_standin --port 8008

In tests, use the `clearml_server` fixture from tests/standin_fixture.py. An endpoint it does not implement
answers HTTP 400 "stand-in does not implement <endpoint>" and is listed in `ApiStandIn.unimplemented`.
"""

from __future__ import annotations

import argparse
import base64
import copy
import email.parser
import email.policy
import hashlib
import json
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

API_VERSION = "2.23"
# The SDK's response models reject a task whose user or company is not a string.
USER = "standin-user"
COMPANY = "standin-company"

# The real server's transitions without force; a change to the same status is always allowed.
TRANSITIONS = {
    "created": {"queued", "in_progress"},
    "queued": {"created", "in_progress", "stopped"},
    "in_progress": {"stopped", "failed", "created", "completed"},
    "stopped": {"closed", "created", "failed", "queued", "in_progress", "published", "publishing", "completed"},
    "failed": {"created", "stopped", "published", "queued"},
    "completed": {"published", "in_progress", "created"},
    "closed": {"created", "failed", "published", "publishing", "stopped"},
}

# Where the real server lets edit_hyper_params change a task when forced.
EDITABLE_WITH_FORCE = ("created", "queued", "in_progress")

# get_all keys that shape the answer rather than filter it (search_hidden: hidden rows are always shown).
NOT_FILTERS = {"only_fields", "order_by", "page", "page_size", "search_hidden", "size", "scroll_id", "refresh_scroll"}

# get_all filters that take a value or a list of values, per entity (the real server's list_fields).
LIST_FILTERS = ("id", "project", "type", "status", "user", "parent")
MODEL_LIST_FILTERS = ("id", "project", "user", "parent", "task", "uri", "framework")

# Model fields a client may set in models.create / edit / update (the rest are the server's).
MODEL_FIELDS = (
    "name", "comment", "tags", "system_tags", "uri", "framework", "design", "labels", "ready", "project", "parent",
    "task", "metadata",
)  # fmt: skip


class ApiError(Exception):
    def __init__(self, msg: str, subcode: int = 0, code: int = 400) -> None:
        super().__init__(msg)
        self.msg, self.subcode, self.code = msg, subcode, code


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def _new_id() -> str:
    return uuid.uuid4().hex


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _token() -> str:
    # The SDK decodes the JWT without checking the signature; api_version decides which calls it makes, and
    # any feature_set but "basic" adds a users.get_vaults call. No "exp": it never expires.
    payload = {"api_version": API_VERSION, "server_version": "1.16.0", "feature_set": "basic"}
    return ".".join([_b64({"alg": "HS256", "typ": "JWT"}), _b64(payload), _b64({"sig": "standin"})])


def _md5(text: str) -> str:
    """The real server keys last_metrics by the md5 of the metric and of the variant name."""
    return hashlib.md5(text.encode()).hexdigest()


def _sort_key(value: Any) -> Tuple[int, Any]:
    # MongoDB's order across types: missing/null, then numbers, then strings (bools and others after).
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (3, value)
    if isinstance(value, (int, float)):
        return (1, value)
    return (2, str(value))


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _get_path(row: dict, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(row, dict):
            return None
        row = row.get(part)
    return row


def _tags_match(have: List[str], query: List[str]) -> bool:
    """ClearML tag filter: plain names are OR-ed, "-x" excludes x, "__$all" AND-s the names after it
    ("__$any" goes back to OR), and "__$not" negates the next name."""
    any_of, all_of, none_of = [], [], []
    mode, negate = any_of, False
    for tag in query:
        if tag in ("__$all", "__$any"):
            mode = all_of if tag == "__$all" else any_of
        elif tag == "__$not":
            negate = True
        elif negate or tag.startswith("-"):
            none_of.append(tag if negate else tag[1:])
            negate = False
        else:
            mode.append(tag)
    return (
        (not any_of or any(t in have for t in any_of))
        and all(t in have for t in all_of)
        and not any(t in have for t in none_of)
    )


def _input_artifacts(task: dict) -> List[dict]:
    return [a for a in task["execution"].get("artifacts", []) if a.get("mode", "output") != "output"]


def _projection(row: dict, fields: List[str]) -> dict:
    """MongoDB-style only_fields: "runtime.version" on a runtime without a version gives "runtime": {}."""
    out = {"id": row["id"]}
    for field in fields:
        *parents, leaf = field.split(".")
        src, dst = row, out
        for part in parents:
            if not isinstance(src.get(part), dict):
                break
            src, dst = src[part], dst.setdefault(part, {})
        else:
            if leaf in src:
                dst[leaf] = copy.deepcopy(src[leaf])
    return out


def _query(
    endpoint: str, rows: Sequence[dict], body: dict, list_filters: Sequence[str] = LIST_FILTERS,
    value_filters: Sequence[str] = (),
) -> List[dict]:
    """The get_all filters, order, paging and projection shared by tasks, projects, queues, models and workers."""
    found = list(rows)
    for key, value in body.items():
        if key in value_filters and value is not None:
            found = [r for r in found if r.get(key) == value]
            continue
        if key in NOT_FILTERS or value in (None, False, [], ""):
            continue
        if key == "name":
            found = [r for r in found if re.search(value, r.get("name") or "")]
        elif key in ("tags", "system_tags"):
            found = [r for r in found if _tags_match(r.get(key) or [], value)]
        elif key in list_filters:
            found = [r for r in found if r.get(key) in _as_list(value)]
        else:
            raise ApiError(f"stand-in does not implement the {key!r} filter of {endpoint}")
    for field in reversed(body.get("order_by") or []):
        name = field.lstrip("-")
        found.sort(key=lambda r, n=name: _sort_key(_get_path(r, n)), reverse=field.startswith("-"))
    if body.get("page_size"):
        start = (body.get("page") or 0) * body["page_size"]
        found = found[start : start + body["page_size"]]
    fields = body.get("only_fields")
    return [_projection(r, fields) if fields else copy.deepcopy(r) for r in found]


class ApiStandIn:
    """The API server and the files server, each on its own port, with all state in memory.

    `requests` logs every API call as (endpoint, body); `unimplemented` lists endpoints the SDK asked for
    that the stand-in lacks. The accessors (task, tasks, events, queue_entries...) return copies.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, files_port: int = 0) -> None:
        self.requests: List[Tuple[str, Any]] = []
        self.unimplemented: List[str] = []
        self._lock = threading.Lock()
        self._projects: Dict[str, dict] = {}
        self._tasks: Dict[str, dict] = {}
        self._queues: Dict[str, dict] = {}
        self._events: Dict[str, List[dict]] = {}
        self._files: Dict[str, bytes] = {}
        self._models: Dict[str, dict] = {}
        self._workers: Dict[str, dict] = {}
        for name in ("default", "compute"):
            self._create_queue(name)
        self._handlers: Dict[str, Callable[[dict], dict]] = {
            "auth.login": lambda body: {"token": _token()},
            "projects.create": self._projects_create,
            "projects.get_all": lambda body: {"projects": _query("projects.get_all", self._projects.values(), body)},
            "projects.get_by_id": lambda body: {"project": copy.deepcopy(self._project(body["project"]))},
            "projects.update": self._projects_update,
            "queues.create": lambda body: {"id": self._create_queue(body["name"])},
            "queues.get_all": lambda body: {"queues": _query("queues.get_all", self._queues.values(), body)},
            "queues.get_by_id": lambda body: {"queue": copy.deepcopy(self._queue(body["queue"]))},
            "queues.get_next_task": self._queues_get_next_task,
            "tasks.create": self._tasks_create,
            "tasks.get_all": lambda body: {"tasks": _query("tasks.get_all", self._tasks.values(), body)},
            "tasks.get_by_id": lambda body: {"task": copy.deepcopy(self._task(body["task"]))},
            "tasks.edit": self._tasks_edit,
            "tasks.edit_hyper_params": self._tasks_edit_hyper_params,
            "tasks.get_hyper_params": self._tasks_get_hyper_params,
            "tasks.set_requirements": self._tasks_set_requirements,
            "tasks.add_or_update_artifacts": self._tasks_add_or_update_artifacts,
            "tasks.clone": self._tasks_clone,
            "tasks.enqueue": self._tasks_enqueue,
            "tasks.dequeue": self._tasks_dequeue,
            "tasks.started": lambda body: self._set_status(body, "in_progress"),
            "tasks.stopped": lambda body: self._set_status(body, "stopped"),
            "tasks.completed": lambda body: self._set_status(body, "completed"),
            "tasks.failed": lambda body: self._set_status(body, "failed"),
            "tasks.reset": self._tasks_reset,
            "tasks.delete": self._tasks_delete,
            "tasks.ping": self._tasks_ping,
            "tasks.add_or_update_model": self._tasks_add_or_update_model,
            "tasks.delete_models": self._tasks_delete_models,
            "models.create": self._models_create,
            "models.get_by_id": lambda body: {"model": copy.deepcopy(self._model(body["model"]))},
            "models.get_all": lambda body: {
                "models": _query("models.get_all", self._models.values(), body, MODEL_LIST_FILTERS, ("ready",))
            },
            "models.edit": self._models_edit,
            "models.update": self._models_edit,
            "models.set_ready": self._models_set_ready,
            "models.add_or_update_metadata": self._models_add_or_update_metadata,
            "models.delete": self._models_delete,
            "events.add_batch": self._events_add_batch,
            "events.get_task_events": self._events_get_task_events,
            "events.scalar_metrics_iter_histogram": self._events_scalar_metrics_iter_histogram,
            "workers.register": self._workers_register,
            "workers.unregister": self._workers_unregister,
            "workers.status_report": self._workers_status_report,
            "workers.get_all": self._workers_get_all,
            # Runtime properties exist on the hosted and enterprise servers; the open-source one lacks them,
            # which the agent tolerates (it then skips the features that use them).
            "workers.get_runtime_properties": self._workers_get_runtime_properties,
            "workers.set_runtime_properties": self._workers_set_runtime_properties,
        }
        self.down = threading.Event()  # set between pause() and resume(): requests are dropped unanswered
        self._api_server, self._files_server = self._servers((host, port), (host, files_port))
        self.api_url = "http://{}:{}".format(*self._api_server.server_address[:2])
        self.files_url = "http://{}:{}".format(*self._files_server.server_address[:2])

    def _servers(self, api: Tuple[str, int], files: Tuple[str, int]) -> Tuple[ThreadingHTTPServer, ...]:
        return (ThreadingHTTPServer(api, type("ApiHandler", (_ApiHandler,), {"standin": self})),
                ThreadingHTTPServer(files, type("FilesHandler", (_FilesHandler,), {"standin": self})))

    # --- lifecycle and configuration ---

    def start(self) -> ApiStandIn:
        for server in (self._api_server, self._files_server):
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        for server in (self._api_server, self._files_server):
            server.shutdown()  # returns at once for a server pause() already shut down
            server.server_close()

    def pause(self) -> None:
        """Go down as a crashed server does, keeping every task, event and file: new connections are refused, and
        a request on a connection the SDK kept alive is dropped unanswered (the SDK sees the connection close)."""
        self.down.set()
        for server in (self._api_server, self._files_server):
            server.shutdown()
            server.server_close()

    def resume(self) -> None:
        """Come back on the same ports with the same state, as a restarted server with its database would."""
        self._api_server, self._files_server = self._servers(
            self._api_server.server_address[:2], self._files_server.server_address[:2])
        self.down.clear()
        self.start()

    def __enter__(self) -> ApiStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def clearml_conf(self, extra_sdk: str = "") -> str:
        """A clearml.conf for this stand-in; `extra_sdk` is HOCON placed inside the `sdk { }` block."""
        lines = [
            "api {",
            f'  api_server: "{self.api_url}"',
            f'  web_server: "{self.api_url}"',  # only used in printed links
            f'  files_server: "{self.files_url}"',
            '  credentials { access_key: "standin", secret_key: "standin" }',
            "}",
            "sdk {",
            # The default subprocess reporter makes every close() wait about 10 s (see the notes' Timing).
            "  development { report_use_subprocess: false }",
            *([extra_sdk.rstrip()] if extra_sdk.strip() else []),
            "}",
        ]
        return "\n".join(lines) + "\n"

    # --- accessors for tests ---

    def call(self, endpoint: str, body: Union[dict, List[dict], None] = None) -> dict:
        """Call an endpoint over HTTP, as a client would; returns `data`, raises ApiError on an error reply.
        A list body goes as json-lines, as events.add_batch wants."""
        if isinstance(body, list):
            data, content_type = "\n".join(json.dumps(line) for line in body), "application/json-lines"
        else:
            data, content_type = json.dumps(body or {}), "application/json"
        request = urllib.request.Request(
            f"{self.api_url}/v{API_VERSION}/{endpoint}",
            data=data.encode(),
            headers={"Content-Type": content_type},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read())["data"]
        except urllib.error.HTTPError as error:
            meta = json.loads(error.read())["meta"]
            raise ApiError(meta["result_msg"], meta["result_subcode"], meta["result_code"]) from None

    def task(self, task_id: str) -> dict:
        with self._lock:
            return copy.deepcopy(self._task(task_id))

    def tasks(self) -> List[dict]:
        with self._lock:
            return copy.deepcopy(list(self._tasks.values()))

    def projects(self) -> List[dict]:
        with self._lock:
            return copy.deepcopy(list(self._projects.values()))

    def events(self, task_id: str, event_type: Optional[str] = None) -> List[dict]:
        """A task's events in arrival order; event_type "log" gives console lines (key "msg"),
        "training_stats_scalar" gives scalars (metric, variant, value, iter)."""
        with self._lock:
            events = self._events.get(task_id, [])
            return copy.deepcopy([e for e in events if event_type in (None, e.get("type"))])

    def models(self) -> List[dict]:
        with self._lock:
            return copy.deepcopy(list(self._models.values()))

    def model(self, model_id: str) -> dict:
        with self._lock:
            return copy.deepcopy(self._model(model_id))

    def workers(self) -> List[dict]:
        """The registered workers (what workers.get_all answers)."""
        with self._lock:
            return self._workers_get_all({})["workers"]

    def queue_entries(self, queue_name: str) -> List[str]:
        """The ids of the tasks waiting in a queue, next first."""
        with self._lock:
            return [entry["task"] for entry in self._queue(self._queue_id(queue_name))["entries"]]

    def file(self, path: str) -> bytes:
        """An object uploaded to the files server, by its path (the URI without the files_url); KeyError if none."""
        with self._lock:
            return self._files[path.lstrip("/")]

    def put_file(self, path: str, data: bytes) -> None:
        with self._lock:
            self._files[path.lstrip("/")] = data

    # --- dispatch, called by the HTTP handlers ---

    def handle(self, endpoint: str, body: Any) -> dict:
        with self._lock:
            self.requests.append((endpoint, copy.deepcopy(body)))  # handlers keep and change the body
            handler = self._handlers.get(endpoint)
            if handler is None:
                self.unimplemented.append(endpoint)
                raise ApiError(f"stand-in does not implement {endpoint}")
            return handler(body)

    # --- lookups ---

    def _task(self, task_id: str) -> dict:
        if task_id not in self._tasks:
            raise ApiError(f"Invalid task id: {task_id}", subcode=101)
        return self._tasks[task_id]

    def _model(self, model_id: str) -> dict:
        if model_id not in self._models:
            raise ApiError(f"Invalid model id: {model_id}", subcode=201)
        return self._models[model_id]

    def _project(self, project_id: str) -> dict:
        if project_id not in self._projects:
            raise ApiError(f"Invalid project id: {project_id}", subcode=101)
        return self._projects[project_id]

    def _queue(self, queue_id: str) -> dict:
        # execute_remotely first tries the queue name as an id and expects this error.
        if queue_id not in self._queues:
            raise ApiError(f"Invalid queue id: {queue_id}", subcode=101)
        return self._queues[queue_id]

    def _queue_id(self, name: str) -> str:
        return next((q["id"] for q in self._queues.values() if q["name"] == name), f"<no queue named {name}>")

    # --- projects and queues ---

    def _projects_create(self, body: dict) -> dict:
        if any(p["name"] == body["name"] for p in self._projects.values()):
            raise ApiError(f"Project with the same name already exists: {body['name']}", subcode=701)
        project = {"description": "", "tags": [], "system_tags": [], **body, "id": _new_id()}
        project.update(user=USER, company=COMPANY, created=_now(), last_update=_now())
        self._projects[project["id"]] = project
        return {"id": project["id"]}

    def _projects_update(self, body: dict) -> dict:
        fields = {k: v for k, v in body.items() if k != "project"}
        self._project(body["project"]).update(fields, last_update=_now())
        return {"updated": 1, "fields": fields}

    def _create_queue(self, name: str) -> str:
        queue_id = _new_id()
        self._queues[queue_id] = {"id": queue_id, "name": name, "entries": [], "tags": [], "system_tags": []}
        return queue_id

    def _queues_get_next_task(self, body: dict) -> dict:
        entries = self._queue(body["queue"])["entries"]
        return {"entry": entries.pop(0)} if entries else {}

    def _dequeue_everywhere(self, task_id: str) -> None:
        for queue in self._queues.values():
            queue["entries"] = [e for e in queue["entries"] if e["task"] != task_id]

    # --- tasks ---

    def _tasks_create(self, body: dict) -> dict:
        now = _now()
        # The SDK needs output, script and runtime to be objects, even empty ones.
        task = {
            "name": "", "type": "training", "comment": "", "tags": [], "system_tags": [], "parent": None,
            "script": {}, "execution": {}, "container": {}, "runtime": {}, "output": {},
            "hyperparams": {}, "configuration": {}, "last_iteration": 0, "last_metrics": {},
            "models": {"input": [], "output": []},
            **body,
            "id": _new_id(), "status": "created", "status_reason": "", "status_message": "",
            "user": USER, "company": COMPANY, "created": now, "last_update": now, "status_changed": now,
        }  # fmt: skip
        self._tasks[task["id"]] = task
        return {"id": task["id"]}

    def _check_status(self, task: dict, allowed: Tuple[str, ...]) -> None:
        if task["status"] not in allowed:
            raise ApiError(f"Invalid task status: expected {' or '.join(allowed)}, got {task['status']}", subcode=110)

    def _tasks_edit(self, body: dict) -> dict:
        task = self._task(body["task"])
        if not body.get("force"):
            self._check_status(task, ("created",))
        fields = {k: v for k, v in body.items() if k not in ("task", "force")}
        if "output_dest" in fields:  # the real server keeps it as output.destination, where an agent run reads it
            task["output"]["destination"] = fields.pop("output_dest")
        for key, value in fields.items():
            # Like the real server: merge these one level deep, replace the rest (the SDK sends them whole).
            if key in ("script", "execution", "container") and isinstance(task.get(key), dict):
                task[key].update(value)
            else:
                task[key] = value
        task["last_update"] = _now()
        return {"updated": 1, "fields": fields}

    def _tasks_edit_hyper_params(self, body: dict) -> dict:
        task = self._task(body["task"])
        params = body.get("hyperparams", [])
        if any(p.get("section") != "properties" for p in params):  # properties may change in any status
            self._check_status(task, EDITABLE_WITH_FORCE if body.get("force") else ("created",))
        replace = body.get("replace_hyperparams", "none")
        if replace == "all":
            task["hyperparams"] = {}
        for section in {p["section"] for p in params} if replace == "section" else ():
            task["hyperparams"].pop(section, None)
        for param in params:
            task["hyperparams"].setdefault(param["section"], {})[param["name"]] = param
        task["last_update"] = _now()
        return {"updated": 1}

    def _tasks_get_hyper_params(self, body: dict) -> dict:
        params = []
        for task_id in body["tasks"]:
            sections = self._task(task_id)["hyperparams"].values()
            params.append({"task": task_id, "hyperparams": [p for section in sections for p in section.values()]})
        return {"params": params}

    def _tasks_set_requirements(self, body: dict) -> dict:
        task = self._task(body["task"])
        task["script"]["requirements"] = body["requirements"]
        return {"updated": 1, "fields": {"script.requirements": body["requirements"]}}

    def _tasks_add_or_update_artifacts(self, body: dict) -> dict:
        artifacts = self._task(body["task"])["execution"].setdefault("artifacts", [])
        for new in body["artifacts"]:
            new.setdefault("mode", "output")
            artifacts[:] = [a for a in artifacts if (a["key"], a.get("mode", "output")) != (new["key"], new["mode"])]
            artifacts.append(new)
        return {"updated": len(body["artifacts"])}

    def _tasks_clone(self, body: dict) -> dict:
        source = self._task(body["task"])
        overrides = {
            "new_task_name": "name", "new_task_comment": "comment", "new_task_tags": "tags",
            "new_task_system_tags": "system_tags", "new_task_parent": "parent", "new_task_project": "project",
            "new_task_hyperparams": "hyperparams", "new_task_configuration": "configuration",
            "new_task_container": "container",
        }  # fmt: skip
        unknown = set(body) - set(overrides) - {"task", "execution_overrides", "validate_references"}
        if unknown:
            raise ApiError(f"stand-in does not implement tasks.clone with {sorted(unknown)}")
        clone = copy.deepcopy(source)
        for key, field in overrides.items():
            if body.get(key) is not None:
                clone[field] = body[key]
        clone["parent"] = body.get("new_task_parent") or source["id"]
        clone["execution"].update(body.get("execution_overrides") or {})
        # A run of the clone must start fresh: Task.init continues from last_iteration + 1.
        clone["execution"]["artifacts"] = _input_artifacts(clone)
        clone["execution"].pop("queue", None)
        clone["system_tags"] = [t for t in clone["system_tags"] if t != "development"]
        clone["output"] = {k: v for k, v in clone["output"].items() if k == "destination"}
        clone["models"] = {"input": clone.get("models", {}).get("input", []), "output": []}
        now = _now()
        clone.update(
            id=_new_id(), status="created", status_reason="", status_message="", last_iteration=0, last_metrics={},
            created=now, last_update=now, status_changed=now,
        )  # fmt: skip
        self._tasks[clone["id"]] = clone
        return {"id": clone["id"]}

    def _set_status(self, body: dict, status: str) -> dict:
        task = self._task(body["task"])
        old = task["status"]
        if not body.get("force") and status != old and status not in TRANSITIONS.get(old, ()):
            raise ApiError(f"Invalid task status: cannot change {old} to {status}", subcode=110)
        if status != "queued":
            # The real server keeps execution.queue on a dequeued, started or finished task
            # (Task.launch_multi_node enqueues its clones there); tasks.reset unsets it.
            self._dequeue_everywhere(task["id"])
        now = _now()
        task.update(
            status=status, status_changed=now, last_update=now,
            status_reason=body.get("status_reason", ""), status_message=body.get("status_message", ""),
        )  # fmt: skip
        if status == "in_progress":
            task.setdefault("started", now)
        if status in ("completed", "failed", "stopped"):
            task["completed"] = now
        return {"updated": 1, "fields": {"status": status}}

    def _tasks_enqueue(self, body: dict) -> dict:
        queue = self._queue(body.get("queue") or self._queue_id(body.get("queue_name", "")))
        result = self._set_status(body, "queued")
        task = self._task(body["task"])
        task["execution"]["queue"] = queue["id"]
        task["system_tags"] = [t for t in task["system_tags"] if t != "development"]
        self._dequeue_everywhere(task["id"])
        queue["entries"].append({"task": task["id"], "added": _now()})
        return {"queued": 1, **result}

    def _tasks_dequeue(self, body: dict) -> dict:
        """Out of every queue, to `new_status` (clearml-agent sends in_progress as it takes a task; the default is
        created). Like the real server (1.16) it keeps execution.queue, which Task.launch_multi_node reads."""
        task = self._task(body["task"])
        if task["status"] not in ("queued", "in_progress"):
            return {"updated": 0}
        return self._set_status({**body, "force": True}, body.get("new_status") or "created")

    def _tasks_reset(self, body: dict) -> dict:
        result = self._set_status(body, "created")
        task = self._task(body["task"])
        task["execution"].pop("queue", None)
        task["execution"]["artifacts"] = _input_artifacts(task)
        task.update(last_iteration=0, last_metrics={})
        task.setdefault("models", {})["output"] = []
        return result

    def _tasks_delete(self, body: dict) -> dict:
        task = self._task(body["task"])
        if not body.get("force"):
            self._check_status(task, ("created", "stopped", "failed", "completed", "closed"))
        self._dequeue_everywhere(task["id"])
        del self._tasks[task["id"]]
        self._events.pop(task["id"], None)
        return {"deleted": True, "updated_children": 0, "updated_models": 0, "events": {}}

    def _tasks_ping(self, body: dict) -> dict:
        """The agent pings the task it runs (every 60 s); the server only touches last_update."""
        self._task(body["task"])["last_update"] = _now()
        return {}

    def _raise_last_iteration(self, task: dict, iteration: Optional[int]) -> None:
        if iteration is not None:
            task["last_iteration"] = max(task.get("last_iteration") or 0, int(iteration))

    def _tasks_add_or_update_model(self, body: dict) -> dict:
        """A task's input or output model slot, by name: replaced if the name is there, appended otherwise."""
        task = self._task(body["task"])
        kind = body.get("type")
        if kind not in ("input", "output"):
            raise ApiError(f"Invalid model type: {kind!r} (expected input or output)", subcode=0)
        slots = task.setdefault("models", {}).setdefault(kind, [])
        entry = {"name": body["name"], "model": body["model"], "updated": _now()}
        for i, slot in enumerate(slots):
            if slot["name"] == body["name"]:
                slots[i] = entry
                break
        else:
            slots.append(entry)
        self._raise_last_iteration(task, body.get("iteration"))
        task["last_update"] = _now()
        return {"updated": 1}

    def _tasks_delete_models(self, body: dict) -> dict:
        task = self._task(body["task"])
        models = task.setdefault("models", {})
        for item in body.get("models", []):
            models[item["type"]] = [m for m in models.get(item["type"], []) if m["name"] != item["name"]]
        task["last_update"] = _now()
        return {"updated": 1}

    # --- models ---

    def _model_fields(self, body: dict) -> dict:
        fields = {k: copy.deepcopy(v) for k, v in body.items() if k in MODEL_FIELDS}
        if "name" in fields and len((fields["name"] or "").strip()) < 3:
            raise ApiError(f"Validation error: model name must have at least 3 characters: {fields['name']!r}")
        if fields.get("project"):
            self._project(fields["project"])
        if fields.get("task"):
            self._task(fields["task"])
        if isinstance(fields.get("metadata"), list):  # the API takes a list of items, the server keeps a map
            fields["metadata"] = {item["key"]: item for item in fields["metadata"]}
        return fields

    def _models_create(self, body: dict) -> dict:
        for required in ("uri", "name"):
            if required not in body:
                raise ApiError(f"Validation error: missing required field {required!r} in models.create")
        now = _now()
        model = {
            "comment": "", "tags": [], "system_tags": [], "framework": None, "design": {}, "labels": {},
            "ready": False, "project": None, "parent": None, "task": None, "metadata": {}, "last_iteration": 0,
            "last_metrics": {},
            **self._model_fields(body),
            "id": _new_id(), "user": USER, "company": COMPANY, "created": now, "last_update": now,
            "last_change": now,
        }  # fmt: skip
        self._models[model["id"]] = model
        return {"id": model["id"], "created": True}

    def _models_edit(self, body: dict) -> dict:
        """models.edit and models.update: set the given fields; an iteration raises the model's task's."""
        model = self._model(body["model"])
        fields = self._model_fields(body)
        task_id = model.get("task") or fields.get("task")
        if task_id and body.get("iteration") is not None:
            self._raise_last_iteration(self._task(task_id), body["iteration"])
        if not fields:
            return {"updated": 0}
        model.update(fields, last_update=_now(), last_change=_now())
        return {"updated": 1, "fields": fields}

    def _models_set_ready(self, body: dict) -> dict:
        model = self._model(body["model"])
        if model["ready"]:
            raise ApiError(f"Model is ready: {model['id']}", subcode=203)
        published_task = None
        if model.get("task") and body.get("publish_task", True) and model["task"] in self._tasks:
            task = self._tasks[model["task"]]
            if task["status"] != "published":
                result = self._set_status({"task": task["id"], "force": body.get("force_publish_task")}, "published")
                published_task = {"id": task["id"], "data": result}
        model.update(ready=True, last_update=_now(), last_change=_now())
        return {"updated": 1, "published_task": published_task}

    def _models_add_or_update_metadata(self, body: dict) -> dict:
        model = self._model(body["model"])
        items = {item["key"]: copy.deepcopy(item) for item in body.get("metadata", [])}
        if body.get("replace_metadata"):
            model["metadata"] = items
        else:
            model.setdefault("metadata", {}).update(items)
        model.update(last_update=_now(), last_change=_now())
        return {"updated": 1}

    def _models_delete(self, body: dict) -> dict:
        model = self._model(body["model"])
        users = [t for t in self._tasks.values() if any(m["model"] == model["id"] for m in t["models"]["input"])]
        if users and not body.get("force"):
            raise ApiError(f"Model is used by tasks: as execution model, use force=True to delete ({len(users)})",
                           subcode=205)
        for task in self._tasks.values():
            for kind in ("input", "output"):
                for slot in task["models"][kind]:
                    if slot["model"] == model["id"]:
                        slot["model"] = f"__DELETED__{model['id']}"
        del self._models[model["id"]]
        return {"deleted": True, "url": model.get("uri")}

    # --- workers ---

    def _workers_register(self, body: dict) -> dict:
        queues = body.get("queues") or []
        unknown = [q for q in queues if q not in self._queues]
        if unknown:
            raise ApiError(f"Invalid queue id: {unknown}", subcode=701)
        timeout = body.get("timeout") or 600
        if timeout <= 0:
            raise ApiError(f"Worker registration failed: invalid timeout {timeout}", subcode=1002)
        now = _now()
        old = self._workers.get(body["worker"], {})
        self._workers[body["worker"]] = {
            "id": body["worker"], "queues": queues, "tags": body.get("tags") or [],
            "system_tags": body.get("system_tags") or [], "register_time": now, "register_timeout": timeout,
            "last_activity_time": now, "last_report_time": None, "task": None, "project": None, "queue": None,
            "runtime_properties": old.get("runtime_properties", {}),
        }  # fmt: skip
        return {}

    def _workers_unregister(self, body: dict) -> dict:
        # The real server's default (apiserver.workers.auto_unregister: true) accepts an unknown worker.
        self._workers.pop(body["worker"], None)
        return {}

    def _workers_status_report(self, body: dict) -> dict:
        if body["worker"] not in self._workers:  # apiserver.workers.auto_register: true, the default
            self._workers_register({"worker": body["worker"]})
        worker = self._workers[body["worker"]]
        now = _now()
        for key in ("tags", "system_tags"):
            if body.get(key) is not None:
                worker[key] = body[key]
        if body.get("queues"):
            worker["queues"] = body["queues"]
        worker.update(last_activity_time=now, last_report_time=now, queue=body.get("queue"), task=None, project=None)
        if body.get("task"):
            task = self._task(body["task"])
            task.update(last_worker=body["worker"], last_worker_report=now, last_update=now)
            worker["task"] = task["id"]
            worker["project"] = task.get("project")
        if body.get("machine_stats"):
            worker["machine_stats"] = copy.deepcopy(body["machine_stats"])
        return {}

    def _workers_get_all(self, body: dict) -> dict:
        rows = []
        for worker in self._workers.values():
            task = self._tasks.get(worker["task"]) if worker["task"] else None
            row = {k: copy.deepcopy(v) for k, v in worker.items() if k not in ("runtime_properties", "machine_stats")}
            queues = self._queues
            row.update(
                user={"id": USER, "name": USER}, company={"id": COMPANY, "name": COMPANY}, key=f"worker_{worker['id']}",
                task={"id": task["id"], "name": task["name"], "last_iteration": task["last_iteration"]}
                if task else None,
                queues=[{"id": q, "name": queues[q]["name"]} for q in worker["queues"] if q in queues],
                queue={"id": worker["queue"], "name": queues[worker["queue"]]["name"]}
                if worker["queue"] in queues else None,
            )  # fmt: skip
            rows.append(row)
        return {"workers": rows}

    def _workers_get_runtime_properties(self, body: dict) -> dict:
        props = self._workers.get(body["worker"], {}).get("runtime_properties", {})
        return {"runtime_properties": [copy.deepcopy(p) for p in props.values()]}

    def _workers_set_runtime_properties(self, body: dict) -> dict:
        if body["worker"] not in self._workers:
            self._workers_register({"worker": body["worker"]})
        props = self._workers[body["worker"]]["runtime_properties"]
        for prop in body.get("runtime_properties", []):
            props[prop["key"]] = {"key": prop["key"], "value": prop.get("value"), "expiry": prop.get("expiry")}
        return {"added": [p["key"] for p in body.get("runtime_properties", [])], "removed": [], "errors": []}

    # --- events ---

    def _events_add_batch(self, events: List[dict]) -> dict:
        added, errors = 0, 0
        scalars: Dict[str, Dict[Tuple[str, str], List[dict]]] = {}  # task -> (metric, variant) -> this batch's
        for event in events:
            if event.get("task") not in self._tasks:  # the real server counts these as errors, stores nothing
                errors += 1
                continue
            event.setdefault("timestamp", int(datetime.now(timezone.utc).timestamp() * 1000))
            self._events.setdefault(event["task"], []).append(event)
            added += 1
            task = self._tasks[event["task"]]
            if event.get("iter") is not None:
                event["iter"] = int(event["iter"])
                self._raise_last_iteration(task, event["iter"])
            if event.get("type") == "training_stats_scalar" and event.get("value") is not None:
                series = (event.get("metric") or "", event.get("variant") or "")
                scalars.setdefault(event["task"], {}).setdefault(series, []).append(event)
            task["last_update"] = _now()
        for task_id, by_series in scalars.items():
            for (metric, variant), batch in by_series.items():
                self._update_last_metrics(self._tasks[task_id], metric, variant, batch)
        return {"added": added, "errors": errors, "errors_info": {}}

    @staticmethod
    def _update_last_metrics(task: dict, metric: str, variant: str, batch: List[dict]) -> None:
        """The real server's scalar summary, updated once per add_batch call and series, as it does:
        last_metrics[md5(metric)][md5(variant)] gets the value of the batch's latest event (by iteration, then
        timestamp), min/max (kept across batches) and first value (set once), each with its iteration, and
        count and mean_value (rounded to 2 places, as the server stores it)."""
        entry = task.setdefault("last_metrics", {}).setdefault(_md5(metric), {}).setdefault(_md5(variant), {})
        key = lambda e: (e.get("iter") or 0, e.get("timestamp") or 0)  # noqa: E731
        last, first = max(batch, key=key), min(batch, key=lambda e: e.get("iter") or 0)
        low, high = min(batch, key=lambda e: e["value"]), max(batch, key=lambda e: e["value"])
        entry.update(metric=metric, variant=variant, value=last["value"])
        if "first_value" not in entry:
            entry.update(first_value=first["value"], first_value_iteration=first.get("iter") or 0)
        if "min_value" not in entry or low["value"] < entry["min_value"]:
            entry.update(min_value=low["value"], min_value_iteration=low.get("iter") or 0)
        if "max_value" not in entry or high["value"] > entry["max_value"]:
            entry.update(max_value=high["value"], max_value_iteration=high.get("iter") or 0)
        count = entry.get("count", 0)
        total = entry.get("mean_value", 0) * count + sum(e["value"] for e in batch)
        entry.update(count=count + len(batch), mean_value=round(total / (count + len(batch)), 2))

    def _events_scalar_metrics_iter_histogram(self, body: dict) -> dict:
        """Every scalar series of a task as {metric: {variant: {name, x, y}}}, y averaged per x (the real
        server also down-samples to `samples` buckets; the stand-in returns every point)."""
        self._task(body["task"])
        key = body.get("key") or "iter"
        if key not in ("iter", "timestamp", "iso_time"):
            raise ApiError(f"Validation error: invalid scalar key {key!r}")
        wanted = {(m["metric"], v) for m in body.get("metrics") or [] for v in m.get("variants") or [""]}
        points: Dict[str, Dict[str, Dict[Any, List[float]]]] = {}
        for event in self._events.get(body["task"], []):
            if event.get("type") != "training_stats_scalar" or event.get("value") is None:
                continue
            metric, variant = event.get("metric") or "", event.get("variant") or ""
            if wanted and (metric, variant) not in wanted and (metric, "") not in wanted:
                continue
            x = event.get("iter") or 0 if key == "iter" else event.get("timestamp") or 0
            points.setdefault(metric, {}).setdefault(variant, {}).setdefault(x, []).append(event["value"])
        result: Dict[str, Dict[str, dict]] = {}
        for metric, variants in points.items():
            for variant, by_x in variants.items():
                xs = sorted(by_x)
                ys = [sum(by_x[x]) / len(by_x[x]) for x in xs]
                if key == "iso_time":
                    xs = [datetime.fromtimestamp(x / 1000, timezone.utc).isoformat() for x in xs]
                result.setdefault(metric, {})[variant] = {"name": variant, "x": xs, "y": ys}
        return result

    def _events_get_task_events(self, body: dict) -> dict:
        """All of a task's events of one type in a single batch (Task.delete reads them for image URLs)."""
        wanted = body.get("event_type")
        events = [e for e in self._events.get(body["task"], []) if wanted in (None, e.get("type"))]
        return {"events": copy.deepcopy(events), "returned": len(events), "total": len(events), "scroll_id": ""}


def _parse_body(raw: str, headers: Any) -> Any:
    # The SDK adds "method" to every body (and every event line); stored, it would land in the task.
    if "json-lines" in (headers.get("Content-Type") or ""):
        lines = [json.loads(line) for line in raw.splitlines() if line.strip()]
        return [{k: v for k, v in line.items() if k != "method"} for line in lines]
    body = json.loads(raw) if raw.strip() else {}
    body.pop("method", None)
    return body


class _Handler(BaseHTTPRequestHandler):
    standin: ApiStandIn
    # Keep-alive, as the SDK reuses its connections. Without TCP_NODELAY each reply (headers, then body) waits
    # about 40 ms for a delayed ACK.
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the request log is ApiStandIn.requests; per-request lines would flood the test output

    def _dropped(self) -> bool:
        """While the stand-in is paused: close the connection without an answer, before anything is stored."""
        if self.standin.down.is_set():
            self.close_connection = True
            return True
        return False

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _reply(self, code: int, payload: bytes, content_type: str = "application/json") -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class _ApiHandler(_Handler):
    def do_GET(self) -> None:  # the SDK's default method, with a JSON body
        if self._dropped():
            return
        path = self.path.split("?")[0].strip("/")
        version_prefix = re.match(r"v(\d+\.\d+)/", path)
        endpoint = path[version_prefix.end() :] if version_prefix else path
        raw = self._body().decode()
        try:
            data, code, subcode, msg = self.standin.handle(endpoint, _parse_body(raw, self.headers)), 200, 0, "OK"
        except ApiError as error:
            data, code, subcode, msg = {}, error.code, error.subcode, error.msg
        except Exception as error:
            # Any other failure is a request the stand-in cannot serve. Answer it: a dropped connection would
            # make the SDK retry for minutes instead of failing the test.
            data, code, subcode, msg = {}, 400, 0, f"stand-in failed on {endpoint}: {error!r}"
        version = version_prefix.group(1) if version_prefix else API_VERSION
        meta = {
            "id": _new_id(), "trx": _new_id(),
            "endpoint": {"name": endpoint, "requested_version": version, "actual_version": API_VERSION},
            "result_code": code, "result_subcode": subcode, "result_msg": msg, "error_stack": None,
        }  # fmt: skip
        self._reply(code, json.dumps({"meta": meta, "data": data}).encode())

    do_POST = do_GET


class _FilesHandler(_Handler):
    def do_POST(self) -> None:
        """Upload: one multipart part whose field name is the object path below the URL's path."""
        if self._dropped():
            return
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + self.headers["Content-Type"].encode() + b"\r\n\r\n" + self._body()
        )
        prefix = self.path.split("?")[0].strip("/")
        parts = list(message.iter_parts())
        if not parts:
            self._reply(400, b"stand-in files server: expected a multipart upload", "text/plain")
            return
        for part in parts:
            name = part.get_param("name", header="content-disposition")
            self.standin.put_file("/".join(p for p in (prefix, name.strip("/")) if p), part.get_payload(decode=True))
        self._reply(200, b"{}")

    def do_GET(self) -> None:
        if self._dropped():
            return
        try:
            data = self.standin.file(urllib.parse.unquote(self.path.split("?")[0]))
        except KeyError:
            self._reply(404, b"not found", "text/plain")
            return
        self._reply(200, data, "application/octet-stream")


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve an in-memory ClearML API stand-in until Ctrl-C.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind")
    parser.add_argument("--port", type=int, default=8008, help="API server port (0: any free port)")
    parser.add_argument("--files-port", type=int, default=8081, help="files server port (0: any free port)")
    args = parser.parse_args()
    standin = ApiStandIn(args.host, args.port, args.files_port).start()
    print("Put this in a clearml.conf and point CLEARML_CONFIG_FILE at it:\n")
    print(standin.clearml_conf(), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        standin.stop()


if __name__ == "__main__":
    main()
