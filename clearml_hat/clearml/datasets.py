"""The thin ClearML Dataset layer: upload a folder as a new dataset version, find a version, fetch its local copy.

A new version's parent is the latest finalized version of the same dataset, so ClearML uploads only the files
that changed. A version is finalized only after its upload completed; a failed upload deletes its draft.
Each file is read and hashed once per upload: the hat hashes the folder to tell "unchanged" before any draft
exists, and hands those hashes to ClearML instead of letting sync_folder hash every file again.
S3 credentials and endpoints come from clearml.conf (sdk.aws.s3) and the AWS environment variables only.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, NamedTuple, Optional, Sequence

from clearml_hat.clearml import sdk_private, tracking
from clearml_hat.errors import HatError, Interrupted

# How far long work has got: stage ("hashing", "uploading"), files done, files in all, bytes done, bytes in all.
Progress = Callable[[str, int, int, int, int], None]


def _quiet(stage: str, files_done: int, files_total: int, bytes_done: int, bytes_total: int) -> None:
    """The progress of a caller that shows none."""


class _Stopped(Exception):
    """A hashing thread saw the stop flag (Ctrl-C in the main thread) and left its file unfinished."""


class Hashed(NamedTuple):
    """One file as it was hashed: its sha256, and the size and mtime it had when it was opened."""

    path: str  # absolute, posix: the key ClearML's sync_folder gives the file (FileEntry.local_path)
    sha256: str
    size: int
    mtime_ns: int


class Upload(NamedTuple):
    """What upload_folder did: the dataset version that holds the folder, and whether it was made just now."""

    dataset_id: str
    version: str
    created: bool


def upload_folder(path: str, dataset_name: str, dataset_project: str, output_url: Optional[str] = None,
                  tags: Optional[Sequence[str]] = None, progress: Progress = _quiet) -> Upload:
    """Upload the folder as a new version of the dataset; with nothing changed, return the latest version.

    Ctrl-C (KeyboardInterrupt) or a failure once the draft version exists deletes it, and the upload's temporary
    zips go with its temp folder; Ctrl-C while hashing stops the hashing threads. Both raise a HatError that says
    so. `progress` hears of the hashing and of the upload (files and bytes done)."""
    folder = Path(path)
    files = _folder_hashes(folder, progress)
    if not tracking.clearml_configured():  # ClearML's offline mode keeps datasets local: nothing would be stored
        raise HatError("uploading a dataset needs a ClearML server: run clearml-init (or set CLEARML_API_HOST)")
    tracking.check_server_reachable()
    parent = _latest_finalized(dataset_name, dataset_project)
    if parent is not None and _same_files(parent, files):
        return Upload(parent.id, parent.version, created=False)
    if output_url:
        check_storage(output_url)
    with _own_temp_folder():
        return _upload_draft(folder, files, dataset_name, dataset_project, parent, output_url, tags, progress)


def _upload_draft(folder: Path, files: Dict[str, Hashed], dataset_name: str, dataset_project: str, parent: Any,
                  output_url: Optional[str], tags: Optional[Sequence[str]], progress: Progress) -> Upload:
    """Create the draft version, add the folder, upload and finalize it; delete it when that fails."""
    from clearml import Dataset

    draft = Dataset.create(dataset_name=dataset_name, dataset_project=dataset_project, dataset_tags=list(tags or []),
                           parent_datasets=[parent.id] if parent else None, output_uri=output_url)
    try:
        _hand_over_hashes(draft, files)
        with sdk_private.without_tqdm():  # the hat shows its own progress, in lines
            draft.sync_folder(str(folder))
        changed = [files[entry.relative_path] for entry in draft.file_entries
                   if entry.parent_dataset_id == draft.id and entry.relative_path in files]
        progress("zipping", 0, len(changed), 0, sum(file.size for file in changed))

        def uploaded(number: int, mib_done: float, mib_total: float) -> None:
            progress(f"uploading zip {number}:", 0, 0, int(mib_done * 2 ** 20), int(mib_total * 2 ** 20))

        with sdk_private.upload_progress(uploaded):
            # retries=0: boto3 already retries each request, and ClearML's own retry warns on stderr. No preview:
            # it would upload sample files of every version again, unchanged or not.
            draft.upload(show_progress=False, output_url=output_url, retries=0, preview=False)
        # upload() does not always raise when a chunk failed (the last chunk's result is never read), so the
        # chunks are checked against the task's artifacts before anything is finalized.
        _check_uploaded(draft)
        draft.finalize()
    except KeyboardInterrupt:
        _delete_draft(draft)
        raise Interrupted(f"Ctrl-C: the upload of {folder} stopped; its unfinished version {draft.id} was deleted") \
            from None
    except (ValueError, OSError, RuntimeError) as error:
        _delete_draft(draft)
        # The SDK's errors say little ("Upload failed"); asking the store again names what broke, if it can.
        reason = (storage_problem(output_url) if output_url else None) or f"{error}; check the storage"
        raise HatError(f"uploading {folder} failed, its unfinished version {draft.id} was deleted: {reason}") \
            from None
    return Upload(draft.id, draft.version or "", created=True)


@contextmanager
def _own_temp_folder() -> Iterator[None]:
    """ClearML writes an upload's zips and state file to the temp folder and removes each only once it is
    uploaded, so an upload cut off (Ctrl-C, the store gone) would leave them there, up to a chunk (512 MiB) each.
    The upload gets a temp folder of its own, removed afterwards whatever happened."""
    folder = tempfile.mkdtemp(prefix="clearml-hat-upload.")
    saved = tempfile.tempdir
    tempfile.tempdir = folder
    try:
        yield
    finally:
        tempfile.tempdir = saved
        shutil.rmtree(folder, ignore_errors=True)


def _folder_hashes(folder: Path, progress: Progress) -> Dict[str, Hashed]:
    """Relative posix path -> the file's sha256 (the same key and hash ClearML keeps per dataset file)."""
    if not folder.is_dir():
        raise HatError(f"{folder}: no such folder; give --path an existing folder with the files to upload")
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    if not files:
        raise HatError(f"{folder}: the folder has no files; put the dataset's files in it or give another --path")
    total = sum(file.stat().st_size for file in files)
    stop = threading.Event()
    futures: List[Future] = []
    # Threads, as ClearML's own hashing uses: hashlib and file reads release the GIL.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        try:
            progress("hashing", 0, len(files), 0, total)
            futures = [pool.submit(_hash_file, file, stop) for file in files]
            done = 0
            for count, future in enumerate(as_completed(futures), 1):
                done += future.result().size
                progress("hashing", count, len(files), done, total)
        except KeyboardInterrupt:
            stop.set()  # the running threads leave their file at the next block; the waiting ones never start
            for future in futures:
                future.cancel()
            raise Interrupted(f"Ctrl-C: the upload stopped while hashing {folder}; nothing was created") from None
    return {file.relative_to(folder).as_posix(): future.result() for file, future in zip(files, futures)}


