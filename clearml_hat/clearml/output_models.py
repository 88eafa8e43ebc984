"""Output models are files that exist after the run, under the names the training keeps them by.

    with kept_files(task):
        result = job.train(argv)   # timm: torch.save(state, "tmp.pth.tar"); os.replace(tmp, "last.pth.tar"); ...

ClearML's PyTorch binding records a torch.save when it happens, as the file's local path (without an output
destination, the default for a local run). A training that saves under a temporary name and renames the file
afterwards (timm's CheckpointSaver: `tmp.pth.tar`, renamed `last.pth.tar`, hard-linked as `model_best.pth.tar` and
`checkpoint-N.pth.tar`) leaves the task with a model whose file no longer exists. After the training, each model
recorded that way whose file is gone (or is another file now) points at the file that holds what was saved: the
same file (device and inode) under its final names in the same folder. ClearML keeps one model per saved path, so
that model takes the first name (`last` first, then `best`, then the others) of the last file saved there; every
other name, and every earlier file saved under the same path, becomes a model of its own. A model uploaded to an
output destination is a copy ClearML made at save time: it is left alone. A file copied rather than linked or
renamed (another inode) is not found: its model keeps the name it was saved under.

ClearML's bindings do not see safetensors files (a Hugging Face Trainer's `save_model()` writes `model.safetensors`
with `safetensors.torch.save_file`): the files the training saves that way and that exist after it become output
models too (uploaded to the output destination when the task has one).
"""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, List, Tuple

from clearml_hat.clearml import sdk_private

Saved = Tuple[Any, str, Tuple[int, int]]  # (OutputModel, local path, (st_dev, st_ino) when saved)


@contextmanager
def kept_files(task: Any) -> Iterator[None]:
    """For the block, remember every model file ClearML's binding records; after it, point the models at the
    names their files have at the end (module docstring)."""
    from clearml.binding.frameworks import WeightsFileHandler

    saved: List[Saved] = []

    def remember(kind: Any, info: Any) -> Any:
        path = info.local_model_path
        if kind == WeightsFileHandler.CallbackType.save and info.model is not None and path and os.path.isfile(path):
            stat = os.stat(path)
            saved.append((info.model, os.path.abspath(path), (stat.st_dev, stat.st_ino)))
        return info

    safetensors_files: List[str] = []
    replaced: List[Tuple[Any, str, Any]] = []

    def recording(save_file: Any) -> Any:
        def recorded_save_file(tensors: Any, filename: Any, *args: Any, **kwargs: Any) -> Any:
            result = save_file(tensors, filename, *args, **kwargs)
            safetensors_files.append(os.path.abspath(filename))
            return result

        return recorded_save_file

    def patch_safetensors() -> None:
        import safetensors.torch

        replaced.extend(_rebind(safetensors.torch.save_file, recording(safetensors.torch.save_file)))

    handle = WeightsFileHandler.add_post_callback(remember)
    # Loaded already when the hat read the script's parser (transformers binds `save_file` by name at import): each
    # module's binding is replaced; else the module's own, right after its first import.
    undo = lambda: None  # noqa: E731
    if "safetensors.torch" in sys.modules:
        patch_safetensors()
    else:
        undo = sdk_private.on_import("safetensors.torch", patch_safetensors)
    try:
        yield
    finally:
        undo()
        for module, name, original in replaced:
            setattr(module, name, original)
        WeightsFileHandler.remove_post_callback(handle)
        point_at_kept_files(task, saved)
        record_safetensors(task, safetensors_files)


def _rebind(original: Any, replacement: Any) -> List[Tuple[Any, str, Any]]:
    """Replace `original` by `replacement` in every loaded module that holds it by name; returns what to put back."""
    replaced = []
    for module in list(sys.modules.values()):
        names = getattr(module, "__dict__", {})
        for name in [name for name, value in list(names.items()) if value is original]:
            setattr(module, name, replacement)
            replaced.append((module, name, original))
    return replaced


def record_safetensors(task: Any, files: List[str]) -> None:
    """Each safetensors file the training saved that exists now becomes an output model (once per path)."""
    from clearml import OutputModel

    for path in dict.fromkeys(files):
        if not os.path.isfile(path):
            continue
        model = OutputModel(task=task, name=f"{task.name} - {Path(path).name}", framework="PyTorch")
        if model.upload_storage_uri:
            model.update_weights(weights_filename=path, auto_delete_file=False)
        else:
            model.update_weights(register_uri=path)


def point_at_kept_files(task: Any, saved: List[Saved]) -> None:
    """Re-register each model file that was renamed since its save under the names it has now."""
    from clearml import OutputModel

    last_save = {model.id: index for index, (model, _, _) in enumerate(saved)}  # ClearML reuses a model per path
    done = set()
    for index, (model, path, identity) in enumerate(saved):
        if identity in done or model.upload_storage_uri or _identity(path) == identity:
            continue
        done.add(identity)
        for number, name in enumerate(_same_file(Path(path).parent, identity)):
            reuse = number == 0 and last_save[model.id] == index
            target = model if reuse else OutputModel(task=task, name=f"{task.name} - {name.name}",
                                                     framework=model.framework)
            target.update_weights(register_uri=str(name))


def _identity(path: str) -> Tuple[int, int]:
    try:
        stat = os.stat(path)
    except OSError:
        return (-1, -1)
    return stat.st_dev, stat.st_ino


def _same_file(folder: Path, identity: Tuple[int, int]) -> List[Path]:
    """The files in folder that are the saved file (hard links and its renamed self): `last` first, then `best`."""
    found = [path for path in folder.iterdir() if path.is_file() and _identity(str(path)) == identity]
    return sorted(found, key=lambda path: ("last" not in path.name, "best" not in path.name, path.name))
