#!/usr/bin/python3
"""Test fixtures for ONNX and TorchScript bundles, made the way docs/bring-your-model.md tells users to: a network
written in PyTorch, exported with torch.onnx.export and torch.jit.trace(...).save, plus the numbers PyTorch itself
computes, for the Java tests to compare against. Run with Debian's python3-torch (1.13).

  torch_fixtures.py all WEIGHTS_DIR CONFIG_JSON OUT_DIR
      Everything below in one run: OUT_DIR/unet, OUT_DIR/classifier, OUT_DIR/bad/renamed, OUT_DIR/bad/newer.pt.
  torch_fixtures.py unet WEIGHTS_DIR CONFIG_JSON OUT_DIR
      The denoising UNet of org.diffxai.tf.UNetBuilder (the architecture of the bundled sample model), with the
      weights the Java test read from a SavedModel (one .npy per TensorFlow parameter, TensorFlow layouts). Writes
      OUT_DIR/onnx/ and OUT_DIR/torchscript/ as denoiser bundles (model.json, scheduler_config.json, sha256), and
      OUT_DIR/reference/: eps.npy (the UNet on x_call.npy, t_call.npy, label_call.npy, which the caller provides) and
      ddim_steps.npy (x after every step of a deterministic DDIM loop from ddim_xT.npy, formulas below).
  torch_fixtures.py classifier OUT_DIR
      A small CNN classifier (seeded weights) as ONNX and TorchScript classifier bundles, with test images and
      PyTorch's logits and input gradients (of a logit and of a log-probability, through the intensity mapping).
  torch_fixtures.py newer_version PT_IN PT_OUT
      A copy of a TorchScript archive whose version record claims a newer file format than libtorch 2.7 reads.
  torch_fixtures.py bad_inputs OUT_DIR
      An ONNX denoiser whose inputs are named (image, timestep) instead of the contract's (x, t).
"""
import hashlib
import json
import math
import os
import shutil
import sys
import zipfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

OPSET = 17


# ----------------------------------------------------------------------------------------------- the UNet
class ResBlock(nn.Module):
    """GroupNorm, SiLU, 3x3 conv, + Linear(SiLU(temb)), GroupNorm, SiLU, 3x3 conv; 1x1 conv skip when channels change."""

    def __init__(self, cin, cout, temb, groups):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin, eps=1e-5)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.time_emb_proj = nn.Linear(temb, cout)
        self.norm2 = nn.GroupNorm(groups, cout, eps=1e-5)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.conv_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time_emb_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return (x if self.conv_shortcut is None else self.conv_shortcut(x)) + h


class Attention(nn.Module):
    """Single-head self-attention over the H*W positions with 1x1-conv projections and a residual connection."""

    def __init__(self, ch, groups):
        super().__init__()
        self.group_norm = nn.GroupNorm(groups, ch, eps=1e-5)
        self.to_q = nn.Conv2d(ch, ch, 1)
        self.to_k = nn.Conv2d(ch, ch, 1)
        self.to_v = nn.Conv2d(ch, ch, 1)
        self.to_out = nn.Conv2d(ch, ch, 1)
        self.ch = ch

    def forward(self, x):
        n, c, hh, ww = x.shape
        h = self.group_norm(x)
        q = self.to_q(h).flatten(2).transpose(1, 2)
        k = self.to_k(h).flatten(2).transpose(1, 2)
        v = self.to_v(h).flatten(2).transpose(1, 2)
        a = torch.softmax(torch.bmm(q, k.transpose(1, 2)) * (1.0 / math.sqrt(self.ch)), dim=-1)
        o = torch.bmm(a, v).transpose(1, 2).reshape(n, c, hh, ww)
        return x + self.to_out(o)


