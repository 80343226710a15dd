"""PyTorch's time for the lecture's two-layer ReLU net, float64, forward + backward
with respect to w1 and w2: the reference bench/mlp.mjs compares against.

    /usr/bin/python3 bench/mlp_torch.py --sizes 64,1000,100,10 640,4000,1000,100 --iters 200,10

Prints one JSON object: torch version, threads, BLAS, and per size the median ms.
"""
import argparse
import json
import os
import statistics
import time

import torch


def bench(n, d_in, h, d_out, iters, warmup):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, d_in, dtype=torch.float64, generator=g)
    y = torch.randn(n, d_out, dtype=torch.float64, generator=g)
    w1 = torch.randn(d_in, h, dtype=torch.float64, generator=g, requires_grad=True)
    w2 = torch.randn(h, d_out, dtype=torch.float64, generator=g, requires_grad=True)
    times = []
    for i in range(warmup + iters):
        t0 = time.perf_counter()
        # as a training step would: fresh gradients (zero_grad(set_to_none=True)), forward, backward
        w1.grad = None
        w2.grad = None
        loss = (x.mm(w1).clamp(min=0).mm(w2) - y).pow(2).sum()
        loss.backward()
        t1 = time.perf_counter()
        if i >= warmup:
            times.append((t1 - t0) * 1e3)
    return statistics.median(times), min(times)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", nargs="+", required=True, help="N,D_in,H,D_out per size")
    p.add_argument("--iters", required=True, help="iterations per size, comma-separated")
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="torch.set_num_threads (default: all cores, like the native engine)")
    a = p.parse_args()
    default_threads = torch.get_num_threads()
    torch.set_num_threads(a.threads)
    iters = [int(v) for v in a.iters.split(",")]
    out = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "defaultThreads": default_threads,
        "blas": torch.__config__.show().split("BLAS_INFO=")[1].split(",")[0] if "BLAS_INFO=" in torch.__config__.show() else "?",
        "sizes": [],
    }
    for s, it in zip(a.sizes, iters):
        n, d_in, h, d_out = (int(v) for v in s.split(","))
        med, best = bench(n, d_in, h, d_out, it, max(3, it // 10))
        out["sizes"].append({"size": [n, d_in, h, d_out], "medianMs": med, "minMs": best, "iters": it})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
