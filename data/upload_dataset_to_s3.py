"""Upload a folder as a new version of a ClearML Dataset, stored on S3 (or on the ClearML files server).

    python data/upload_dataset_to_s3.py                                    # data/images -> files server
    python data/upload_dataset_to_s3.py --output_url s3://my-bucket/datasets --tags sample     # AWS S3
    python data/upload_dataset_to_s3.py --output_url s3://minio.local:9000/my-bucket/datasets  # MinIO: host in the URL
    python data/upload_dataset_to_s3.py --path /data/cats --dataset_name cats --dataset_project datasets/pets

The new version's parent is the latest finalized version of the dataset, so only changed files are uploaded;
with nothing changed, nothing is created. S3 credentials come from clearml.conf (sdk.aws.s3) or the AWS_*
environment variables. Train on it with `python hat.py --s3 --dataset_name hat-sample-images`.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional

# This script lives in data/; the clearml_hat package sits next to data/, in the repo root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from clearml_hat.datasets import upload_folder  # noqa: E402
from clearml_hat.errors import HatError  # noqa: E402

SAMPLE_IMAGES = Path(__file__).resolve().parent / "images"


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Upload a folder as a new version of a ClearML Dataset.")
    parser.add_argument("--path", default=str(SAMPLE_IMAGES), help="folder to upload (default: the sample images)")
    parser.add_argument("--dataset_name", default="hat-sample-images", help="name of the ClearML Dataset")
    parser.add_argument("--dataset_project", default="datasets/hat", help="ClearML project of the dataset")
    parser.add_argument("--output_url", default=None,
                        help="where the files go, e.g. s3://bucket/prefix (default: the ClearML files server)")
    parser.add_argument("--tags", nargs="*", default=[], help="tags of the new version")
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        upload = upload_folder(args.path, args.dataset_name, args.dataset_project, args.output_url, args.tags)
    except HatError as error:
        print(f"upload_dataset_to_s3.py: error: {error}", file=sys.stderr)
        return 2
    if upload.created:
        print(f"dataset {args.dataset_name!r} version {upload.version} uploaded: id {upload.dataset_id}")
    else:
        print(f"dataset {args.dataset_name!r} unchanged: no new version; latest is {upload.version}, "
              f"id {upload.dataset_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