def _hash_file(file: Path, stop: threading.Event) -> Hashed:
    digest = hashlib.sha256()
    with file.open("rb") as stream:
        # Stat before reading: a file that changes while or after it is hashed no longer matches this record.
        stat = os.fstat(stream.fileno())
        for block in iter(lambda: stream.read(1 << 20), b""):
            if stop.is_set():
                raise _Stopped(file)
            digest.update(block)
    return Hashed(file.absolute().as_posix(), digest.hexdigest(), stat.st_size, stat.st_mtime_ns)


def _hand_over_hashes(draft: Any, files: Dict[str, Hashed]) -> None:
    """Let the draft's sync_folder take the hashes _folder_hashes computed (a private SDK bet, see sdk_private)."""
    sdk_private.hand_over_hashes(draft, {f.path: (f.sha256, f.size, f.mtime_ns) for f in files.values()})


def _latest_finalized(name: str, project: str) -> Any:
    return _load(dataset_name=name, dataset_project=project, only_completed=True)


def _load(**query: Any) -> Any:
    """Dataset.get, telling "there is no such dataset" (None) from "it exists but cannot be read" (HatError)."""
    from clearml import Dataset

    try:
        return Dataset.get(**query)
    except ValueError as error:
        # The SDK raises ValueError for both; only its wording tells them apart.
        if str(error).startswith(("Could not find Dataset", "Task ID")) or "is not a Dataset ID" in str(error):
            return None
        if "in draft mode" in str(error):
            raise HatError(f"{error}: its upload never completed; upload the folder again with "
                           "`python -m clearml_hat upload --path <folder>`") from None
        raise HatError(f"{error}: the dataset exists but its files cannot be read; check that its storage (S3 or "
                       "the ClearML files server) answers and that clearml.conf has its credentials") from None


def _same_files(dataset: Any, files: Dict[str, Hashed]) -> bool:
    have = {path: entry.hash for path, entry in dataset.file_entries_dict.items()}
    return have == {path: file.sha256 for path, file in files.items()} and not dataset.link_entries


def check_storage(output_url: str) -> None:
    """Fail before a draft exists when the bucket is missing, the credentials are wrong or the store is down."""
    problem = storage_problem(output_url)
    if problem:
        raise HatError(problem)


