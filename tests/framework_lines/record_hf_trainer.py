"""Records what a real Hugging Face Trainer prints (a tiny random GPT-2 from a config: no download, CPU), in a venv
with transformers 5 and accelerate:
`python -u tests/framework_lines/record_hf_trainer.py > tests/framework_lines/hf_trainer_5.txt 2>&1`."""
import sys

import torch
from transformers import GPT2Config, GPT2LMHeadModel, Trainer, TrainingArguments


class Tokens(torch.utils.data.Dataset):
    def __len__(self):
        return 32

    def __getitem__(self, index):
        ids = torch.arange(16) % (7 + index % 5)
        return {"input_ids": ids, "labels": ids}


def main() -> None:
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(n_layer=1, n_head=2, n_embd=16, vocab_size=32, n_positions=16))
    args = TrainingArguments(output_dir=sys.argv[1] if len(sys.argv) > 1 else "/tmp/hf-record", max_steps=8,
                             per_device_train_batch_size=8, logging_steps=2, eval_strategy="steps", eval_steps=4,
                             report_to="none", save_strategy="no", use_cpu=True, disable_tqdm=False)
    trainer = Trainer(model=model, args=args, train_dataset=Tokens(), eval_dataset=Tokens())
    trainer.train()


if __name__ == "__main__":
    main()