class UNet(nn.Module):
    """org.diffxai.tf.UNetBuilder in PyTorch: the same layers, parameter names and numerics (NCHW instead of NHWC;
    TensorFlow's SAME padding of the stride-2 convolutions pads one row and column at the end)."""

    def __init__(self, cfg):
        super().__init__()
        base, mult, layers, groups = cfg["base_channels"], cfg["channel_multipliers"], cfg["layers_per_block"], cfg["norm_groups"]
        self.cfg = cfg
        temb = 4 * base
        self.base = base
        self.time_embedding = nn.ModuleDict({"linear_1": nn.Linear(base, temb), "linear_2": nn.Linear(temb, temb)})
        # one row per class, plus the "no class" row of a network trained with label dropout (UNetConfig)
        self.class_embedding = nn.Embedding(cfg["embedding_rows"], temb) if cfg["num_classes"] > 0 else None
        cin = cfg["channels"] + cfg["condition_channels"]
        self.conv_in = nn.Conv2d(cin, base, 3, padding=1)
        self.down = nn.ModuleList()
        skip = [base]
        ch = base
        for level, m in enumerate(mult):
            out = base * m
            d = nn.ModuleDict({"res": nn.ModuleList()})
            for _ in range(layers):
                d["res"].append(ResBlock(ch, out, temb, groups))
                ch = out
                skip.append(ch)
            if level < len(mult) - 1:
                d["downsample"] = nn.Conv2d(ch, ch, 3, stride=2, padding=0)
                skip.append(ch)
            self.down.append(d)
        self.mid = nn.ModuleDict({"res": nn.ModuleList([ResBlock(ch, ch, temb, groups), ResBlock(ch, ch, temb, groups)])})
        if cfg["attention"]:
            self.mid["attn"] = Attention(ch, groups)
        self.up = nn.ModuleDict()
        for level in reversed(range(len(mult))):
            out = base * mult[level]
            u = nn.ModuleDict({"res": nn.ModuleList()})
            for _ in range(layers + 1):
                u["res"].append(ResBlock(ch + skip.pop(), out, temb, groups))
                ch = out
            if level > 0:
                u["upsample"] = nn.Conv2d(ch, ch, 3, padding=1)
            self.up[str(level)] = u
        self.conv_norm_out = nn.GroupNorm(groups, ch, eps=1e-5)
        self.conv_out = nn.Conv2d(ch, cfg["channels"], 3, padding=1)

    def forward(self, x, t, label):
        half = self.base // 2
        freqs = torch.tensor([math.exp(-math.log(10000.0) * i / half) for i in range(half)], dtype=torch.float32)
        args = t[:, None] * freqs[None, :]
        temb = torch.cat([torch.cos(args), torch.sin(args)], dim=1)
        temb = self.time_embedding["linear_2"](F.silu(self.time_embedding["linear_1"](temb)))
        if self.class_embedding is not None:
            temb = temb + self.class_embedding(label)
        h = self.conv_in(x)
        skips = [h]
        levels = len(self.cfg["channel_multipliers"])
        for level, d in enumerate(self.down):
            for r in d["res"]:
                h = r(h, temb)
                skips.append(h)
            if level < levels - 1:
                h = d["downsample"](F.pad(h, (0, 1, 0, 1)))
                skips.append(h)
        h = self.mid["res"][0](h, temb)
        if "attn" in self.mid:
            h = self.mid["attn"](h)
        h = self.mid["res"][1](h, temb)
        for level in reversed(range(levels)):
            u = self.up[str(level)]
            for r in u["res"]:
                h = r(torch.cat([h, skips.pop()], dim=1), temb)
            if level > 0:
                h = u["upsample"](F.interpolate(h, scale_factor=2, mode="nearest"))
        return self.conv_out(F.silu(self.conv_norm_out(h)))


def load_tf_weights(net, weights_dir):
    """TensorFlow layouts to PyTorch: conv [k,k,in,out] -> [out,in,k,k], dense [in,out] -> [out,in]."""
    state = net.state_dict()
    seen = set()
    for name in state:
        a = np.load(os.path.join(weights_dir, name + ".npy"))
        if a.ndim == 4:
            a = a.transpose(3, 2, 0, 1)
        elif a.ndim == 2 and not name.startswith("class_embedding"):
            a = a.T
        if tuple(a.shape) != tuple(state[name].shape):
            raise SystemExit("shape mismatch for %s: %s vs %s" % (name, a.shape, tuple(state[name].shape)))
        state[name] = torch.from_numpy(np.ascontiguousarray(a))
        seen.add(name + ".npy")
    extra = set(f for f in os.listdir(weights_dir) if f.endswith(".npy")) - seen
    if extra:
        raise SystemExit("TensorFlow parameters without a PyTorch counterpart: %s" % sorted(extra))
    net.load_state_dict(state)


