"""A Hydra training script (the shape of Hydra's own tutorials: @hydra.main over a conf folder with a defaults
list and a config group; written for this project). It records the config it received, resolved, and the
option of the model group Hydra chose."""
import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf
from record import record


@hydra.main(config_path="hydra_conf", config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> None:
    resolved = OmegaConf.to_container(cfg, resolve=True)
    print(f"{cfg.run_name}: lr {cfg.optim.lr} for {cfg.epochs} epochs, width {cfg.model.width}")
    print(f"val_acc: {cfg.optim.lr * cfg.model.width / 100:.4f}")  # a metric for sweeps
    record({**resolved, "model_choice": HydraConfig.get().runtime.choices["model"]})


if __name__ == "__main__":
    main()
