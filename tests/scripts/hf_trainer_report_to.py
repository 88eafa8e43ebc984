"""A Hugging Face Trainer run (a tiny random GPT-2 from a config: no download, CPU) that reports to ClearML itself
through transformers' ClearMLCallback (`--report_to clearml`), and prints its logs as the Trainer does."""
import argparse

import torch
from transformers import GPT2Config, GPT2LMHeadModel, Trainer, TrainingArguments


class Tokens(torch.utils.data.Dataset):
    def __len__(self):
        return 32

    def __getitem__(self, index):
        ids = torch.arange(16) % (7 + index % 5)
        return {"input_ids": ids, "labels": ids}


def main(args=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--output_dir", required=True)
    parser.add_argument("--report_to", default="clearml")
    parser.add_argument("--max_steps", type=int, default=8)
    opt = parser.parse_args(args)
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(n_layer=1, n_head=2, n_embd=16, vocab_size=32, n_positions=16,
                                       bos_token_id=0, eos_token_id=0))
    training = TrainingArguments(output_dir=opt.output_dir, max_steps=opt.max_steps, per_device_train_batch_size=8,
                                 logging_steps=2, eval_strategy="steps", eval_steps=4, report_to=opt.report_to,
                                 save_strategy="no", use_cpu=True)
    trainer = Trainer(model=model, args=training, train_dataset=Tokens(), eval_dataset=Tokens())
    trainer.train()
    trainer.save_model(opt.output_dir)


if __name__ == "__main__":
    main()
