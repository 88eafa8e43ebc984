"""Every use of a private ClearML SDK attribute, each a bet on its internals (tested: clearml 1.16.3 and 2.1.12).

Each function says what the private attribute buys and falls back to the public way (or to doing without) when
the attribute is gone, so a newer SDK makes the hat slower or less precise, never wrong.
"""
from __future__ import annotations

import itertools
import logging
import os
import sys
from contextlib import contextmanager, suppress
from typing import Any, Callable, Dict, Iterator, NamedTuple, Optional, Tuple


def report_in_a_thread() -> None:
    """Send the task's events from a thread, not from the SDK's default subprocess, for this process only.

    With the subprocess reporter close() waits about 10 s for it to drain and exit. The class attribute the
    reporter reads is set directly; the public `config_obj.set_overrides` does the same but re-reads every
    configuration file (0.13 s). The user's clearml.conf is never touched.
    """
    from clearml.backend_interface.task.task import Task as BackendTask

    if hasattr(BackendTask, "_report_subprocess_enabled"):
        setattr(BackendTask, "_report_subprocess_enabled", False)  # noqa: B010 (typed as a lazy config value)
    else:
        from clearml.config import config_obj

        config_obj.set_overrides({"sdk": {"development": {"report_use_subprocess": False}}})


def s3_bucket(helper: Any) -> Optional[Any]:
    """The boto3 Bucket a StorageHelper uploads with (same endpoint, same credentials as clearml.conf gives it), to
    tell a missing bucket from refused credentials before an upload; ClearML has no public call for that. None
    when the attribute is gone: the upload then fails with the SDK's own, vaguer, error."""
    container = getattr(helper, "_container", None)
    return getattr(container, "bucket", None)


def hand_over_hashes(draft: Any, known: Dict[str, Tuple[str, int, int]]) -> None:
    """Make the draft's sync_folder take hashes already computed instead of reading every file again.

    known: absolute posix path -> (sha256, size, mtime_ns) as the file was when hashed. ClearML 2.1 has no public
    way to pass known hashes: sync_folder and add_files hash every file they add, each through the static method
    Dataset._calc_file_hash(file_entry), called on the instance (in threads). An instance attribute of that name
    wins over the static method, for this draft only. A file not in `known`, or whose size or mtime changed
    since, still goes to ClearML's own method. Without the method nothing is replaced and ClearML hashes the
    folder again: correct, one pass slower.
    """
    calc_file_hash = getattr(draft, "_calc_file_hash", None)
    if calc_file_hash is None:
        return

    def hashed_already(file_entry: Any) -> Any:
        record = known.get(file_entry.local_path)
        try:
            stat = os.stat(file_entry.local_path)
        except OSError:
            record = None  # gone since: ClearML's own method reports it as it would have
        if record is None or (stat.st_size, stat.st_mtime_ns) != record[1:]:
            return calc_file_hash(file_entry)
        file_entry.hash, file_entry.size = record[0], record[1]
        return file_entry

    draft._calc_file_hash = hashed_already


class ConsoleCapture(NamedTuple):
    """ClearML's console capture of one stream, split: `terminal` writes to the console only, `log` adds text to
    the task's log only (a line once its newline arrives, as ClearML's wrapper does)."""

    terminal: Callable[[str], Any]
    log: Callable[[str], Any]


class _Nowhere:
    def write(self, text: str) -> int:
        return len(text)


def console_capture(stream: Any) -> Optional[ConsoleCapture]:
    """ClearML's wrapper of sys.stdout or sys.stderr (Task.init puts a PrintPatchLogger there) in its two halves, so
    the hat can write to the console at once and hand the task's log a batch of lines at a time: the wrapper makes
    one log record per printed line, on the training's thread, which is most of what a printed line costs a tracked
    training. The log half is a second PrintPatchLogger of the same task logger with nowhere to print. None when
    `stream` is no such wrapper or its attributes are gone: the hat then writes through the wrapper as it is."""
    try:
        from clearml.backend_interface.logger import PrintPatchLogger
    except ImportError:
        return None
    terminal, logger = getattr(stream, "_terminal", None), getattr(stream, "_log", None)
    if not isinstance(stream, PrintPatchLogger) or terminal is None or logger is None:
        return None
    # ClearML replaced the stream's own write with one that goes back through its wrapper, keeping the original.
    write = getattr(terminal, "_original_write", None) or terminal.write
    level = getattr(stream, "_log_level", logging.INFO)
    return ConsoleCapture(write, PrintPatchLogger(_Nowhere(), logger, level=level, load_config_defaults=False).write)