# ----------------------------------------------------------------------------------------------- bundles
def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_bundle(d, model_json):
    """model.json with the sha256 of every other file (docs/bundles.md)."""
    sums = {}
    for root, _, files in os.walk(d):
        for f in files:
            rel = os.path.relpath(os.path.join(root, f), d).replace(os.sep, "/")
            if rel != "model.json":
                sums[rel] = sha256(os.path.join(root, f))
    model_json["sha256"] = dict(sorted(sums.items()))
    with open(os.path.join(d, "model.json"), "w") as f:
        json.dump(model_json, f, indent=2)


def export_both(net, example, input_names, out_dir, model_json, extra_files=()):
    """The exact calls of docs/bring-your-model.md: ONNX with a dynamic batch axis, TorchScript by tracing."""
    net.eval()
    for fmt in ("onnx", "torchscript"):
        d = os.path.join(out_dir, fmt)
        os.makedirs(d, exist_ok=True)
        for src in extra_files:
            shutil.copy(src, d)
        if fmt == "onnx":
            torch.onnx.export(net, example, os.path.join(d, "model.onnx"), input_names=input_names,
                              output_names=["output"], opset_version=OPSET,
                              dynamic_axes={n: {0: "batch"} for n in input_names + ["output"]})
        else:
            with torch.no_grad():
                torch.jit.trace(net, example).save(os.path.join(d, "model.pt"))
        write_bundle(d, dict(model_json))


# ----------------------------------------------------------------------------------------------- DDIM
def ddim_loop(net, sched, x, label, steps):
    """Deterministic DDIM (eta = 0) as diffusers documents it (Song et al. 2021, Eq. 12), every step's x saved:
    betas = linspace(beta_start, beta_end, N) (linear) or, for squaredcos_cap_v2, 1 - abar(i+1)/abar(i) capped at
    0.999 with abar(s) = cos((s/N + 0.008)/1.008 * pi/2)^2 (Nichol & Dhariwal 2021); alphas_cumprod = cumprod(1 - betas);
    timesteps (leading spacing) = (arange(steps) * (N // steps))[::-1] + steps_offset;
    prev_t = t - N // steps, a_prev = alphas_cumprod[prev_t] or, after the last step, 1 if set_alpha_to_one else
    alphas_cumprod[0]; the model output is eps, or v = sqrt(a_t) eps - sqrt(1 - a_t) x0 (Salimans & Ho 2022) with
    x0 = sqrt(a_t) x - sqrt(1 - a_t) v and eps = sqrt(a_t) v + sqrt(1 - a_t) x; else x0 = (x - sqrt(1 - a_t) eps) /
    sqrt(a_t); x0 clipped to [-r, r] with clip_sample (eps kept: diffusers' use_clipped_model_output=False);
    x_prev = sqrt(a_prev) x0 + sqrt(1 - a_prev) eps."""
    n_train = sched["num_train_timesteps"]
    assert sched.get("timestep_spacing", "leading") == "leading"
    if sched["beta_schedule"] == "linear":
        betas = torch.linspace(sched["beta_start"], sched["beta_end"], n_train, dtype=torch.float32)
    else:
        assert sched["beta_schedule"] == "squaredcos_cap_v2", sched["beta_schedule"]
        abar = lambda s: math.cos((s / n_train + 0.008) / 1.008 * math.pi / 2) ** 2
        betas = torch.tensor([min(1 - abar(i + 1) / abar(i), 0.999) for i in range(n_train)], dtype=torch.float32)
    v_pred = sched["prediction_type"] == "v_prediction"
    assert v_pred or sched["prediction_type"] == "epsilon", sched["prediction_type"]
    ac = torch.cumprod(1.0 - betas, dim=0)
    final = torch.tensor(1.0) if sched.get("set_alpha_to_one", True) else ac[0]
    ratio = n_train // steps
    timesteps = (np.arange(0, steps) * ratio).round()[::-1].astype(np.int64) + sched.get("steps_offset", 0)
    out = []
    with torch.no_grad():
        for t in timesteps:
            y = net(x, torch.full((x.shape[0],), float(t)), label)
            a_t = ac[t]
            prev = t - ratio
            a_prev = ac[prev] if prev >= 0 else final
            if v_pred:
                x0 = torch.sqrt(a_t) * x - torch.sqrt(1 - a_t) * y
                eps = torch.sqrt(a_t) * y + torch.sqrt(1 - a_t) * x
            else:
                eps = y
                x0 = (x - torch.sqrt(1 - a_t) * eps) / torch.sqrt(a_t)
            if sched.get("clip_sample", True):
                r = sched.get("clip_sample_range", 1.0)
                x0 = x0.clamp(-r, r)
            x = torch.sqrt(a_prev) * x0 + torch.sqrt(1 - a_prev) * eps
            out.append(x.numpy().copy())
    return np.stack(out), timesteps


