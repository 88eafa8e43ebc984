"""Every use of a private ClearML SDK attribute, each a bet on its internals (tested: clearml 1.16.3 and 2.1.12).

Each function says what the private attribute buys and falls back to the public way (or to doing without) when
the attribute is gone, so a newer SDK makes the hat slower or less precise, never wrong.
"""
from __future__ import annotations

import itertools
import os
import sys
from contextlib import contextmanager, suppress
from typing import Any, Callable, Dict, Iterator, Optional, Tuple


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
