"""A Hugging Face script's shape (written for this project): HfArgumentParser over a dataclass, and a YAML or JSON
file as the only argument (`python train.py recipe.yaml`), as the transformers examples and TRL scripts allow.
It records the dataclass it resolved."""
import dataclasses
import os
import sys

from record import record
from transformers import HfArgumentParser


@dataclasses.dataclass
class RunArguments:
    model_name: str = dataclasses.field(default="tiny-model", metadata={"help": "the model to fine-tune"})
    learning_rate: float = 5e-5
    num_epochs: float = 3.0
    warmup_steps: int = 0
    save_strategy: str = dataclasses.field(default="steps", metadata={"choices": ["no", "steps", "epoch"]})
    packing: bool = False


def main() -> None:
    parser = HfArgumentParser(RunArguments)
    if len(sys.argv) == 2 and sys.argv[1].endswith((".yaml", ".yml")):
        (args,) = parser.parse_yaml_file(os.path.abspath(sys.argv[1]))
    elif len(sys.argv) == 2 and sys.argv[1].endswith(".json"):
        (args,) = parser.parse_json_file(os.path.abspath(sys.argv[1]))
    else:
        (args,) = parser.parse_args_into_dataclasses()
    record(dataclasses.asdict(args))


if __name__ == "__main__":
    main()
