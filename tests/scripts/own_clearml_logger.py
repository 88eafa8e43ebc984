"""A training that reports to ClearML itself, in the shape of yolov5's ClearML logger (utils/loggers/clearml): its
own Task.init with its own project and name, hyperparameters connected, a docker image set, scalars reported per
epoch, and the epoch printed as well."""
import argparse

from clearml import Task


def main(args=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--set_offline", action="store_true", help="call Task.set_offline(True) before Task.init")
    opt = parser.parse_args(args)
    print("epoch 0/2 loss 0.9000")  # printed before the logger reports anything
    if opt.set_offline:
        Task.set_offline(True)
    task = Task.init(project_name="MyProject", task_name="exp", tags=["YOLOv5"], output_uri=True,
                     reuse_last_task_id=False, auto_connect_frameworks={"pytorch": False, "matplotlib": False})
    task.connect({"lr0": 0.01, "momentum": 0.937}, name="Hyperparameters")
    task.set_base_docker("ultralytics/yolov5:latest", docker_arguments="--ipc=host",
                         docker_setup_bash_script="pip install clearml")
    for epoch in range(1, opt.epochs + 1):
        loss = 0.9 - 0.2 * epoch
        task.get_logger().report_scalar("train", "box_loss", loss, epoch)
        print(f"epoch {epoch}/{opt.epochs} loss {loss:.4f}")
    return {"task_is_the_hats": float(Task.current_task() is task)}


if __name__ == "__main__":
    main()
