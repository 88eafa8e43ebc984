"""An absl training script (the shape of big_vision's and other Google research trainers: module-level
`flags.DEFINE_*`, then `app.run(main)`; written for this project). It records the flag values main saw."""
from absl import app, flags, logging
from record import record

FLAGS = flags.FLAGS
flags.DEFINE_string("workdir", "/tmp/absl_train", "Where checkpoints and metrics go.")
flags.DEFINE_integer("total_steps", 100, "Training steps.")
flags.DEFINE_float("lr", 0.1, "Peak learning rate.")
flags.DEFINE_boolean("cleanup", True, "Delete the workdir when the run ends.")
flags.DEFINE_enum("optimizer", "sgd", ["sgd", "adam", "lamb"], "The optimizer.")
flags.DEFINE_list("layers", ["64", "32"], "Hidden layer widths, comma-separated.")
flags.DEFINE_multi_integer("eval_steps", [50, 100], "Steps to evaluate at (repeat the flag).")
flags.DEFINE_string("name", "1e3", "Run name.")


def main(argv) -> None:
    del argv  # no positional arguments
    logging.info("training for %d steps", FLAGS.total_steps)
    print(f"{FLAGS.name}: {FLAGS.optimizer} lr {FLAGS.lr} for {FLAGS.total_steps} steps")
    print(f"val_acc: {FLAGS.lr * 1000 + FLAGS.total_steps / 1000:.4f}")  # a metric for sweeps
    record({name: FLAGS[name].value for name in ("workdir", "total_steps", "lr", "cleanup", "optimizer", "layers",
                                                  "eval_steps", "name")})


if __name__ == "__main__":
    app.run(main)