def local_job_process(job: Any) -> Optional[Any]:
    """The Popen of a sweep's local trial (clearml.automation's LocalClearmlJob), to end it after a Ctrl-C sent to
    the sweep alone (the job's public abort() only marks the task stopped) and to record how it ended. None once
    it has ended and been recorded (forget_local_job_process), or when the attribute is gone."""
    return getattr(job, "_job_process", None)


def knows_local_job_process(job: Any) -> bool:
    """Whether the job keeps its Popen where local_job_process reads it; if not, the job's own wait_for_process
    records the trial's end (ClearML's way, which can mark a stopped trial failed: see sweep._record_end)."""
    return hasattr(job, "_job_process")


def forget_local_job_process(job: Any) -> None:
    """What LocalClearmlJob.wait_for_process does once the trial's process has ended, less the status writes: the
    job forgets the process, and the temporary copy of a standalone entry point is removed."""
    job._job_process = None
    leftover = getattr(job, "_local_temp_file", None)
    if leftover:
        with suppress(FileNotFoundError):
            os.unlink(leftover)
        job._local_temp_file = None


def record_interrupt(task: Any) -> bool:
    """Make the task's close() end it as ClearML ends it after Ctrl-C: status stopped, with every reported line,
    scalar and artifact delivered first. close() alone marks it completed: it reads the outcome from the exit hook
    its Task.init installed (the class attribute Task.__exit_hook), which here is told of a KeyboardInterrupt.
    False when the attribute is gone: the caller marks the task stopped itself after close()."""
    hook = getattr(type(task), "_Task__exit_hook", None)
    if hook is None or not hasattr(hook, "exception"):
        return False
    hook.exception = KeyboardInterrupt()
    return True


@contextmanager
def without_tqdm() -> Iterator[None]:
    """Keep ClearML's sync_folder from drawing a tqdm bar on stderr for its hashing (it does when tqdm is
    importable, which transformers brings): the hat hands it the hashes and shows its own progress. During the
    block `import tqdm` fails, which the SDK catches (it then hashes without a bar); nothing else imports in the
    upload command meanwhile."""
    saved = sys.modules.get("tqdm")
    sys.modules["tqdm"] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        if saved is None:
            del sys.modules["tqdm"]
        else:
            sys.modules["tqdm"] = saved


@contextmanager
def upload_progress(report: Callable[[int, float, float], None]) -> Iterator[None]:
    """Hear how far each file upload has got, instead of the tqdm bar ClearML draws for it on stderr.

    ClearML's storage layer reports an upload's progress through the `tqdm` name its module storage/callbacks.py
    imported (a bar per uploaded file: total MiB, update(MiB), close()). During the block that name is a small
    object of the hat's that hands (upload number, MiB done, MiB in all) to `report`. Without the attribute
    nothing is replaced: ClearML's own bar or log lines show instead.
    """
    callbacks: Any = sys.modules.get("clearml.storage.callbacks")  # imported with clearml's Dataset
    if callbacks is None or not hasattr(callbacks, "tqdm"):
        yield
        return
    saved, uploads = callbacks.tqdm, itertools.count(1)
    callbacks.tqdm = lambda total=0.0, **_: _Bar(report, next(uploads), float(total))
    try:
        yield
    finally:
        callbacks.tqdm = saved


class _Bar:
    """What ClearML's ProgressReport uses of a tqdm bar: total, n, update(), close()."""

    def __init__(self, report: Callable[[int, float, float], None], number: int, total: float) -> None:
        self._report, self._number = report, number
        self.total, self.n = total, 0.0
        report(number, 0.0, total)

    def update(self, mib: float) -> None:
        self.n += mib
        self._report(self._number, self.n, self.total)

    def close(self) -> None:
        """Nothing to take down: the hat's progress lines end with the upload's last report."""