def storage_problem(output_url: str) -> Optional[str]:
    """What is wrong with an s3:// destination, in one line with the fix; None when its bucket answers."""
    if not output_url.startswith("s3://"):
        return None
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:
        return f"{output_url}: ClearML needs boto3 for S3; pip install 'clearml[s3]'"
    from clearml.storage.helper import StorageHelper

    helper = StorageHelper.get(output_url)
    if helper is None:  # ClearML found no key and secret for this URL (it logged why)
        return (f"{output_url}: no S3 credentials for it; set sdk.aws.s3 key/secret in clearml.conf (for MinIO and "
                "other S3-compatible stores: a credentials entry whose host matches, and s3://host:port/bucket "
                "URLs) or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY")
    bucket = sdk_private.s3_bucket(helper)
    if bucket is None:
        return None
    try:
        bucket.meta.client.head_bucket(Bucket=bucket.name)
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in ("404", "NoSuchBucket"):
            return f"{output_url}: bucket {bucket.name!r} does not exist; create it or fix --output_uri"
        return (f"{output_url}: the S3 store refused access to bucket {bucket.name!r} (HTTP {code}); check key and "
                "secret in clearml.conf (sdk.aws.s3) or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY")
    except BotoCoreError as error:
        return (f"{output_url}: the S3 store does not answer ({type(error).__name__}); start it or fix the host in "
                "clearml.conf (sdk.aws.s3.credentials)")
    return None


def _check_uploaded(draft: Any) -> None:
    """Every data chunk the dataset state names must be an artifact with a URI, i.e. uploaded."""
    uploaded = {name for name, artifact in _dataset_task(draft).artifacts.items() if artifact.url}
    needed = {entry.artifact_name for entry in draft.file_entries if entry.parent_dataset_id == draft.id}
    missing = sorted(needed - uploaded)
    if missing:
        raise RuntimeError(f"the data chunk(s) {', '.join(missing)} did not reach the storage")


def _delete_draft(draft: Any) -> None:
    """Delete the unfinished version's task and whatever of it reached the storage (when it still answers)."""
    _dataset_task(draft).delete(delete_artifacts_and_models=True, raise_on_error=False)


def _dataset_task(draft: Any) -> Any:
    """The task that holds a dataset version (its id is the dataset's), with its artifacts as the server has them."""
    from clearml import Task

    return Task.get_task(task_id=draft.id)


def find_dataset(name: Optional[str], project: str, version: Optional[str] = None,
                 dataset_id: Optional[str] = None) -> str:
    """The id of the dataset to train on: dataset_id (checked to be finalized), else the latest or named version."""
    if dataset_id:
        dataset = _load(dataset_id=dataset_id)
        if dataset is None:
            raise HatError(f"no dataset with id {dataset_id!r}; copy the id from the upload's output or the web "
                           "UI, or give --dataset_name instead")
        if not dataset.is_final():
            raise HatError(f"dataset {dataset_id} is not finalized (its upload did not complete); upload the folder "
                           "again with `python -m clearml_hat upload --path <folder>`")
        return dataset.id
    dataset = _load(dataset_name=name, dataset_project=project, dataset_version=version, only_completed=True)
    if dataset is None:
        which = f"{name!r} version {version}" if version else repr(name)
        existing = ", ".join(dataset_names(project)) or "none"
        raise HatError(f"no finalized dataset {which} in project {project!r} (datasets there: {existing}); "
                       "upload it with `python -m clearml_hat upload --path <folder>` or fix --dataset_name")
    return dataset.id


def dataset_names(project: str) -> List[str]:
    from clearml import Dataset

    return sorted({entry["name"] for entry in Dataset.list_datasets(dataset_project=project)})


def local_copy(dataset_id: str) -> str:
    """The dataset's files in ClearML's local cache, with a trailing separator so `path + name` works."""
    if not dataset_id:  # e.g. s3 switched on in the web UI, where no dataset was looked up
        raise HatError("no dataset id to train on; give --dataset_name (or --dataset_id) with --s3")
    dataset = _load(dataset_id=dataset_id)
    if dataset is None:  # e.g. a clone whose stored dataset_id was deleted since
        raise HatError(f"no dataset with id {dataset_id!r}; give --dataset_name or an existing --dataset_id")
    try:
        folder = dataset.get_local_copy()
    except ValueError as error:  # a chunk could not be downloaded
        raise HatError(f"{error}; check that the dataset's storage answers and that clearml.conf has its "
                       "credentials") from None
    return os.path.join(folder, "")
