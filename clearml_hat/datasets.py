"""The thin ClearML Dataset layer: find a dataset version and fetch its cached local copy."""
from __future__ import annotations

import os
from typing import List, Optional

from clearml_hat.errors import HatError


def find_dataset(name: Optional[str], project: str, version: Optional[str] = None,
                 dataset_id: Optional[str] = None) -> str:
    """The id of the dataset to train on: dataset_id as given, else the latest (or the named) version of name."""
    from clearml import Dataset

    if dataset_id:
        return dataset_id
    try:
        dataset = Dataset.get(dataset_name=name, dataset_project=project, dataset_version=version,
                              only_completed=True)
    except ValueError:
        which = f"{name!r} version {version}" if version else repr(name)
        existing = ", ".join(dataset_names(project)) or "none"
        raise HatError(f"no finalized dataset {which} in project {project!r} (datasets there: {existing}); "
                       "upload it with `python data/upload_dataset_to_s3.py` or fix --dataset_name") from None
    return dataset.id


def dataset_names(project: str) -> List[str]:
    from clearml import Dataset

    return sorted({entry["name"] for entry in Dataset.list_datasets(dataset_project=project)})


def local_copy(dataset_id: str) -> str:
    """The dataset's files in ClearML's local cache, with a trailing separator so `path + name` works."""
    from clearml import Dataset

    return os.path.join(Dataset.get(dataset_id=dataset_id).get_local_copy(), "")
