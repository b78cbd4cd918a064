"""Training: the `Trainer` loop, callbacks, checkpoints, seeding and data-parallel helpers."""

from lstmkit.train.callbacks import (
    Callback,
    EarlyStopping,
    EpochLines,
    GeneratorStates,
    MetricsLogger,
    ProgressBar,
    TrainingBudget,
    job_progress,
)
from lstmkit.train.checkpoint import (
    Checkpoint,
    fingerprint,
    load_checkpoint,
    load_model_dir,
    save_checkpoint,
    save_model_dir,
)
from lstmkit.train.distributed import (
    DistContext,
    ShardedBatches,
    distributed_loader,
    init_distributed,
    shutdown_distributed,
)
from lstmkit.train.optim import OPTIMIZERS, SCHEDULES, build_optimizer, build_scheduler
from lstmkit.train.rotation import RotatingBatches
from lstmkit.train.seeding import get_rng_state, seed_everything, set_rng_state
from lstmkit.train.trainer import Trainer, TrainerConfig

__all__ = [
    "Trainer",
    "TrainerConfig",
    "Callback",
    "EarlyStopping",
    "GeneratorStates",
    "MetricsLogger",
    "ProgressBar",
    "TrainingBudget",
    "EpochLines",
    "job_progress",
    "Checkpoint",
    "fingerprint",
    "save_model_dir",
    "load_model_dir",
    "save_checkpoint",
    "load_checkpoint",
    "DistContext",
    "ShardedBatches",
    "RotatingBatches",
    "distributed_loader",
    "init_distributed",
    "shutdown_distributed",
    "OPTIMIZERS",
    "SCHEDULES",
    "build_optimizer",
    "build_scheduler",
    "seed_everything",
    "get_rng_state",
    "set_rng_state",
]
