"""Training under torchrun (core/distributed.py): 2 CPU processes (gloo) for one tiny epoch, then resume."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

from magicbrush_desktop.core.checkpoint import load_checkpoint
from magicbrush_desktop.core.distributed import DistContext, per_rank_batch, shard

JOB = textwrap.dedent("""
    import hashlib, json, os, sys
    import torch
    import magicbrush_desktop.core.train as T

    data, run, epochs, resume, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "resume", sys.argv[5]
    built = []
    real_build = T.build_generator
    T.build_generator = lambda *a, **k: built.append(real_build(*a, **k)) or built[-1]
    cfg = T.TrainConfig(data_dir=data, run_dir=run, epochs=epochs, image_size=32, batch_size=4, val_split=0.25,
                        generator="resunet", generator_kwargs={"base": 4, "depth": 2},
                        discriminator_kwargs={"base": 4, "n_layers": 2}, threads=1, max_val_images=4)
    events = list(T.train(cfg, resume=resume))
    rank = os.environ.get("RANK", "0")
    digest = hashlib.sha256(b"".join(p.detach().numpy().tobytes() for p in built[0].parameters())).hexdigest()
    with open(os.path.join(out, f"rank{rank}.json"), "w") as fh:
        json.dump({"weights": digest, "events": len(events)}, fh)
""")


def test_shard_is_distributed_sampler_order():
    order = np.arange(7)
    parts = [shard(order, DistContext(r, 2)) for r in range(2)]
    assert [p.tolist() for p in parts] == [[0, 2, 4, 6], [1, 3, 5, 0]]  # padded with the start, equal lengths
    assert shard(order, DistContext()).tolist() == order.tolist()
    assert per_rank_batch(16, DistContext(0, 2)) == 8 and per_rank_batch(16, DistContext()) == 16


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _torchrun(tmp_path: Path, data: Path, run: Path, epochs: int, mode: str) -> dict[str, dict]:
    job = tmp_path / "job.py"
    job.write_text(JOB)
    out = tmp_path / f"ranks-{mode}-{epochs}"
    out.mkdir()
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--nnodes", "1",
           "--master_addr", "127.0.0.1", "--master_port", str(_free_port()),
           str(job), str(data), str(run), str(epochs), mode, str(out)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=400, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return {p.stem: json.loads(p.read_text()) for p in out.glob("rank*.json")}


def test_torchrun_two_cpu_processes_then_resume(colour_folder, tmp_path):
    run = tmp_path / "run"
    ranks = _torchrun(tmp_path, colour_folder, run, 1, "new")
    assert set(ranks) == {"rank0", "rank1"}
    assert ranks["rank0"]["weights"] == ranks["rank1"]["weights"]  # averaged gradients keep the ranks in step
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    train_steps = [r["step"] for r in log if r["kind"] == "train"]
    # 8 photos, 6 for training, global batch 4 (2 per rank): 1 step per epoch, logged once (rank 0 alone).
    assert train_steps == [1] and [r["kind"] for r in log].count("val") == 1
    assert load_checkpoint(run / "last.pt")["train_state"]["epoch"] == 1
    assert (run / "best.pt").exists() and list((run / "samples").glob("epoch_001.png"))

    ranks = _torchrun(tmp_path, colour_folder, run, 2, "resume")
    assert ranks["rank0"]["weights"] == ranks["rank1"]["weights"]
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log if r["kind"] == "train"] == [1, 2]  # continued, not restarted
    assert [r["kind"] for r in log].count("val") == 2
    assert load_checkpoint(run / "last.pt")["train_state"]["epoch"] == 2


def test_train_nproc_wraps_torchrun_and_resumes(colour_folder, tmp_path):
    run = tmp_path / "run"
    base = [sys.executable, "-m", "magicbrush_desktop", "train", str(colour_folder), "--out", str(run),
            "--image-size", "32", "--batch-size", "4", "--generator", "resunet", "--base", "4", "--threads", "1"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for extra in (["--epochs", "1", "--nproc", "2"], ["--epochs", "2", "--nproc=2", "--resume"]):
        proc = subprocess.run(base + extra, capture_output=True, text=True, timeout=400, env=env)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        assert "torch.distributed.run --standalone --nproc_per_node 2" in proc.stderr
        assert proc.stdout.count("best model:") == 1  # rank 0 alone reports
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    steps = [r["step"] for r in log if r["kind"] == "train"]
    assert steps == list(range(1, len(steps) + 1)) and len(steps) % 2 == 0  # epoch 2 continued epoch 1
    assert [r["kind"] for r in log].count("val") == 2
    assert load_checkpoint(run / "last.pt")["train_state"]["epoch"] == 2
