"""Upload a folder as a new version of a ClearML Dataset, stored on S3 (or on the ClearML files server).

    python data/upload_dataset_to_s3.py                                    # data/images -> files server
    python data/upload_dataset_to_s3.py --output_url s3://my-bucket/datasets --tags sample     # AWS S3
    python data/upload_dataset_to_s3.py --output_url s3://minio.local:9000/my-bucket/datasets  # MinIO: host in the URL
    python data/upload_dataset_to_s3.py --path /data/cats --dataset_name cats --dataset_project datasets/pets

The new version's parent is the latest finalized version of the dataset, so only changed files are uploaded;
with nothing changed, nothing is created. S3 credentials come from clearml.conf (sdk.aws.s3) or the AWS_*
environment variables. Train on it with `python hat.py --s3 --dataset_name hat-sample-images`. This is
`clearml-hat upload`, with the sample images as the default folder.
"""
import sys
from pathlib import Path

# This script lives in data/; the clearml_hat package sits next to data/, in the repo root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from clearml_hat.cli import script_main  # noqa: E402

SAMPLE_IMAGES = Path(__file__).resolve().parent / "images"

if __name__ == "__main__":
    sys.exit(script_main("upload", "upload_dataset_to_s3.py", path=str(SAMPLE_IMAGES)))
