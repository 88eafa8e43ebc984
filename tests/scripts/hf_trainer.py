# ruff: noqa: F401  -- the imports are the real script's shape; the training this stub leaves out would use them
"""A Hugging Face Trainer script in the shape of transformers' examples/pytorch/language-modeling/run_clm.py and
TRL's sft.py: dataclasses for the model and the data, transformers' own TrainingArguments, all read by
HfArgumentParser.parse_args_into_dataclasses(). Enum fields (save_strategy: no/steps/epoch/best), a Literal field,
booleans with `--x false` and, for True defaults, a `--no_x` twin, list fields with nargs='+'.

Instead of training it records the configuration it resolved as JSON, to the file named by $HAT_RECORD (stdout
when unset): a bare run and a run under the hat must record the same. No model is downloaded.

    python tests/scripts/hf_trainer.py --output_dir out --save_strategy no --remove_unused_columns false
"""
import json
import logging
import os
import sys
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import List, Literal, Optional

import transformers
from transformers import HfArgumentParser, TrainingArguments, set_seed

logger = logging.getLogger(__name__)


@dataclass
class ModelArguments:
    model_name_or_path: str = field(default="gpt2", metadata={"help": "The model checkpoint to start from."})
    torch_dtype: Optional[str] = field(
        default=None,
        metadata={"help": "Override the default torch.dtype.", "choices": ["auto", "bfloat16", "float16", "float32"]},
    )
    use_fast_tokenizer: bool = field(default=True, metadata={"help": "Use a fast tokenizer (backed by tokenizers)."})
    trust_remote_code: bool = field(default=False, metadata={"help": "Run code from the model's repository."})
    lora_r: int = field(default=16, metadata={"help": "LoRA rank."})
    lora_alpha: float = field(default=32, metadata={"help": "LoRA alpha (a float with an int default)."})
    lora_target_modules: List[str] = field(default_factory=lambda: ["q_proj", "v_proj"],
                                           metadata={"help": "Modules LoRA adapts."})


@dataclass
class DataTrainingArguments:
    dataset_name: Optional[str] = field(default=None, metadata={"help": "A dataset on the Hub."})
    block_size: Optional[int] = field(default=None, metadata={"help": "Sequence length after tokenization."})
    padding_side: Literal["left", "right"] = field(default="right", metadata={"help": "Where to pad."})
    streaming: bool = field(default=False, metadata={"help": "Stream the dataset."})
    validation_split_percentage: Optional[int] = field(default=5, metadata={"help": "Percent held out."})


# TrainingArguments fields recorded (all the dataclasses' own fields are).
TRAINING_FIELDS = [
    "output_dir", "save_strategy", "save_steps", "eval_strategy", "logging_strategy", "logging_steps", "report_to",
    "bf16", "fp16", "use_cpu", "learning_rate", "weight_decay", "num_train_epochs", "max_steps",
    "per_device_train_batch_size", "gradient_accumulation_steps", "remove_unused_columns",
    "dataloader_pin_memory", "lr_scheduler_type", "warmup_steps", "optim", "seed", "gradient_checkpointing",
    "label_names", "push_to_hub",
]


def _plain(value):
    """JSON for what the script got: an enum as its value, with its type named (a string is no enum)."""
    if isinstance(value, Enum):
        return {"enum": type(value).__name__, "value": value.value}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def record(model_args, data_args, training_args):
    resolved = {
        "model": {key: _plain(value) for key, value in asdict(model_args).items()},
        "data": {key: _plain(value) for key, value in asdict(data_args).items()},
        "training": {key: _plain(getattr(training_args, key)) for key in TRAINING_FIELDS},
    }
    text = json.dumps(resolved, indent=1, sort_keys=True)
    if os.environ.get("HAT_RECORD"):
        with open(os.environ["HAT_RECORD"], "w") as file:
            file.write(text)
    else:
        print(text)


def main():
    parser = HfArgumentParser((ModelArguments, DataTrainingArguments, TrainingArguments))
    if len(sys.argv) == 2 and sys.argv[1].endswith(".json"):
        model_args, data_args, training_args = parser.parse_json_file(json_file=os.path.abspath(sys.argv[1]))
    else:
        model_args, data_args, training_args = parser.parse_args_into_dataclasses()
    logging.basicConfig(level=logging.WARNING)
    set_seed(training_args.seed)
    record(model_args, data_args, training_args)


if __name__ == "__main__":
    main()
