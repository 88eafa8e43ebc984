"""A python-fire fine-tuning script (the shape of llama-cookbook's finetuning.py: `fire.Fire(main)` over a main
whose keyword arguments update a training config dataclass; written for this project). Named parameters carry the
defaults; `**kwargs` reaches the config's other fields. It records what main received."""
from dataclasses import asdict, dataclass
from typing import Literal, Tuple

import fire
from record import record


@dataclass
class TrainConfig:
    gradient_accumulation_steps: int = 1
    weight_decay: float = 0.0
    output_dir: str = "PATH/to/save/model"


def main(model_name: str = "meta-llama/Llama-3.2-1B", lr: float = 1e-4, num_epochs: int = 3,
         batch_size_training: int = 4, use_peft: bool = False, peft_method: Literal["lora", "llama_adapter"] = "lora",
         run_name: str = "1e3", lr_steps: Tuple[int, int] = (100, 200), seed=None, **kwargs) -> None:
    """Fine-tune a causal language model.

    Args:
      model_name: the Hugging Face model to start from
      lr: the peak learning rate
      num_epochs: passes over the training set
      batch_size_training: samples per device and step
      use_peft: train adapters only
      peft_method: which adapters
      run_name: the name of the run
      lr_steps: steps at which the learning rate drops
      seed: random seed (None: not seeded)
    """
    config = TrainConfig()
    for key, value in kwargs.items():  # llama-cookbook's update_config: known fields only
        if hasattr(config, key):
            setattr(config, key, value)
    print(f"{run_name}: {model_name} lr {lr} for {num_epochs} epochs")
    print(f"val_acc: {lr * 1000 + num_epochs / 100:.4f}")  # a metric for sweeps
    record({"model_name": model_name, "lr": lr, "num_epochs": num_epochs, "batch_size_training": batch_size_training,
            "use_peft": use_peft, "peft_method": peft_method, "run_name": run_name, "lr_steps": lr_steps,
            "seed": seed, "kwargs": kwargs, **asdict(config)})


if __name__ == "__main__":
    fire.Fire(main)
