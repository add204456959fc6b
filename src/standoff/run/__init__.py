"""Where the blocks of a run execute (see `executor.py`), and the tasks that run on them."""

from .executor import (
    Block,
    Executor,
    LocalExecutor,
    ProgressFn,
    blocks,
    reduce_blocks,
    run_blocks,
)

__all__ = [
    "Block",
    "Executor",
    "LocalExecutor",
    "ProgressFn",
    "blocks",
    "reduce_blocks",
    "run_blocks",
]