def unet(weights_dir, config_json, out_dir):
    with open(config_json) as f:
        cfg = json.load(f)
    torch.manual_seed(0)
    net = UNet(cfg)
    load_tf_weights(net, weights_dir)
    net.eval()
    ref = os.path.join(out_dir, "reference")
    x = torch.from_numpy(np.load(os.path.join(ref, "x_call.npy")))
    t = torch.from_numpy(np.load(os.path.join(ref, "t_call.npy")))
    label = torch.from_numpy(np.load(os.path.join(ref, "label_call.npy")).astype(np.int64))
    with torch.no_grad():
        np.save(os.path.join(ref, "eps.npy"), net(x, t, label).numpy())
    sched_path = cfg["scheduler_config"]
    with open(sched_path) as f:
        sched = json.load(f)
    xT = torch.from_numpy(np.load(os.path.join(ref, "ddim_xT.npy")))
    ddim_label = torch.from_numpy(np.load(os.path.join(ref, "ddim_label.npy")).astype(np.int64))
    steps, timesteps = ddim_loop(net, sched, xT, ddim_label, cfg["ddim_steps"])
    np.save(os.path.join(ref, "ddim_steps.npy"), steps)
    np.save(os.path.join(ref, "ddim_timesteps.npy"), timesteps)
    model_json = {
        "format": "diffusion-xai-denoiser/1",
        "name": cfg["name"],
        "description": "The sample UNet's weights in PyTorch (torch_fixtures.py), exported by PyTorch " + torch.__version__,
        "sample_size": [cfg["height"], cfg["width"]],
        "channels": cfg["channels"],
        "intensity": cfg["intensity"],
        "class_names": cfg["class_names"],
        "condition_channels": cfg["condition_channels"],
        "layout": "NCHW",
        "authors": ["Diffusion XAI developers"],
        "license": "BSD-2-Clause",
        "training": {"source": "TensorFlow weights of the sample model", "pytorch_version": torch.__version__.split("a")[0]},
    }
    example = (x[:2], t[:2], label[:2])
    export_both(net, example, ["x", "t", "label"], out_dir, model_json, extra_files=[sched_path])


