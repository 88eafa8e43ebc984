"""An in-memory stand-in for the ClearML API server and files server, so the real SDK can run in tests.

A real ClearML server needs MongoDB and Elasticsearch; this speaks just enough of the REST API (v2.23) for
the flows the hat uses: tracked runs, execute_remotely, agent runs, clone-and-edit and datasets.

Run it alone and point a clearml.conf at it:

    python -m tests.clearml_standin --port 8008

In tests, use the `clearml_server` fixture from tests/standin_fixture.py. An endpoint it does not implement
answers HTTP 400 "stand-in does not implement <endpoint>" and is listed in `StandIn.unimplemented`.
"""

from __future__ import annotations

import argparse
import base64
import copy
import email.parser
import email.policy
import json
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

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


def _query(endpoint: str, rows: List[dict], body: dict) -> List[dict]:
    """The get_all filters, order, paging and projection shared by tasks, projects and queues."""
    found = list(rows)
    for key, value in body.items():
        if key in NOT_FILTERS or value in (None, False, [], ""):
            continue
        if key == "name":
            found = [r for r in found if re.search(value, r.get("name", ""))]
        elif key in ("tags", "system_tags"):
            found = [r for r in found if _tags_match(r.get(key, []), value)]
        elif key in ("id", "project", "type", "status", "user", "parent"):
            found = [r for r in found if r.get(key) in _as_list(value)]
        else:
            raise ApiError(f"stand-in does not implement the {key!r} filter of {endpoint}")
    for field in reversed(body.get("order_by") or []):
        name = field.lstrip("-")
        found.sort(key=lambda r, n=name: str(_get_path(r, n) or ""), reverse=field.startswith("-"))
    if body.get("page_size"):
        start = (body.get("page") or 0) * body["page_size"]
        found = found[start : start + body["page_size"]]
    fields = body.get("only_fields")
    return [_projection(r, fields) if fields else copy.deepcopy(r) for r in found]


class StandIn:
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
            "tasks.dequeue": lambda body: self._set_status(body, "created"),
            "tasks.started": lambda body: self._set_status(body, "in_progress"),
            "tasks.stopped": lambda body: self._set_status(body, "stopped"),
            "tasks.completed": lambda body: self._set_status(body, "completed"),
            "tasks.failed": lambda body: self._set_status(body, "failed"),
            "tasks.reset": self._tasks_reset,
            "tasks.delete": self._tasks_delete,
            "models.get_all": lambda body: {"models": []},  # the stand-in keeps no models
            "events.add_batch": self._events_add_batch,
            "events.get_task_events": self._events_get_task_events,
        }
        self._api_server = ThreadingHTTPServer((host, port), type("ApiHandler", (_ApiHandler,), {"standin": self}))
        self._files_server = ThreadingHTTPServer(
            (host, files_port), type("FilesHandler", (_FilesHandler,), {"standin": self})
        )
        self.api_url = "http://{}:{}".format(*self._api_server.server_address[:2])
        self.files_url = "http://{}:{}".format(*self._files_server.server_address[:2])

    # --- lifecycle and configuration ---

    def start(self) -> StandIn:
        for server in (self._api_server, self._files_server):
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        for server in (self._api_server, self._files_server):
            server.shutdown()
            server.server_close()

    def __enter__(self) -> StandIn:
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
            self._dequeue_everywhere(task["id"])
            task["execution"].pop("queue", None)
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

    def _tasks_reset(self, body: dict) -> dict:
        result = self._set_status(body, "created")
        task = self._task(body["task"])
        task["execution"]["artifacts"] = _input_artifacts(task)
        task.update(last_iteration=0, last_metrics={})
        return result

    def _tasks_delete(self, body: dict) -> dict:
        task = self._task(body["task"])
        if not body.get("force"):
            self._check_status(task, ("created", "stopped", "failed", "completed", "closed"))
        self._dequeue_everywhere(task["id"])
        del self._tasks[task["id"]]
        self._events.pop(task["id"], None)
        return {"deleted": True, "updated_children": 0, "updated_models": 0, "events": {}}

    # --- events ---

    def _events_add_batch(self, events: List[dict]) -> dict:
        for event in events:
            self._events.setdefault(event["task"], []).append(event)
            if event["task"] in self._tasks and "iter" in event:
                task = self._tasks[event["task"]]
                task["last_iteration"] = max(task["last_iteration"], event["iter"])
        return {"added": len(events), "errors": 0}

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
    standin: StandIn
    # Keep-alive, as the SDK reuses its connections. Without TCP_NODELAY each reply (headers, then body) waits
    # about 40 ms for a delayed ACK.
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the request log is StandIn.requests; per-request lines would flood the test output

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
    standin = StandIn(args.host, args.port, args.files_port).start()
    print("Put this in a clearml.conf and point CLEARML_CONFIG_FILE at it:\n")
    print(standin.clearml_conf(), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        standin.stop()


if __name__ == "__main__":
    main()
