"""Our L-BFGS (``core.style.lbfgs``) on convex quadratics, where the answer is known exactly.

f(x) = ½ xᵀAx − bᵀx with A symmetric positive definite has its one minimum at x* = A⁻¹b. Style
transfer is far from quadratic, but an optimiser that does not converge here, within a bounded number
of loss evaluations, has a wrong two-loop recursion or curvature update.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from magicbrush_desktop.core.style.lbfgs import LBFGS


def spd_problem(n: int, condition: float, seed: int, dtype: torch.dtype = torch.float64,
                scale: float = 20.0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(A, b, A⁻¹b): A = Q diag(λ) Qᵀ with eigenvalues spread log-evenly over [1, ``condition``]."""
    gen = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(n, n, generator=gen, dtype=torch.float64))
    eigenvalues = torch.logspace(0, float(torch.log10(torch.tensor(condition))), n, dtype=torch.float64)
    a = q @ torch.diag(eigenvalues) @ q.T
    a = (a + a.T) / 2  # exactly symmetric despite rounding
    b = torch.randn(n, generator=gen, dtype=torch.float64) * scale
    return a.to(dtype), b.to(dtype), torch.linalg.solve(a, b).to(dtype)


def quadratic_closure(x: torch.Tensor, a: torch.Tensor, b: torch.Tensor,
                      counter: list[int]) -> Callable[[], torch.Tensor]:
    """The closure LBFGS.step expects: zero the gradient, evaluate f, back-propagate; counts calls."""

    def closure() -> torch.Tensor:
        counter[0] += 1
        x.grad = None
        flat = x.reshape(-1)
        loss = 0.5 * flat @ a @ flat - b @ flat
        loss.backward()
        return loss

    return closure


def minimise(x: torch.Tensor, a: torch.Tensor, b: torch.Tensor, target: torch.Tensor, opt: LBFGS,
             tolerance: float, budget: int) -> int:
    """Step until ‖x − x*‖ ≤ tolerance·‖x*‖ or ``budget`` evaluations; returns the evaluations used."""
    evaluations = [0]
    closure = quadratic_closure(x, a, b, evaluations)
    while evaluations[0] < budget:
        opt.step(closure)
        if (x.detach().reshape(-1) - target).norm() <= tolerance * target.norm():
            break
    return evaluations[0]


@pytest.mark.parametrize(("n", "condition", "history", "budget"), [
    (20, 10.0, 50, 40),  # measured: 24-26 evaluations over seeds 0-4
    (50, 100.0, 50, 110),  # 69-74
    (50, 100.0, 5, 160),  # a short history converges too, only slower: 101-109
])
@pytest.mark.parametrize("seed", [0, 3])
def test_converges_to_the_minimum_of_a_convex_quadratic(n, condition, history, budget, seed):
    a, b, target = spd_problem(n, condition, seed)
    x = torch.zeros(n, dtype=torch.float64, requires_grad=True)
    used = minimise(x, a, b, target, LBFGS(x, history=history), tolerance=1e-8, budget=budget)

    error = float((x.detach() - target).norm() / target.norm())
    assert error <= 1e-8, f"relative error {error:.2e} after {used} evaluations"
    assert used < budget


def test_any_shape_in_float32():
    # Style transfer optimises a (1, 3, H, W) float32 picture; the optimiser flattens it internally.
    a, b, target = spd_problem(30, 10.0, seed=1, dtype=torch.float32)
    x = torch.zeros(1, 3, 2, 5, requires_grad=True)
    used = minimise(x, a, b, target, LBFGS(x), tolerance=1e-4, budget=80)

    assert x.shape == (1, 3, 2, 5)
    assert float((x.detach().reshape(-1) - target).norm() / target.norm()) <= 1e-4
    assert used < 80


def test_one_evaluation_per_step_and_the_first_step_is_bounded():
    a, b, _ = spd_problem(20, 10.0, seed=2)
    x = torch.zeros(20, dtype=torch.float64, requires_grad=True)
    evaluations = [0]
    closure = quadratic_closure(x, a, b, evaluations)
    opt = LBFGS(x, first_step=0.5)

    loss = opt.step(closure)
    # The loss returned is the one evaluated before the move: f(0) = 0.
    assert float(loss.detach()) == 0.0
    assert evaluations == [1]
    # A steepest-descent first step whose largest element moves exactly first_step.
    assert float(x.detach().abs().max()) == pytest.approx(0.5)
    g0 = -b  # ∇f(0) = A·0 − b
    assert torch.allclose(x.detach(), -g0 * (0.5 / g0.abs().max()))
    for expected in range(2, 6):
        opt.step(closure)
        assert evaluations == [expected]


def test_no_step_moves_an_element_more_than_max_step():
    # A far-away minimum: unconstrained steps would be huge, the cap keeps each one at max_step.
    a, b, target = spd_problem(10, 10.0, seed=4, scale=1e4)
    x = torch.zeros(10, dtype=torch.float64, requires_grad=True)
    opt = LBFGS(x, first_step=3.0, max_step=4.0)
    evaluations = [0]
    closure = quadratic_closure(x, a, b, evaluations)
    for _ in range(30):
        before = x.detach().clone()
        opt.step(closure)
        assert float((x.detach() - before).abs().max()) <= 4.0 + 1e-9
    assert float((x.detach() - target).norm()) < float(target.norm())  # it still went downhill


def test_history_keeps_at_most_the_configured_pairs():
    a, b, target = spd_problem(20, 100.0, seed=0)
    x = torch.zeros(20, dtype=torch.float64, requires_grad=True)
    opt = LBFGS(x, history=3)
    minimise(x, a, b, target, opt, tolerance=1e-8, budget=30)
    assert len(opt._pairs) == 3  # more than three steps taken, only the newest three kept
