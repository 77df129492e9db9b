"""L-BFGS with exactly one loss evaluation per step and a sensible first step.

torch's ``optim.LBFGS`` without line search makes its first step 1/|g|₁ long (L1 norm of the move ≤ 1). With
the raw-sum loss (the ``seed`` and ``gatys-sum`` presets), whose values reach 10¹⁵, that first move is a few
hundred-thousandths of a grey level; the gradient change it produces is rounding noise, the curvature
estimate built from it is garbage, and the second step flies off to ±10⁸. This version takes a
steepest-descent first step scaled so the largest pixel change is ``first_step`` (in the parameter's units),
then standard two-loop L-BFGS (Nocedal & Wright, Alg. 7.4) with H₀ = sᵀy / yᵀy, no line search, and a cap on
the largest per-pixel move as a guard against a bad curvature pair.
"""

from __future__ import annotations

from typing import Callable

import torch


class LBFGS:
    """Minimise ``closure()`` over one tensor ``param``; each :meth:`step` evaluates it once.

    Args:
        param: the tensor being optimised (``requires_grad=True``), any shape.
        history: curvature pairs kept.
        first_step: largest per-element change of the first (and any steepest-descent) step.
        max_step: largest per-element change of any step (the step is scaled down beyond it).
    """

    def __init__(self, param: torch.Tensor, *, history: int = 50, first_step: float = 20.0,
                 max_step: float = 64.0) -> None:
        self.param = param
        self.history = history
        self.first_step = first_step
        self.max_step = max_step
        self._pairs: list[tuple[torch.Tensor, torch.Tensor, float]] = []
        self._prev_grad: torch.Tensor | None = None
        self._prev_move: torch.Tensor | None = None

    def _direction(self, g: torch.Tensor) -> torch.Tensor:
        if not self._pairs:
            return g * (-self.first_step / g.abs().max().clamp_min(1e-30))
        q = g.clone()
        alphas = []
        for s, y, rho in reversed(self._pairs):
            a = rho * float(s.dot(q))
            q.add_(y, alpha=-a)
            alphas.append(a)
        s, y, _ = self._pairs[-1]
        q.mul_(float(s.dot(y)) / float(y.dot(y)))
        for (s, y, rho), a in zip(self._pairs, reversed(alphas)):
            b = rho * float(y.dot(q))
            q.add_(s, alpha=a - b)
        return q.neg_()

    def step(self, closure: Callable[[], torch.Tensor]) -> torch.Tensor:
        """Evaluate the loss (``closure`` must zero grads and call ``backward``), then move ``param``."""
        loss = closure()
        g = self.param.grad.detach().reshape(-1).clone()
        if self._prev_grad is not None and self._prev_move is not None:
            y = g - self._prev_grad
            ys = float(y.dot(self._prev_move))
            # Only pairs with positive curvature keep the inverse-Hessian estimate positive definite.
            if ys > 1e-10 * float(y.dot(y)) and ys > 0:
                self._pairs.append((self._prev_move, y, 1.0 / ys))
                if len(self._pairs) > self.history:
                    self._pairs.pop(0)
        d = self._direction(g)
        biggest = float(d.abs().max())
        if biggest > self.max_step:
            d.mul_(self.max_step / biggest)
        with torch.no_grad():
            self.param.add_(d.view_as(self.param))
        self._prev_grad, self._prev_move = g, d
        return loss
