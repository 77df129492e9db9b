"""Data-parallel training under ``torchrun`` (``gloo`` on CPU, ``nccl`` on GPU).

``torchrun --nproc_per_node N -m magicbrush_desktop train DATA --out RUN`` starts N copies of the
training loop; :func:`context` sees torchrun's environment (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``,
``MASTER_ADDR``/``MASTER_PORT`` or a rendezvous) and joins the process group. Each rank takes its share of
every epoch's order (:func:`shard`, what ``DistributedSampler`` does) and of the batch, gradients are
averaged over the ranks before every optimiser step (:func:`average_gradients`), so all ranks keep the
same weights; rank 0 alone writes logs, samples and checkpoints. Without torchrun nothing changes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch

from .devices import resolve_device
from .errors import MagicBrushError


@dataclass(frozen=True)
class DistContext:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def context(device: str | torch.device = "auto") -> DistContext:
    """The process group torchrun asks for (joined once), or a single-process context.

    ``device`` is the run's choice (:func:`.devices.resolve_device`): CUDA means the ``nccl`` backend.
    """
    world = int(os.environ.get("WORLD_SIZE", "1") or 1)
    if world <= 1:
        return DistContext()
    import torch.distributed as dist

    rank, local_rank = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    if not dist.is_available():
        raise MagicBrushError("this PyTorch build has no torch.distributed; run without torchrun")
    if not dist.is_initialized():
        # Any CUDA choice ("cuda:1" too) means NCCL: each rank then takes the GPU of its LOCAL_RANK.
        gpu = resolve_device(device).type == "cuda"
        if gpu:
            torch.cuda.set_device(local_rank)
        dist.init_process_group("nccl" if gpu else "gloo")
    return DistContext(rank, world, local_rank)


def shard(order: np.ndarray, ctx: DistContext) -> np.ndarray:
    """This rank's part of an epoch's order: padded (repeating the start) to a multiple of the world size,
    then every ``world``-th index from ``rank``, as ``DistributedSampler(drop_last=False)`` does."""
    if not ctx.enabled:
        return order
    total = -(-len(order) // ctx.world) * ctx.world
    padded = np.concatenate([order, order[: total - len(order)]]) if total > len(order) else order
    return padded[ctx.rank :: ctx.world]


def per_rank_batch(batch_size: int, ctx: DistContext) -> int:
    """Each rank's batch: the run's batch split over the ranks, so the global batch (and the learning
    rates that go with it) stays what a single process uses."""
    return max(1, -(-batch_size // ctx.world))


def broadcast_parameters(module: torch.nn.Module, ctx: DistContext) -> None:
    """Every rank starts from rank 0's weights and buffers."""
    if not ctx.enabled:
        return
    import torch.distributed as dist

    for tensor in list(module.parameters()) + list(module.buffers()):
        dist.broadcast(tensor.data, src=0)


def average_gradients(module: torch.nn.Module, ctx: DistContext) -> None:
    """All-reduce the gradients of ``module`` (one flat buffer) and divide by the world size."""
    if not ctx.enabled:
        return
    import torch.distributed as dist

    params = [p for p in module.parameters() if p.grad is not None]
    if not params:
        return
    flat = torch.cat([p.grad.reshape(-1) for p in params])
    dist.all_reduce(flat)
    flat /= ctx.world
    offset = 0
    for p in params:
        n = p.grad.numel()
        p.grad.copy_(flat[offset : offset + n].view_as(p.grad))
        offset += n


def barrier(ctx: DistContext) -> None:
    if ctx.enabled:
        import torch.distributed as dist

        dist.barrier()


def finish(ctx: DistContext) -> None:
    if ctx.enabled:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.destroy_process_group()