# ----------------------------------------------------------------------------------------------- classifier
class SmallCnn(nn.Module):
    """conv 1->8 (a channel count oneDNN pads), ReLU, conv 8->16 stride 2, ReLU, mean over space, linear 16->2."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.fc = nn.Linear(16, 2)

    def forward(self, x):
        h = F.relu(self.conv2(F.relu(self.conv1(x))))
        return self.fc(h.mean(dim=(2, 3)))


def classifier(out_dir):
    torch.manual_seed(7)
    net = SmallCnn().eval()
    scale, offset = 0.5, 0.5  # image = model * scale + offset
    g = torch.Generator().manual_seed(11)
    images = torch.rand(5, 1, 64, 64, generator=g)  # image intensity in [0, 1]
    ref = os.path.join(out_dir, "reference")
    os.makedirs(ref, exist_ok=True)
    np.save(os.path.join(ref, "images.npy"), images.numpy())
    xi = images.clone().requires_grad_(True)
    logits = net((xi - offset) / scale)
    np.save(os.path.join(ref, "logits.npy"), logits.detach().numpy())
    target = torch.tensor([0, 1, 1, 0, 1])
    for name, scores in (("logit", logits), ("logprob", torch.log_softmax(logits, dim=1))):
        if xi.grad is not None:
            xi.grad = None
        picked = scores.gather(1, target[:, None]).sum()
        picked.backward(retain_graph=True)
        np.save(os.path.join(ref, "grad_" + name + ".npy"), xi.grad.numpy().copy())
        np.save(os.path.join(ref, "value_" + name + ".npy"), scores.gather(1, target[:, None])[:, 0].detach().numpy())
    np.save(os.path.join(ref, "target.npy"), target.numpy().astype(np.int32))
    # bioimage.io per-image preprocessing (spec 0.5): zero_mean_unit_variance (x - mean) / (std + eps), population std;
    # scale_range (x - p_lo) / (p_hi - p_lo + eps) with numpy's (linear) percentiles; eps = 1e-6
    a = images.numpy().astype(np.float64)
    zmuv = np.stack([(v - v.mean()) / (v.std() + 1e-6) for v in a]).astype(np.float32)
    rng = np.stack([(v - np.percentile(v, 1)) / (np.percentile(v, 99.8) - np.percentile(v, 1) + 1e-6) for v in a])
    with torch.no_grad():
        np.save(os.path.join(ref, "logits_zmuv.npy"), net(torch.from_numpy(zmuv)).numpy())
        np.save(os.path.join(ref, "logits_range.npy"), net(torch.from_numpy(rng.astype(np.float32))).numpy())
    model_json = {
        "format": "diffusion-xai-classifier/1",
        "name": "small-cnn",
        "sample_size": [64, 64],
        "channels": 1,
        "intensity": {"scale": scale, "offset": offset},
        "class_names": ["healthy", "lesion"],
        "layout": "NCHW",
        "authors": ["Diffusion XAI developers"],
        "license": "BSD-2-Clause",
        "training": {"pytorch_version": torch.__version__.split("a")[0]},
    }
    export_both(net, (images[:2],), ["x"], out_dir, model_json)


# ----------------------------------------------------------------------------------------------- bad inputs
def newer_version(pt_in, pt_out):
    """TorchScript archives are zips whose <archive>/version record holds the file-format version."""
    with zipfile.ZipFile(pt_in) as zi, zipfile.ZipFile(pt_out, "w", zipfile.ZIP_STORED) as zo:
        for info in zi.infolist():
            data = zi.read(info.filename)
            if info.filename.endswith("/version") or info.filename.endswith("/.data/version"):
                data = b"99\n"
            zo.writestr(info, data)


def bad_inputs(out_dir):
    class Renamed(nn.Module):
        def __init__(self):
            super().__init__()
            self.c = nn.Conv2d(1, 1, 3, padding=1)

        def forward(self, image, timestep):
            return self.c(image) * timestep[:, None, None, None]

    os.makedirs(out_dir, exist_ok=True)
    torch.onnx.export(Renamed().eval(), (torch.zeros(1, 1, 8, 8), torch.ones(1)), os.path.join(out_dir, "model.onnx"),
                      input_names=["image", "timestep"], output_names=["output"], opset_version=OPSET,
                      dynamic_axes={"image": {0: "n"}, "timestep": {0: "n"}, "output": {0: "n"}})


def everything(weights_dir, config_json, out_dir):
    """All fixtures in one run (importing torch is the slow part): unet/, classifier/, bad/renamed/, bad/newer.pt."""
    unet(weights_dir, config_json, os.path.join(out_dir, "unet"))
    classifier(os.path.join(out_dir, "classifier"))
    bad_inputs(os.path.join(out_dir, "bad", "renamed"))
    newer_version(os.path.join(out_dir, "unet", "torchscript", "model.pt"), os.path.join(out_dir, "bad", "newer.pt"))


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "all":
        everything(*sys.argv[2:5])
    elif cmd == "unet":
        unet(*sys.argv[2:5])
    elif cmd == "classifier":
        classifier(sys.argv[2])
    elif cmd == "newer_version":
        newer_version(sys.argv[2], sys.argv[3])
    elif cmd == "bad_inputs":
        bad_inputs(sys.argv[2])
    else:
        raise SystemExit("unknown command " + cmd)
