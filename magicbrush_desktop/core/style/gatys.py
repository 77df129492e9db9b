"""Gatys et al. neural style transfer: a session's optimisation generator, its plan of sizes and its results.

The pieces it builds on: the loss terms and layer presets (:mod:`.losses`), and the shared engine
with the VGG19, the target caches and the arithmetic precision (:mod:`.engine`).

Long work is a generator of :mod:`..events`: :meth:`StyleTransfer.run` yields ``Progress`` every step,
``Metrics(kind="style")`` with the losses, a ``Preview`` every few steps and ``Finished`` with the
full-size picture. Calling ``run`` again continues from the current picture with new weights (warm
restart), reusing the cached targets: that is what lets a GUI slider be interactive.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ..color import grey_of_lightness, lab_to_rgb, lightness_of_grey, match_luminance, rgb_to_lab
from ..errors import MagicBrushError
from ..events import Event, Finished, Metrics, Preview, Progress
from ..imageio import resize_image
from ..limits import check_style_size
from ..sizing import fit_longest_side
from .controls import StyleControls, refine_steps
from .defaults import DEFAULT_PRESET, OPTIMIZERS
from .engine import StyleEngine, image_digest, to_tensor, to_uint8
from .lbfgs import LBFGS
from .losses import content_loss, content_norm, get_preset, gram_norm, style_layer_loss, tv_loss

# A run from the photo goes 256 px -> halfway -> its size, with this share of its steps at 256 px. Measured
# (astronaut, Starry Night, 512 px, 100 steps, float32): 60/20/20 reaches the style loss of the former
# 50 at 256 + 50 at 512 (0.0542 vs 0.0544) for 46 % of the compute of 100 full-size steps instead of 62 %.
COARSEST_SHARE = 0.6
COARSEST_SIDE = 256


def default_scales(size: int) -> list[int]:
    """Optimisation sizes of a run from the photo, coarse to fine: 256 px, halfway (a multiple of 32),
    then ``size``; just ``[size]`` below 384 px, where a coarser pass saves little."""
    if size < 384:
        return [size]
    middle = round((COARSEST_SIDE + size) / 2 / 32) * 32
    return sorted({COARSEST_SIDE, middle, size})


class _Interrupted(Exception):
    """Raised inside an evaluation when the live controls changed: the step is dropped."""


# A refinement (a weight change, a warm restart) first takes a few steps at this longest side: a step
# there costs about a seventh of one at 512 px, so the change shows on the canvas within about a second
# (bench/style_live.py); the full-size steps then refine it.
REFINE_PREVIEW_SIDE = 192
REFINE_PREVIEW_STEPS = 2
# A run from the photo that wants a quick first preview (the desktop's) starts with these steps at this
# size (its first preview comes after one of them), taken from the coarsest phase's share.
FIRST_PREVIEW_SIDE = 128
FIRST_PREVIEW_STEPS = 2
# VGG19 halves a picture four times before relu5_1: a side under 16 px would vanish there.
MIN_SIDE = 16

# ----------------------------------------------------------------------------------------------------
# A session: one photo, some styles, a current picture that survives between runs
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Losses:
    """Loss values of one evaluation (float, unweighted except ``total``)."""

    content: float
    style: float
    tv: float
    total: float

    def as_dict(self) -> dict[str, float]:
        return {"content": self.content, "style": self.style, "tv": self.tv, "total": self.total}


class StyleTransfer:
    """One style-transfer session: a content photo, styles with blend weights, and the current picture.

    Args:
        engine: the shared :class:`StyleEngine`.
        content: (H, W, 3) uint8 RGB photo at its full size (the output keeps this size).
        styles: (h, w, 3) uint8 RGB style images (any size).
        blend: one weight per style (normalised to sum 1; default equal).
        size: optimisation size, longest side in px.
        layers: preset name ("gatys" or "seed").
        style_scale: style images are resized to ``style_scale × size`` (longest side): smaller values
            give smaller brush strokes.
        preserve_colors: transfer luminance only and keep the photo's colours.
        init: "content" (start from the photo) or "noise".
        scales: optimisation sizes coarse to fine; default :func:`default_scales` (256 px, halfway, size).
        seed: seed for the noise init.

    Usage::

        session = StyleTransfer(engine, photo.rgb, [painting])
        for event in session.run(100): ...          # multi-scale from the photo
        for event in session.run(30, style_weight=5e3): ...   # warm restart from the current picture
        full = session.result()                      # (H, W, 3) uint8 at the photo's size
    """

    def __init__(
        self,
        engine: StyleEngine,
        content: np.ndarray,
        styles: Sequence[np.ndarray],
        *,
        blend: Sequence[float] | None = None,
        size: int = 512,
        layers: str = DEFAULT_PRESET,
        style_scale: float = 1.0,
        preserve_colors: bool = False,
        init: str = "content",
        scales: Sequence[int] | None = None,
        seed: int = 0,
    ) -> None:
        if content.ndim != 3 or content.shape[2] != 3 or content.dtype != np.uint8 or 0 in content.shape:
            raise MagicBrushError("the content image must be an (H, W, 3) uint8 RGB array with pixels")
        if not styles:
            raise MagicBrushError("at least one style image is needed")
        if size < 16:
            raise MagicBrushError(f"size must be at least 16 px (got {size})")
        # A size the machine's memory cannot hold is refused here, for every front end (limits.py).
        check_style_size(content.shape[:2], size, style_scale)
        if not 0.05 <= style_scale <= 8:
            raise MagicBrushError(f"style scale must be between 0.05 and 8 (got {style_scale})")
        if init not in ("content", "noise"):
            raise MagicBrushError(f"unknown init '{init}' (use content or noise)")
        self.engine = engine
        self.preset = get_preset(layers)
        self.preserve_colors = preserve_colors
        self.style_scale = style_scale
        self.init = init
        self.seed = seed
        self.full_size = content.shape[:2]
        self.set_blend(blend if blend is not None else [1.0] * len(styles), n_styles=len(styles))
        self.size = int(size)
        if scales is None:
            scales = default_scales(self.size)
        self.scales = sorted({int(s) for s in scales if s <= self.size} | {self.size})

        # Everything is optimised on the photo (or its luminance) scaled down; the full-size photo is kept
        # only as uint8 (plus, for preserve-colours, its a*b*), so a 12 MP photo stays far below 4 GB.
        self._content_full = content
        if preserve_colors:
            l_full = rgb_to_lab(content)[..., 0]
            # The VGG sees the lightness as the grey photo it is (CIE inverse), float 0..1 (H, W, 3).
            self._content_source = np.repeat(grey_of_lightness(l_full)[..., None], 3, axis=2)
            self._content_l_stats = l_full
        else:
            self._content_source = content
            self._content_l_stats = None
        self._content_key = image_digest(content) + ("/L" if preserve_colors else "")
        self._styles = [self._prepare_style(s) for s in styles]
        self._style_keys = [image_digest(s) + ("/L" if preserve_colors else "") for s in self._styles]
        self._style_image_size = [s.shape[:2] for s in self._styles]
        del self._content_l_stats

        self._x: torch.Tensor | None = None  # current picture (1, 3, h, w) 0..1 at self._x_size
        # During a refinement's small-size steps: (full-size picture, its shrunk copy they started from).
        self._anchor: tuple[torch.Tensor, torch.Tensor] | None = None
        self.steps_done = 0
        self.last_losses: Losses | None = None
        self.photo_style_loss: float | None = None  # style loss of the photo itself (the first evaluation)

    # --- setup -------------------------------------------------------------------------------------

    def _prepare_style(self, style: np.ndarray) -> np.ndarray:
        """A checked style image, (h, w, 3) uint8; preserving colours, its lightness matched to the
        photo's (:func:`..color.match_luminance`) as a grey picture."""
        if style.ndim != 3 or style.shape[2] != 3 or style.dtype != np.uint8 or 0 in style.shape:
            raise MagicBrushError("each style image must be an (H, W, 3) uint8 RGB array with pixels")
        if not self.preserve_colors:
            return style
        style_l = rgb_to_lab(style)[..., 0]
        matched = match_luminance(style_l, self._content_l_stats)
        grey = np.rint(grey_of_lightness(matched) * 255.0).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)

    def set_blend(self, blend: Sequence[float], *, n_styles: int | None = None) -> None:
        """Change the styles' blend weights (normalised to sum 1); cached Grams are reused."""
        n = n_styles if n_styles is not None else len(self._styles)
        weights = [float(w) for w in blend]
        if len(weights) != n:
            raise MagicBrushError(f"--blend needs {n} weights, one per style (got {len(weights)})")
        if any(w < 0 or not math.isfinite(w) for w in weights) or sum(weights) <= 0:
            raise MagicBrushError("blend weights must be non-negative numbers with a positive sum")
        total = sum(weights)
        self.blend = [w / total for w in weights]

    def _content_at(self, size_hw: tuple[int, int]) -> np.ndarray:
        """The photo (or its grey lightness, preserving colours) at an optimisation size: (h, w, 3)."""
        return resize_image(self._content_source, size_hw)

    def _fit(self, longest: int) -> tuple[int, int]:
        """(h, w) of the photo fitted to ``longest`` px on its longer side, at least 16 px a side."""
        return fit_longest_side(*self.full_size, longest, min_side=MIN_SIDE)

    def _targets(self, size_hw: tuple[int, int]) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """Content features and the blended Gram targets at an optimisation size.

        Blending the targets (A = Σ wᵢ Aᵢ) rather than the losses gives the same gradient, because
        Σ wᵢ (G − Aᵢ)² = (G − Σ wᵢ Aᵢ)² + const when Σ wᵢ = 1, at one Gram comparison per layer.
        """
        p = self.preset
        content = self.engine.content_targets(self._content_at(size_hw), p.content_layers, self._content_key)
        longest = max(8, round(max(size_hw) * self.style_scale))
        blended: dict[str, torch.Tensor] = {}
        for style, key, w in zip(self._styles, self._style_keys, self.blend):
            if w == 0:
                continue
            style_img = resize_image(style, fit_longest_side(*style.shape[:2], longest, min_side=MIN_SIDE))
            grams = self.engine.style_targets(style_img, p.style_layers, key)
            for layer, g in grams.items():
                blended[layer] = blended[layer] + w * g if layer in blended else w * g
        return content, blended

    def _initial(self, size_hw: tuple[int, int]) -> torch.Tensor:
        base = to_tensor(self._content_at(size_hw), self.engine.device)
        if self.init == "noise":
            gen = torch.Generator().manual_seed(self.seed)
            return torch.rand(base.shape, generator=gen).to(self.engine.device)
        return base

    def _rescale_current(self, size_hw: tuple[int, int]) -> torch.Tensor:
        """The current picture carried to another size (see :meth:`_carry`)."""
        assert self._x is not None
        return self._carry(self._x, size_hw)

    def _carry(self, x: torch.Tensor, size_hw: tuple[int, int]) -> torch.Tensor:
        """Carry a picture to another size: the photo at that size plus the resized change.

        Upsampling the coarse picture alone would blur the photo's fine detail, which the content loss
        would then have to rebuild step by step; adding only the stylisation delta keeps it for free.
        """
        if tuple(x.shape[2:]) == size_hw:
            return x.detach()
        base_old = to_tensor(self._content_at(tuple(x.shape[2:])), self.engine.device)
        base_new = to_tensor(self._content_at(size_hw), self.engine.device)
        delta = F.interpolate(x.detach() - base_old, size=size_hw, mode="bilinear", align_corners=False)
        return (base_new + delta).clamp(0, 1)

    # --- losses ------------------------------------------------------------------------------------

    def _loss(
        self,
        x: torch.Tensor,
        content_t: dict[str, torch.Tensor],
        style_t: dict[str, torch.Tensor],
        alpha: float,
        beta: float,
        tau: float,
        *,
        interrupt: Callable[[], bool] | None = None,
    ) -> tuple[torch.Tensor, Losses]:
        """The weighted loss of ``x`` ((1, 3, h, w) 0..1) and its terms.

        ``interrupt``: checked after every VGG layer of the forward pass and as the backward pass reaches
        every layer; when it says so, the evaluation stops with :class:`_Interrupted` (a slider moved:
        this step is not wanted), within about one layer's time.
        """
        p = self.preset
        check = None
        if interrupt is not None:
            def check() -> None:
                if interrupt():
                    raise _Interrupted

        feats = self.engine.features(x, p.layers, check)
        c = sum(content_loss(feats[layer], content_t[layer]) / content_norm(content_t[layer], p)
                for layer in p.content_layers)
        s = sum(
            w * style_layer_loss(feats[layer], style_t[layer]) / gram_norm(style_t[layer], p)
            for layer, w in zip(p.style_layers, p.style_layer_weights)
        )
        t = tv_loss(x) if tau > 0 else x.new_zeros(())
        total = alpha * c + beta * s + tau * t
        return total, Losses(float(c.detach()), float(s.detach()), float(t.detach()), float(total.detach()))

    def evaluate(
        self,
        image: np.ndarray | None = None,
        *,
        content_weight: float | None = None,
        style_weight: float | None = None,
        tv_weight: float = 0.0,
    ) -> Losses:
        """Losses of ``image`` ((h, w, 3) uint8, default: the current picture, else the photo) at ``size``."""
        size_hw = self._fit(self.size)
        if image is not None:
            x = to_tensor(resize_image(image, size_hw), self.engine.device)
        else:
            x = self._at_final_size(self._x)
        alpha = self.preset.content_weight if content_weight is None else content_weight
        beta = self.preset.style_weight if style_weight is None else style_weight
        return self._losses(x, alpha, beta, tv_weight)

    def _losses(self, x: torch.Tensor, alpha: float, beta: float, tau: float) -> Losses:
        """Losses of ``x`` ((1, 3, h, w) 0..1 at the finest size), without gradients."""
        content_t, style_t = self._targets(tuple(x.shape[2:]))
        with torch.no_grad():
            _, losses = self._loss(x, content_t, style_t, alpha, beta, tau)
        return losses

    # --- the optimisation --------------------------------------------------------------------------

    def run(
        self,
        steps: int,
        *,
        content_weight: float | None = None,
        style_weight: float | None = None,
        tv_weight: float = 0.0,
        optimizer: str = "lbfgs",
        lr: float | None = None,
        preview_every: int = 10,
        blend: Sequence[float] | None = None,
        controls: StyleControls | None = None,
        preview_first: bool = False,
    ) -> Iterator[Event]:
        """Optimise for ``steps`` steps, yielding events; ends with ``Finished(result=full-size uint8)``.

        The first run goes coarse to fine through ``scales`` (:data:`COARSEST_SHARE` of the steps at the
        coarsest, the rest split evenly over the finer ones, the remainder at the
        finest size). Later runs are warm restarts: they refine the current picture with the new weights,
        first a few steps at a small size (a quick preview of the change, added to the full-size picture
        as a low-frequency correction, so the fine detail already reached is kept), then at the finest
        size, reusing every cached target. One L-BFGS step is one evaluation (forward + backward).
        Closing the generator stops between steps and keeps the picture reached.

        With ``controls`` (the live parameter channel) the weights come from it and are re-read after
        every step: a change refines from the current picture in the same run, exactly as a warm restart
        would, and extends the run to at least :func:`.controls.refine_steps` more steps; ``Progress``
        keeps counting (its total grows) instead of starting again.

        Args:
            steps: optimisation steps (≥ 1).
            content_weight: α (default: the preset's); ignored with ``controls``.
            style_weight: β (default: the preset's); ignored with ``controls``.
            tv_weight: τ, total-variation weight (0 = off).
            optimizer: "lbfgs" or "adam".
            lr: Adam's step size (default 5, in 0..255 pixel units); for L-BFGS it scales the first step.
            preview_every: yield a ``Preview`` every this many steps (0 = never before the end); a
                refinement also previews right after its small-size steps.
            blend: new blend weights for the styles (cached Grams reused); ignored with ``controls``.
            controls: live weights, read between steps (see :mod:`.controls`).
            preview_first: a run from the photo previews after its first step too (a GUI shows
                something within a step of Run).
        """
        if steps < 1:
            raise MagicBrushError(f"steps must be at least 1 (got {steps})")
        if optimizer not in OPTIMIZERS:
            raise MagicBrushError(f"unknown optimizer '{optimizer}' (use {' or '.join(OPTIMIZERS)})")
        version, start_overs = -1, 0
        interrupt: Callable[[], bool] | None = None
        if controls is not None:
            version, live = controls.snapshot()
            start_overs = controls.start_overs
            # Read at call time: ``version`` is rebound below each time the run takes new weights.
            interrupt = lambda: controls.version != version  # noqa: E731
            content_weight, style_weight, blend = live.content_weight, live.style_weight, live.blend
        alpha = self.preset.content_weight if content_weight is None else float(content_weight)
        beta = self.preset.style_weight if style_weight is None else float(style_weight)
        tau = float(tv_weight)
        if min(alpha, beta, tau) < 0:
            raise MagicBrushError("loss weights must not be negative")
        if blend is not None:
            self.set_blend(blend)

        started = time.perf_counter()
        final_hw = self._fit(self.size)
        fresh = self._x is None
        start_x = None if fresh else self._x.detach().clone()
        plan = self._fresh_plan(steps, quick_start=preview_first) if fresh else self._refine_plan(steps)
        total, done, since_preview, weight_changes = steps, 0, 0, 0
        self._anchor = None
        try:
            phase = 0
            while phase < len(plan):
                size_hw, n_steps = plan[phase]
                content_t, style_t = self._targets(size_hw)
                param = (self._start_at(size_hw) * 255.0).requires_grad_(True)
                # The optimiser works in 0..255 pixel units, as Gatys' Caffe code and neural-style do. A
                # new optimiser on every (re)start: L-BFGS's curvature history belongs to the old weights.
                if optimizer == "lbfgs":
                    opt: LBFGS | torch.optim.Optimizer = LBFGS(param, first_step=20.0 if lr is None else 20.0 * lr)
                else:
                    opt = torch.optim.Adam([param], lr=5.0 if lr is None else lr)
                changed = False
                for i in range(n_steps):
                    record: list[Losses] = []

                    def closure() -> torch.Tensor:
                        param.grad = None
                        loss, losses = self._loss(param / 255.0, content_t, style_t, alpha, beta, tau,
                                                  interrupt=interrupt)
                        if interrupt is not None and interrupt():
                            raise _Interrupted
                        loss.backward()
                        record.append(losses)
                        return loss

                    try:
                        opt.step(closure)
                    except _Interrupted:
                        # New weights arrived mid-evaluation: drop it (the picture has not moved) and go
                        # on with them at once, rather than finishing a step for weights no longer wanted.
                        plan, phase, changed, total, start_overs, fresh, start_x, since_preview, weight_changes = \
                            self._apply_change(controls, plan, phase, i, steps, done, total, start_overs, fresh,
                                               start_x, since_preview, weight_changes)
                        version, live = controls.snapshot()
                        alpha, beta = live.content_weight, live.style_weight
                        break
                    if optimizer == "adam":
                        # Adam has no curvature model to keep it sane: keep pixels in range.
                        with torch.no_grad():
                            param.clamp_(0, 255)
                    if not all(map(math.isfinite, record[-1].as_dict().values())):
                        # self._x still holds the last good picture: a later run can go on from it.
                        raise MagicBrushError("the optimisation diverged (loss is not finite); lower the weights or lr")
                    if self.photo_style_loss is None:
                        # The first evaluation is of the photo: how far the style got is read against it.
                        self.photo_style_loss = record[0].style
                    self._x = param.detach() / 255.0
                    done += 1
                    since_preview += 1
                    self.steps_done += 1
                    self.last_losses = record[-1]
                    what = "refining with the new weights" if self._anchor is not None else "step"
                    yield Progress(done, total, f"{what} {done}/{total} at {size_hw[1]}×{size_hw[0]}")
                    yield Metrics(self.steps_done, record[-1].as_dict(), kind="style")
                    last_of_phase = i == n_steps - 1
                    if controls is not None and controls.version != version:
                        plan, phase, changed, total, start_overs, fresh, start_x, since_preview, weight_changes = \
                            self._apply_change(controls, plan, phase, i + 1, steps, done, total, start_overs, fresh,
                                               start_x, since_preview, weight_changes)
                        version, live = controls.snapshot()
                        alpha, beta = live.content_weight, live.style_weight
                        break
                    if self._anchor is not None and last_of_phase:
                        # The small-size steps of a refinement are done: show them on the full picture.
                        since_preview = 0
                        yield Preview(self._image(self._anchored()), self.steps_done, f"step {done}/{total}")
                    elif done < total and ((preview_first and fresh and phase == 0 and i == 0)
                                           or (preview_every and since_preview >= preview_every)):
                        since_preview = 0
                        yield Preview(self.current(), self.steps_done, f"step {done}/{total}")
                if not changed:
                    phase += 1
        finally:
            if self._anchor is not None:
                # Stopped during the small-size steps: keep the full-size picture (plus what they did).
                self._x = self._anchored()
                self._anchor = None
        self._x = self._x.detach()
        final = self.evaluate(content_weight=alpha, style_weight=beta, tv_weight=tau)
        # Evaluated after the run, not before: the first preview comes one forward pass sooner.
        initial = self._losses(self._at_final_size(start_x), alpha, beta, tau)
        self.last_losses = final
        result = self.result()
        seconds = time.perf_counter() - started
        summary = {
            "steps": done,
            "seconds": seconds,
            "size": [final_hw[1], final_hw[0]],
            "losses_initial": initial.as_dict(),
            "losses_final": final.as_dict(),
            "warm_restart": not fresh,
            "weight_changes": weight_changes,
        }
        yield Finished(result=result, summary=summary)

    # --- the plan of a run: which sizes, how many steps at each ------------------------------------

    def _apply_change(self, controls: StyleControls, plan: list, phase: int, steps_done_in_phase: int,
                      steps: int, done: int, total: int, start_overs: int, fresh: bool, start_x,
                      since_preview: int, weight_changes: int) -> tuple:
        """The run's new plan and counters after ``controls`` changed (new weights or a start-over).

        A start-over goes back to the photo with a whole run's steps, coarse to fine; new weights refine
        from the current picture for at least :func:`.controls.refine_steps` more steps. The caller reads
        the new weights from ``controls``. Returns (plan, phase, changed, total, start_overs, fresh,
        start_x, since_preview, weight_changes).
        """
        live = controls.weights
        if live.blend is not None:
            self.set_blend(live.blend)
        if controls.start_overs != start_overs:
            self._x, self._anchor = None, None
            return (self._fresh_plan(steps), 0, True, done + steps, controls.start_overs, True, None, 0,
                    weight_changes)
        remaining = max(total - done, refine_steps(steps))
        return (self._replan(plan, phase, steps_done_in_phase, remaining), 0, True, done + remaining, start_overs,
                fresh, start_x, since_preview, weight_changes + 1)

    def _fresh_plan(self, steps: int, *, quick_start: bool = False) -> list[tuple[tuple[int, int], int]]:
        """Coarse to fine through ``scales``: :data:`COARSEST_SHARE` of the steps at the coarsest size (a
        step there costs a quarter of one at 512 px and does most of the work), the rest split evenly over
        the finer sizes, the remainder at the finest."""
        sizes = [self._fit(s) for s in self.scales]
        if quick_start and min(self.scales) >= 2 * FIRST_PREVIEW_SIDE and steps > 2 * FIRST_PREVIEW_STEPS:
            # A couple of steps at 128 px first: a preview within a second of Run, and their change is
            # carried up to the next size, so they are not lost.
            rest = self._fresh_plan(steps - FIRST_PREVIEW_STEPS)
            return [(self._fit(FIRST_PREVIEW_SIDE), FIRST_PREVIEW_STEPS)] + rest
        if len(sizes) > 1:
            coarse = round(steps * COARSEST_SHARE)
            per = (steps - coarse) // (len(sizes) - 1)
            plan = [(sizes[0], coarse)] + [(hw, per) for hw in sizes[1:-1]]
            plan = [(hw, n) for hw, n in plan if n > 0]
            plan.append((sizes[-1], steps - sum(n for _, n in plan)))
            return plan
        per = steps // len(sizes)
        plan = [(hw, per) for hw in sizes[:-1] if per > 0]
        plan.append((sizes[-1], steps - sum(n for _, n in plan)))
        return plan

    def _refine_plan(self, steps: int) -> list[tuple[tuple[int, int], int]]:
        """A refinement of the current picture: a few small-size steps (a quick preview), then full size."""
        final_hw = self._fit(self.size)
        preview_hw = self._fit(min(REFINE_PREVIEW_SIDE, self.size))
        if preview_hw == final_hw or steps <= REFINE_PREVIEW_STEPS:
            return [(final_hw, steps)]
        return [(preview_hw, REFINE_PREVIEW_STEPS), (final_hw, steps - REFINE_PREVIEW_STEPS)]

    def _replan(self, plan: list[tuple[tuple[int, int], int]], phase: int, steps_done_in_phase: int,
                remaining: int) -> list[tuple[tuple[int, int], int]]:
        """The plan after a weight change, ``remaining`` steps in all.

        During a run's coarse phases the plan goes on (the finest phase takes the extra steps): those
        steps are cheap and the change will show at the next preview. At the finest size (or during a
        refinement's small-size steps) it becomes a refinement.
        """
        final_hw = self._fit(self.size)
        here = plan[phase][0]
        if here != final_hw and self._anchor is None:
            rest = [(here, plan[phase][1] - steps_done_in_phase)] + plan[phase + 1:]
            rest = [(hw, n) for hw, n in rest if n > 0 and hw != final_hw]
            coarse = sum(n for _, n in rest)
            if coarse < remaining:
                return rest + [(final_hw, remaining - coarse)]
        return self._refine_plan(remaining)

    def _start_at(self, size_hw: tuple[int, int]) -> torch.Tensor:
        """The picture a phase starts from at ``size_hw``: (1, 3, h, w) 0..1, detached.

        From the photo (first phase of a fresh run); the current picture (same size); the full-size
        picture with the small-size steps' change added (back up from a refinement preview); the
        current picture shrunk, remembered as the anchor (down to a refinement preview); or the coarse
        picture carried up (:meth:`_rescale_current`).
        """
        if self._x is None:
            x = self._initial(size_hw)
        elif tuple(self._x.shape[2:]) == size_hw:
            x = self._x.detach().clone()
        elif self._anchor is not None and tuple(self._anchor[0].shape[2:]) == size_hw:
            x = self._anchored()
            self._anchor = None
        elif size_hw[0] < self._x.shape[2] and self._anchor is None:
            small = F.interpolate(self._x.detach(), size=size_hw, mode="bilinear", align_corners=False,
                                  antialias=True).clamp(0, 1)
            self._anchor = (self._x.detach().clone(), small.clone())
            x = small
        else:
            x = self._rescale_current(size_hw)
        self._x = x.detach()
        return x.detach()

    def _anchored(self) -> torch.Tensor:
        """The full-size picture a refinement started from, plus the change its small-size steps made
        (upsampled): (1, 3, H, W) 0..1. The fine detail already reached is kept."""
        assert self._anchor is not None and self._x is not None
        full, small_start = self._anchor
        delta = F.interpolate(self._x.detach() - small_start, size=tuple(full.shape[2:]), mode="bilinear",
                              align_corners=False)
        return (full + delta).clamp(0, 1)

    def _at_final_size(self, x: torch.Tensor | None) -> torch.Tensor:
        """A picture (default: the photo) at the finest optimisation size: (1, 3, h, w) 0..1, detached."""
        size_hw = self._fit(self.size)
        if x is None:
            return to_tensor(self._content_at(size_hw), self.engine.device)
        return self._carry(x, size_hw)

    def _image(self, x: torch.Tensor) -> np.ndarray:
        """A (1, 3, h, w) picture as (h, w, 3) uint8 RGB, with the photo's colours when preserving them."""
        out = to_uint8(x)
        return self._recolor(out, out.shape[:2]) if self.preserve_colors else out

    # --- results -----------------------------------------------------------------------------------

    def current(self) -> np.ndarray:
        """The current picture at the optimisation size: (h, w, 3) uint8 (the photo before any run)."""
        if self._x is None:
            return resize_image(self._content_full, self._fit(self.size))
        return self._image(self._anchored() if self._anchor is not None else self._x)

    def _recolor(self, grey_rgb: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
        """Stylised luminance (grey (h, w, 3) uint8) + the photo's a*b* at ``size_hw`` -> RGB uint8."""
        # The inverse of the grey the VGG was given (grey_of_lightness): the stylised L* itself.
        l_star = lightness_of_grey(grey_rgb.astype(np.float32).mean(axis=2) / 255.0)
        lab = rgb_to_lab(resize_image(self._content_full, size_hw))
        lab[..., 0] = resize_image(l_star, size_hw)
        return lab_to_rgb(lab)

    def result(self) -> np.ndarray:
        """The current picture at the photo's full pixel size: (H, W, 3) uint8.

        Optimisation happens at ``size``; the picture is then upsampled (bicubic). With preserve-colours
        only the stylised lightness is upsampled and the photo's own full-resolution a*b* are kept.
        """
        if self._x is None:
            return self._content_full.copy()
        small = to_uint8(self._x)
        if self.preserve_colors:
            return self._recolor(small, self.full_size)
        return resize_image(small, self.full_size)