def on_import(module: str, hook: Callable[[], None]) -> Callable[[], None]:
    """Call hook right after `module` is first imported (before the importing statement binds its names), through
    the import hook ClearML's own framework bindings use (clearml.binding.import_bind); there is no public one.
    Returns what undoes it. Without it the hook is never called: that module's saves are not recorded."""
    try:
        from clearml.binding.import_bind import PostImportHookPatching
    except ImportError:
        return lambda: None
    PostImportHookPatching.add_on_import(module, hook)
    return lambda: PostImportHookPatching.remove_on_import(module, hook)


def without_config_bindings() -> None:
    """Take ClearML's bindings of click, jsonargparse and python-fire off again, for this process.

    Importing clearml patches them (clearml/binding/click_bind.py, jsonargs_bind.py, fire_bind.py), whatever
    Task.init's auto_connect_arg_parser says. Where the task runs "remotely" (under an agent, in a local sweep's
    trials and in torchrun ranks, which all get the task id) the patched parse hands the script the task's `Args`
    section instead of its command line (fire's fails outright on a task without one): the command line the hat
    built from train_args would be undone. ClearML has no public switch. Each patch is a wrapper from
    clearml/binding/frameworks (`_patched_call`) that keeps the original in its closure as `original_fn`; a
    function without one is left as it is. Nothing happens for a system clearml has not bound (never before clearml
    is imported: --print_argv never imports it); typer's own copy of click (typer._click) is never patched."""
    bound = [("clearml.binding.click_bind", "click.core", (("Command", "__init__"), ("Command", "parse_args"),
                                                             ("Context", "__init__"))),
             ("clearml.binding.jsonargs_bind", "jsonargparse", (("ArgumentParser", "parse_args"),)),
             ("clearml.binding.fire_bind", "fire.core", (("", "_Fire"), ("", "_CallAndUpdateTrace")))]
    for binding, module_name, places in bound:
        module = sys.modules.get(module_name)
        if module is None or binding not in sys.modules:
            continue
        for owner_name, name in places:
            owner = getattr(module, owner_name) if owner_name else module
            _unpatch(owner, name)


def _unpatch(owner: Any, name: str) -> None:
    """Put back the original of ClearML's wrapper at owner.name (a class's method or a module's function)."""
    patched = vars(owner).get(name)
    code = getattr(patched, "__code__", None)
    if code is not None and "original_fn" in code.co_freevars:
        setattr(owner, name, patched.__closure__[code.co_freevars.index("original_fn")].cell_contents)


def out_of_logging_shutdown() -> None:
    """Keep ClearML's log handlers out of what `logging.shutdown` closes.

    `logging.config.dictConfig` (Hydra calls it at every start, many scripts to set up their own logging) closes
    every handler of the process through logging.shutdown, holding logging's lock. Closing ClearML's TaskHandler
    (clearml/backend_interface/task/log.py; Task.init makes one to send the console to the task) waits for its log
    thread to end, and that thread waits for the same lock as soon as it logs (urllib3's debug line of a request to
    the server): the run hung for good. `logging._handlerList` is the stdlib's list of weak references shutdown
    walks; ClearML closes its handler itself when the task closes, and at exit. Without either name
    nothing changes."""
    try:
        from clearml.backend_interface.task.log import TaskHandler
    except ImportError:
        return
    handlers, lock = getattr(logging, "_handlerList", None), getattr(logging, "_lock", None)
    if not isinstance(handlers, list) or lock is None:
        return
    with lock:
        handlers[:] = [ref for ref in handlers if not isinstance(ref(), TaskHandler)]


def finish_repo_detection(task: Any, seconds: float) -> None:
    """Wait (at most `seconds`) for the repository and package detection Task.init runs in a thread, before a run
    whose training failed ends. ClearML's exit hook waits for it after a success only; after a failure it kills
    the thread with PyThreadState_SetAsyncExc and an exception instance where CPython wants a class, so the thread
    gets a SystemError and prints "Failed auto-detecting task repository ... SystemExit() is not a BaseException
    subclass" (or "Failed auto-generating package requirements: ...") into the run's output, and the failed task
    lacks the commit and diff that would reproduce it. Task._detect_repo_async_thread is that thread; without it
    nothing is waited for and the line may appear."""
    thread = getattr(task, "_detect_repo_async_thread", None)
    if thread is not None:
        thread.join(seconds)
