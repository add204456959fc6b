"""Constants of the EUM shared by its numpy equations, its compiled kernel, and the test oracle."""

from __future__ import annotations

from ..interactions import Interaction

SAME_POSITION = 1e-9  # share of the scale below which two positions count as one
BLOCK = 256  # draws per block (numpy): keeps the (block, N, N, N) vote tensors in cache
COMPILED_BLOCK = 2048  # draws per block (compiled kernel): fewer calls, the same results

__all__ = ["BLOCK", "COMPILED_BLOCK", "SAME_POSITION", "Interaction"]
