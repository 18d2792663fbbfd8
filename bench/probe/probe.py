#!/usr/bin/env python3
"""Hostile-input probe of the `glass` CLI: bad configs, bad npy/CSV/known-pairs files, bad options, file-system faults,
concurrent runs, kill -9 then resume.

Each case runs the published/built `glass` binary in a scratch folder and records: the exit code, whether a .NET stack
trace appeared, whether the error was one clear line (`error: …` naming the expected thing), whether output was left
half-written (a run folder without COMPLETE after a refused config, an align --out after a failure, hidden .tmp-
folders), and for kill/resume cases whether metrics rows were lost or duplicated.

Usage:  /usr/bin/python3 bench/probe/probe.py [--glass PATH] [--work DIR] [--only SUBSTRING] [--jsonl OUT.jsonl]
Needs numpy (Debian python3). Prints one line per case and a summary; exits 1 when any case failed.
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TRACE = re.compile(r"^\s+at [\w.<>`]+[.(]|Unhandled exception|--- End of", re.M)


# ----------------------------------------------------------------------------------------------------------------------
# fixtures

def write_pair(d, n=60, dim=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, dim))
    q, _ = np.linalg.qr(rng.normal(size=(dim, dim)))
    y = x @ q
    np.save(os.path.join(d, "x.npy"), x)
    np.save(os.path.join(d, "y.npy"), y)
    with open(os.path.join(d, "labels.txt"), "w") as f:
        f.write("\n".join(str(i % 3) for i in range(n)) + "\n")
    np.savetxt(os.path.join(d, "x.csv"), x, delimiter=",")


MANIFOLD = """exp_name: probe_s2
log: {out_dir: OUT, save_every: 2}
data: {n: 32, noise_deg: 2.0, rotation: true}
model:
  manifold: {K: 8, chart_radius_deg: 20.0, gate_mode: tie, gate_c_per_sqrtk_deg: 45.0, init_u_scale: 0.2}
ot: {use_banded: true, band_eps: 1.0e-6, gamma: 0.05, max_iter: 200, tol: 1.0e-6}
train: {lr: 1.0e-3, steps: STEPS, slices: 2, anneal_gamma: true, gamma_decay: 0.98, gamma_min: 0.01, seed: 0}
"""

GRAPH = """exp_name: probe_sbm
log: {out_dir: OUT, save_every: 2}
data: {n: 60, blocks: 3, p_in: 0.15, p_out: 0.02, rewire_prob: 0.03, planted_perm: true}
model:
  graph: {tau: 0.5, cheby_degree: 8, feat_dim: 8}
ot: {use_banded: true, band_eps: 1.0e-6, gamma: 0.10, max_iter: 200, tol: 1.0e-6}
train: {lr: 1.0e-3, steps: STEPS, slices: 2, seed: 0}
"""

GW = """exp_name: probe_gw
log: {out_dir: OUT, save_every: 2}
data: {x: x.npy, y: y.npy, labels_x: labels.txt, labels_y: labels.txt, paired: true}
model:
  gw: {depth: 2, hidden: 8, embed_dim: 3}
train: {init: INIT, steps: STEPS, eval_every: 2, seed: 0}
"""


def set_key(text, key, value):
    """Replace `key: old` inside a flow mapping or block line by `key: value` (first occurrence)."""
    pat = re.compile(r"(\b" + re.escape(key) + r": )([^,}\n]*)")
    new, k = pat.subn(lambda m: m.group(1) + value, text, count=1)
    if k == 0:
        raise KeyError(key)
    return new


# ----------------------------------------------------------------------------------------------------------------------
# the runner

class Probe:
    def __init__(self, glass, work):
        self.glass = glass
        self.work = work
        self.results = []

    def run(self, args, cwd, timeout=240, env=None):
        e = dict(os.environ, DOTNET_NOLOGO="1")
        if env:
            e.update(env)
        try:
            p = subprocess.run([self.glass] + args, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=e)
            return p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired as t:
            return 124, t.stdout or "", (t.stderr or "") + "\n(timeout)"

    def case_dir(self, name):
        d = os.path.join(self.work, re.sub(r"[^\w.-]", "_", name))
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        write_pair(d)
        return d

    def record(self, name, group, code, out, err, expect, fragments=(), half=False, lost=False, note=""):
        trace = bool(TRACE.search(out + err))
        lines = [l for l in err.splitlines() if l.strip()]
        err_lines = [l for l in lines if l.startswith("error:")]
        crash = code not in (0, 2) if expect != "kill" else False
        if code == 1 and "error: unexpected" in err:
            crash = True
        unclear = False
        if code == 2:
            msg = err_lines[0] if err_lines else ""
            unclear = (len(err_lines) != 1 or "(Parameter '" in msg or not msg
                       or any(f not in msg for f in fragments))
        wrong = (expect == "ok" and code != 0) or (expect == "err" and code != 2)
        r = dict(case=name, group=group, code=code, expect=expect, stack_trace=trace, crash=crash, unclear=unclear,
                 half_written=half, lost_rows=lost, wrong_exit=wrong, note=note,
                 message=(err_lines[0] if err_lines else (lines[-1] if lines else ""))[:300])
        r["ok"] = not (trace or crash or unclear or half or lost or wrong)
        self.results.append(r)
        flag = "ok  " if r["ok"] else "FAIL"
        print(f"{flag} {group:8} {name:46} exit {code:3}  {r['message'][:150]}", flush=True)
        return r


def run_dirs(parent):
    if not os.path.isdir(parent):
        return []
    found = []
    for root, dirs, files in os.walk(parent):
        if "run.json" in files or "config.json" in files and "metrics.csv" in files:
            found.append(root)
            dirs[:] = []
    return found


def leftovers(parent):
    """Run folders without COMPLETE, hidden .tmp- folders: what a refused or failed command must not leave."""
    bad = []
    if not os.path.isdir(parent):
        return bad
    for root, dirs, files in os.walk(parent):
        for d in dirs:
            if ".tmp-" in d:
                bad.append(os.path.join(root, d))
    for r in run_dirs(parent):
        if not os.path.exists(os.path.join(r, "COMPLETE")):
            bad.append(r)
    return bad


# ----------------------------------------------------------------------------------------------------------------------
# case groups

def config_cases(p):
    """`glass run` with one bad value each: exit 2, one line naming the key, no run folder."""
    M = [  # (template, key, value, fragment)
        ("m", "n", "-1", "data.n"), ("m", "n", "0", "data.n"), ("m", "n", "1", "data.n"), ("m", "n", "1000000000", "data.n"),
        ("m", "n", "abc", "data.n"), ("m", "n", "2.5", "data.n"), ("m", "n", "1e8", "data.n"),
        ("m", "gamma", "0", "gamma"), ("m", "gamma", "-1", "gamma"), ("m", "gamma", "1e308", "gamma"), ("m", "gamma", ".nan", "gamma"),
        ("m", "gamma", ".inf", "gamma"), ("m", "gamma", "x", "gamma"), ("m", "band_eps", "0", "band_eps"), ("m", "band_eps", "1", "band_eps"),
        ("m", "band_eps", "2", "band_eps"), ("m", "max_iter", "0", "max_iter"), ("m", "max_iter", "-5", "max_iter"),
        ("m", "max_iter", "100000000000", "max_iter"), ("m", "tol", "-1", "tol"), ("m", "K", "0", "K"), ("m", "K", "100000000", "K"),
        ("m", "steps", "0", "steps"), ("m", "steps", "-1", "steps"), ("m", "lr", "0", "lr"), ("m", "lr", "-1", "lr"),
        ("m", "lr", "1e308", "lr"), ("m", "slices", "0", "slices"), ("m", "slices", "1000000000", "slices"),
        ("m", "save_every", "0", None), ("m", "seed", "-1", "seed"), ("m", "gate_mode", "bogus", "gate_mode"),
        ("m", "chart_radius_deg", "0", "chart_radius_deg"), ("m", "chart_radius_deg", "1000", "chart_radius_deg"),
        ("m", "noise_deg", "-3", "noise_deg"), ("m", "gamma_decay", "0", "gamma_decay"), ("m", "gamma_min", "0", "gamma_min"),
        ("g", "n", "1", "data.n"), ("g", "n", "10000000", "data.n"), ("g", "p_in", "2", "p_in"), ("g", "blocks", "0", "blocks"),
        ("g", "tau", "0", "tau"), ("g", "cheby_degree", "0", "cheby_degree"), ("g", "feat_dim", "0", "feat_dim"),
        ("g", "feat_dim", "1000000000", "feat_dim"), ("g", "rewire_prob", "1.5", "rewire_prob"),
        ("w", "hidden", "0", "hidden"), ("w", "hidden", "1000000000", "hidden"), ("w", "depth", "100000000", "depth"),
        ("w", "embed_dim", "1000000000", "embed_dim"), ("w", "steps", "0", "steps"),
        ("w", "seed", "2147483647", None), ("w", "INIT", "bogus", "init"),
    ]
    GWTRAIN = [  # keys added to train: / model.gw:
        ("train", "lr", "1e308", "lr"), ("train", "epsilon_start", "1e308", "epsilon_start"), ("train", "epsilon_min", "1e308", "epsilon_min"),
        ("train", "epsilon_decay", "0", "epsilon_decay"), ("train", "epsilon_decay", "2", "epsilon_decay"), ("train", "batch_size", "1", "batch_size"),
        ("train", "batch_size", "1000000000", None), ("train", "clip_norm", "-1", "clip_norm"), ("train", "restarts", "3", "restarts"),
        ("gw", "rank_delta", "1e308", "rank_delta"), ("gw", "spectral_k", "1000000000", None), ("gw", "spectral_weight: 0.1, spectral_k", "1000000000", None), ("gw", "spectral_weight", "1e308", "spectral_weight"),
        ("gw", "sinkhorn_tol", "1e308", "sinkhorn_tol"), ("gw", "sinkhorn_max_iter", "0", "sinkhorn_max_iter"),
        ("gw", "solver", "{epsilons: []}", None), ("gw", "solver", "{epsilons: [0]}", "epsilons"), ("gw", "solver", "{epsilons: [1e308]}", None),
        ("gw", "solver", "{discrepancy: 0.5}", "discrepancy"), ("gw", "solver", "{coarse_size: 1}", "coarse_size"),
        ("gw", "solver", "{max_iter: 0}", "max_iter"), ("gw", "activation", "sigmoid", "activation"), ("gw", "loss", "l1", "loss"),
        ("gw", "distance", "{metric: manhattan}", "metric"), ("gw", "distance", "{k: 0}", "k"),
    ]
    for tpl, key, val, frag in M:
        d = p.case_dir(f"cfg_{tpl}_{key}_{val}")
        base = {"m": MANIFOLD, "g": GRAPH, "w": GW}[tpl].replace("OUT", "runs").replace("STEPS", "2").replace("INIT", "solver")
        if key == "INIT":
            base = set_key(base, "init", val)
        else:
            base = set_key(base, key, val)
        open(os.path.join(d, "c.yaml"), "w").write(base)
        code, out, err = p.run(["run", "c.yaml", "--device", "cpu", "--quiet", "--no-plots"], d)
        expect = "any" if frag is None else "err"
        p.record(f"{tpl}.{key}={val}", "config", code, out, err, expect, [frag] if frag else (), half=bool(leftovers(os.path.join(d, "runs"))))
    for sec, key, val, frag in GWTRAIN:
        d = p.case_dir(f"cfg_gw_{sec}_{key}_{val}")
        init = "none" if key in ("restarts",) or (sec == "train" and key.startswith("epsilon")) or key in ("rank_delta", "spectral_k", "spectral_weight") else "solver"
        if key == "restarts":
            init = "solver"
        base = GW.replace("OUT", "runs").replace("STEPS", "2").replace("INIT", init)
        if sec == "train":
            base = base.replace("seed: 0}", f"seed: 0, {key}: {val}}}")
        else:
            base = base.replace("embed_dim: 3}", f"embed_dim: 3, {key}: {val}}}")
        if key in ("rank_delta",):
            base = base.replace("embed_dim: 3,", "embed_dim: 3, loss: rank,")
        open(os.path.join(d, "c.yaml"), "w").write(base)
        code, out, err = p.run(["run", "c.yaml", "--device", "cpu", "--quiet", "--no-plots"], d)
        expect = "any" if frag is None else "err"
        p.record(f"gw.{sec}.{key}={val}", "config", code, out, err, expect, [frag] if frag else (), half=bool(leftovers(os.path.join(d, "runs"))))


def yaml_file_cases(p):
    files = {
        "empty": "", "only_comment": "# nothing\n", "binary": "\x00\x01\x02\xff garbage",
        "syntax": "exp_name: [unclosed\n", "tabs": "exp_name: a\n\tdata: {}\n", "scalar": "42\n", "list": "- a\n- b\n",
        "deep": "a: " + "[" * 70000 + "]" * 70000 + "\n", "unknown_key": MANIFOLD.replace("exp_name:", "exp_nmae:"),
        "no_model": re.sub(r"model:\n  manifold: \{[^}]*\}\n", "", MANIFOLD), "two_models": MANIFOLD.replace("model:\n", "model:\n  graph: {tau: 0.5}\n"),
        "dup_key": MANIFOLD + "exp_name: again\n", "exp_name_slash": MANIFOLD.replace("exp_name: probe_s2", "exp_name: ../../evil"),
        "exp_name_empty": MANIFOLD.replace("exp_name: probe_s2", "exp_name: ''"), "anchors_bomb": "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n",
        "utf16": None, "huge_number": MANIFOLD.replace("n: 32", "n: " + "9" * 400),
    }
    for name, text in files.items():
        d = p.case_dir(f"yaml_{name}")
        path = os.path.join(d, "c.yaml")
        if text is None:
            open(path, "wb").write(MANIFOLD.replace("OUT", "runs").replace("STEPS", "2").encode("utf-16"))
        else:
            open(path, "w").write(text.replace("OUT", "runs").replace("STEPS", "2"))
        code, out, err = p.run(["run", "c.yaml", "--device", "cpu", "--quiet", "--no-plots"], d)
        p.record(f"yaml:{name}", "config", code, out, err, "any" if name in ("utf16",) else "err", ["c.yaml"],
                 half=bool(leftovers(os.path.join(d, "runs"))) or os.path.exists(os.path.join(d, "..", "evil")))


def npy_bytes(header_dict_text, payload=b"", version=(1, 0), magic=b"\x93NUMPY", hlen=None):
    h = header_dict_text.encode("latin1")
    pad = 64 - ((10 + len(h) + 1) % 64)
    h = h + b" " * pad + b"\n"
    n = len(h) if hlen is None else hlen
    return magic + bytes(version) + n.to_bytes(2, "little") + h + payload


def input_file_cases(p):
    """Bad point-set files through `glass align` (generic readers) and a gw run config."""
    good = np.random.default_rng(1).normal(size=(60, 3))
    raw = good.astype("<f8").tobytes()
    cases = {
        "npy_truncated": lambda d: open(d, "wb").write(open_bytes_npy(good)[:100]),
        "npy_bad_magic": lambda d: open(d, "wb").write(b"NOTNPY" + open_bytes_npy(good)[6:]),
        "npy_huge_shape": lambda d: open(d, "wb").write(npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000, 10), }", raw)),
        "npy_negative_shape": lambda d: open(d, "wb").write(npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (100, -10), }", raw)),
        "npy_huge_header_len": lambda d: open(d, "wb").write(npy_bytes("{'descr': '<f8', 'fortran_order': False, 'shape': (60, 3), }", raw, hlen=65000)),
        "npy_v2_huge_header": lambda d: open(d, "wb").write(b"\x93NUMPY\x02\x00" + (2 ** 31 - 1).to_bytes(4, "little") + b"{}"),
        "npy_1d": lambda d: np.save(d, good[:, 0]),
        "npy_3d": lambda d: np.save(d, good.reshape(60, 3, 1)),
        "npy_int": lambda d: np.save(d, (good * 10).astype(np.int32)),
        "npy_complex": lambda d: np.save(d, good.astype(np.complex128)),
        "npy_object": lambda d: np.save(d, np.array([[1, "a"], [2, "b"]], dtype=object), allow_pickle=True),
        "npy_nan": lambda d: np.save(d, np.where(np.arange(180).reshape(60, 3) == 7, np.nan, good)),
        "npy_inf": lambda d: np.save(d, np.where(np.arange(180).reshape(60, 3) == 7, np.inf, good)),
        "npy_fortran": lambda d: np.save(d, np.asfortranarray(good)),
        "npy_bigendian": lambda d: np.save(d, good.astype(">f8")),
        "npy_header_garbage": lambda d: open(d, "wb").write(npy_bytes("{'descr': '<f8', 'shape': ((((, }", raw)),
        "npy_extra_bytes": lambda d: open(d, "wb").write(open_bytes_npy(good) + b"\x00" * 17),
        "empty_file": lambda d: open(d, "wb").write(b""),
        "csv_text": lambda d: open(d, "w").write("a,b,c\n1,2,3\nx,y,z\n" * 20),
        "csv_ragged": lambda d: open(d, "w").write("\n".join(",".join(["1.5"] * (3 + i % 2)) for i in range(60))),
        "csv_ambiguous_decimal_comma": lambda d: open(d, "w").write("\n".join("1,05,2,50,-0,5,3,25" for _ in range(60))),
        "csv_nan": lambda d: open(d, "w").write("\n".join("1.0,nan,2.0" for _ in range(60))),
        "csv_bom_semicolon_ok": lambda d: open(d, "w", encoding="utf-8-sig").write("\n".join(f"{a:.3f};{b:.3f};{c:.3f}".replace(".", ",") for a, b, c in good)),
        "csv_huge_number": lambda d: open(d, "w").write("\n".join("1e999,2,3" for _ in range(60))),
        "csv_blank_lines_ok": lambda d: open(d, "w").write("\n\n".join(f"{a},{b},{c}" for a, b, c in good) + "\n\n"),
        "a_directory": lambda d: os.makedirs(d),
        "missing": lambda d: None,
        "binary_as_csv": lambda d: open(d, "wb").write(os.urandom(4096)),
    }
    for name, make in cases.items():
        d = p.case_dir(f"in_{name}")
        ext = ".csv" if name.startswith(("csv", "binary", "empty")) else ".npy"
        bad = os.path.join(d, "bad" + ext)
        make(bad)
        expect = "ok" if name.endswith("_ok") or name == "npy_fortran" else "any" if name in ("npy_extra_bytes", "npy_1d") else "err"
        code, out, err = p.run(["align", "--x", bad, "--y", "y.npy", "--device", "cpu", "--steps", "2", "--out", "o", "--no-plots"], d)
        half = (code != 0 and os.path.exists(os.path.join(d, "o"))) or bool(leftovers(d))
        p.record(f"align --x {name}", "input", code, out, err, expect, ["bad" + ext] if expect == "err" else (), half=half)
    # the same readers through a gw run config (three representative files)
    for name in ("npy_huge_shape", "csv_ragged", "npy_nan"):
        d = p.case_dir(f"in_run_{name}")
        ext = ".csv" if name.startswith("csv") else ".npy"
        cases[name](os.path.join(d, "bad" + ext))
        open(os.path.join(d, "c.yaml"), "w").write(GW.replace("OUT", "runs").replace("STEPS", "2").replace("INIT", "solver").replace("x: x.npy", "x: bad" + ext))
        code, out, err = p.run(["run", "c.yaml", "--device", "cpu", "--quiet", "--no-plots"], d)
        p.record(f"run data.x {name}", "input", code, out, err, "err", ["bad" + ext], half=bool(leftovers(os.path.join(d, "runs"))))
    # labels
    for name, text in {"labels_short": "0\n1\n", "labels_text": "a\nb\n" * 30, "labels_float": "0.5\n" * 60, "labels_huge": "99999999999999999999\n" * 60}.items():
        d = p.case_dir(f"in_{name}")
        open(os.path.join(d, "l.txt"), "w").write(text)
        code, out, err = p.run(["align", "--x", "x.npy", "--y", "y.npy", "--labels-x", "l.txt", "--labels-y", "labels.txt", "--device", "cpu", "--steps", "2", "--out", "o", "--no-plots"], d)
        p.record(f"align {name}", "input", code, out, err, "err", ["l.txt"], half=(code != 0 and os.path.exists(os.path.join(d, "o"))))


def open_bytes_npy(a):
    import io
    b = io.BytesIO()
    np.save(b, a)
    return b.getvalue()


def known_pairs_cases(p):
    files = {
        "malformed": "0,1\nfoo bar\n", "out_of_range": "0,1\n5,999\n", "negative": "-1,2\n", "duplicate_pair": "0,1\n0,1\n",
        "row_twice": "0,1\n0,2\n", "empty": "", "header_only": "x,y\n", "float": "0.5,1\n", "huge": "99999999999999999999,1\n",
        "three_fields": "0,1,2\n", "binary": None, "ok_with_comments": "# pairs\nx,y\n0 0\n1,1\n2,2\n",
    }
    for name, text in files.items():
        d = p.case_dir(f"kp_{name}")
        path = os.path.join(d, "kp.txt")
        if text is None:
            open(path, "wb").write(os.urandom(512))
        else:
            open(path, "w").write(text)
        code, out, err = p.run(["align", "--x", "x.npy", "--y", "y.npy", "--init", "none", "--known-pairs", "kp.txt", "--device", "cpu",
                                "--steps", "2", "--out", "o", "--no-plots"], d)
        expect = "ok" if name.startswith("ok") else "err"
        p.record(f"known-pairs {name}", "input", code, out, err, expect, ["kp.txt"] if expect == "err" else (),
                 half=(code != 0 and os.path.exists(os.path.join(d, "o"))) or bool(leftovers(d)))


def option_cases(p):
    A = ["align", "--x", "x.npy", "--y", "y.npy", "--device", "cpu", "--no-plots", "--out", "o"]
    cases = [
        (["--bogus"], "--bogus"), (["run"], None), (["align"], "--x"), (A + ["--steps", "-1"], "steps"), (A + ["--steps", "abc"], "--steps"),
        (A + ["--seed", "-1"], "seed"), (["align", "--x", "x.npy", "--y", "y.npy", "--device", "bogus", "--out", "o"], "bogus"),
        (A + ["--top-k", "0"], "--top-k"), (A + ["--top-k", "-1"], "--top-k"), (A + ["--init", "none", "--restarts", "0"], "restarts"),
        (A + ["--init", "none", "--restart-steps", "-1"], "restart"), (A + ["--init", "none", "--selection", "bogus"], "selection"),
        (A + ["--init", "bogus"], "init"), (A + ["--init", "none", "--known-pairs", "kp.txt", "--supervised-weight", "-1"], "supervised"),
        (A + ["--init", "none", "--known-pairs", "kp.txt", "--supervised-weight", "0"], "supervised"),
        (A + ["--init", "none", "--known-pairs", "kp.txt", "--supervised-weight", "nan"], "supervised"),
        (A + ["--init", "none", "--fused-x", "x.npy", "--fused-y", "y.npy", "--fused-weight", "inf"], "fused"),
        (A + ["--init", "none", "--fused-x", "x.npy"], "--fused-y"), (A + ["--supervised-weight", "1"], "supervised"),
        (A + ["--config", "missing.yaml"], "missing.yaml"), (A + ["--config", "bad.yaml"], "bad.yaml"), (A + ["--config", "unknown.yaml"], "unknown.yaml"),
        (A + ["--config", "bigeps.yaml"], "epsilon"), (A + ["--config", "hidden0.yaml"], "hidden"),
        (["align", "--model", "nomodel", "--x", "x.npy", "--y", "y.npy", "--out", "o"], "nomodel"),
        (["align", "--model", "fakemodel", "--x", "x.npy", "--y", "y.npy", "--out", "o"], "fakemodel"),
        (["align", "--x", "x.npy", "--y", "y.npy", "--out", ""], "--out"), (A + ["--steps", "99999999999"], "--steps"),
        (["bench", "sinkhorn", "--n", "-1", "--device", "cpu"], "--n"), (["bench", "sinkhorn", "--gamma", "0", "--device", "cpu", "--n", "16"], "gamma"),
        (["bench", "sinkhorn", "--repeats", "0", "--device", "cpu", "--n", "16"], "repeats"), (["bench", "gw", "--x", "x.npy", "--y", "y.npy", "--epsilon", "0"], "--epsilon"),
        (["bench", "scaling", "--sizes", "abc"], "--sizes"), (["bench", "inductive", "--n", "1"], "--n"), (["bench", "mlp", "--repeats", "0"], "--repeats"),
        (["bench", "gw", "--x", "missing.npy", "--y", "y.npy", "--epsilon", "0.1"], "missing.npy"),
        (["bench", "sinkhorn-grad", "--preconditioner", "bogus", "--n", "16"], "preconditioner"),
        (["bench", "align-suite", "--cases", "nope", "--snare", "nowhere"], "nope"), (["bench", "align-suite", "--seeds", "a,b"], "--seeds"),
        (["compile-runs", "--logdir", "nowhere"], "nowhere"), (["plot", "nowhere"], "nowhere"), (["plot-sweep", "--out", "p.png"], "--x"),
        (["sweep", "c.yaml", "--seeds", "abc"], "--seeds"), (["sweep"], None), (["devices", "extra"], "extra"),
        (["run", "--resume", "nowhere"], "nowhere"), (["run", "--resume", "x.npy"], "x.npy"), (["run", "c.yaml", "--resume", "x"], None),
        (["run", "c.yaml", "--steps", "0"], "steps"), (["run", "c.yaml", "--seed", "-5"], "seed"), (["run", "c.yaml", "--device", "cuda"], "cuda"),
    ]
    for i, (args, frag) in enumerate(cases):
        d = p.case_dir(f"opt_{i:02d}")
        open(os.path.join(d, "kp.txt"), "w").write("0,0\n1,1\n")
        open(os.path.join(d, "bad.yaml"), "w").write("model: [\n")
        open(os.path.join(d, "unknown.yaml"), "w").write("model:\n  gw: {hiden: 3}\n")
        open(os.path.join(d, "bigeps.yaml"), "w").write("model:\n  gw: {depth: 2}\ntrain: {init: none, epsilon_start: 1e308, epsilon_min: 1e308}\n")
        open(os.path.join(d, "hidden0.yaml"), "w").write("model:\n  gw: {hidden: 0}\n")
        open(os.path.join(d, "c.yaml"), "w").write(MANIFOLD.replace("OUT", "runs").replace("STEPS", "2"))
        os.makedirs(os.path.join(d, "fakemodel", "model"))
        open(os.path.join(d, "fakemodel", "model", "gw_model.json"), "w").write("{\"not\": \"a model\"}")
        code, out, err = p.run(args + (["--quiet", "--no-plots"] if args[:1] == ["run"] and len(args) > 1 and args[1] == "c.yaml" else []), d, timeout=120)
        p.record(" ".join(args[:1] + [a for a in args[1:] if a.startswith("--") or a in ("sinkhorn", "gw", "scaling", "inductive", "mlp")][:4])[:40] + f" #{i}",
                 "option", code, out, err, "err", [frag] if frag else (), half=(code != 0 and os.path.exists(os.path.join(d, "o"))) or bool(leftovers(d)))


def fs_cases(p):
    cfg = MANIFOLD.replace("STEPS", "2")
    items = []
    d = p.case_dir("fs_out_file"); open(os.path.join(d, "f"), "w").write("x")
    items.append(("align --out existing file", d, ["align", "--x", "x.npy", "--y", "y.npy", "--device", "cpu", "--steps", "2", "--out", "f"], "f"))
    d = p.case_dir("fs_out_under_file"); open(os.path.join(d, "f"), "w").write("x")
    items.append(("align --out under a file", d, ["align", "--x", "x.npy", "--y", "y.npy", "--device", "cpu", "--steps", "2", "--out", "f/o"], "f"))
    d = p.case_dir("fs_out_sys")
    items.append(("align --out in read-only /sys", d, ["align", "--x", "x.npy", "--y", "y.npy", "--device", "cpu", "--steps", "2", "--out", "/sys/glass-probe"], "/sys"))
    d = p.case_dir("fs_out_nonempty"); os.makedirs(os.path.join(d, "o")); open(os.path.join(d, "o", "keep"), "w").write("x")
    items.append(("align --out non-empty", d, ["align", "--x", "x.npy", "--y", "y.npy", "--device", "cpu", "--steps", "2", "--out", "o"], "o"))
    d = p.case_dir("fs_logdir_file"); open(os.path.join(d, "runs"), "w").write("x"); open(os.path.join(d, "c.yaml"), "w").write(cfg.replace("OUT", "runs"))
    items.append(("run log.out_dir is a file", d, ["run", "c.yaml", "--device", "cpu", "--quiet"], "runs"))
    d = p.case_dir("fs_logdir_sys"); open(os.path.join(d, "c.yaml"), "w").write(cfg.replace("OUT", "/sys/glass-probe"))
    items.append(("run log.out_dir read-only", d, ["run", "c.yaml", "--device", "cpu", "--quiet"], "/sys"))
    d = p.case_dir("fs_run_out_under_file"); open(os.path.join(d, "f"), "w").write("x"); open(os.path.join(d, "c.yaml"), "w").write(cfg.replace("OUT", "runs"))
    items.append(("run --out under a file", d, ["run", "c.yaml", "--device", "cpu", "--quiet", "--out", "f/runs"], "f"))
    d = p.case_dir("fs_config_dir"); os.makedirs(os.path.join(d, "c.yaml"))
    items.append(("run CONFIG is a directory", d, ["run", "c.yaml", "--device", "cpu"], "c.yaml"))
    d = p.case_dir("fs_compile_out_dir"); os.makedirs(os.path.join(d, "runs")); os.makedirs(os.path.join(d, "sum"))
    items.append(("compile-runs --out a directory", d, ["compile-runs", "--logdir", "runs", "--out", "sum"], "sum"))
    d = p.case_dir("fs_compile_dev_full"); os.makedirs(os.path.join(d, "runs"))
    items.append(("compile-runs --out /dev/full (disk full)", d, ["compile-runs", "--logdir", "runs", "--out", "/dev/full"], "/dev/full"))
    d = p.case_dir("fs_compile_out_sys"); os.makedirs(os.path.join(d, "runs"))
    items.append(("compile-runs --out read-only", d, ["compile-runs", "--logdir", "runs", "--out", "/sys/glass.csv"], "/sys"))
    d = p.case_dir("fs_plot_out_file"); open(os.path.join(d, "f"), "w").write("x"); os.makedirs(os.path.join(d, "r"))
    items.append(("plot RUN --out under a file", d, ["plot", "r", "--out", "f/p"], None))
    d = p.case_dir("fs_plot_sweep_out_sys"); os.makedirs(os.path.join(d, "runs"))
    items.append(("plot-sweep --out read-only", d, ["plot-sweep", "--logdir", "runs", "--x", "n", "--out", "/sys/p.png"], None))
    d = p.case_dir("fs_long_name")
    items.append(("align --out name > 255 chars", d, ["align", "--x", "x.npy", "--y", "y.npy", "--device", "cpu", "--steps", "2", "--out", "o" * 300], None))
    d = p.case_dir("fs_x_devzero")
    items.append(("align --x /dev/zero", d, ["align", "--x", "/dev/zero", "--y", "y.npy", "--device", "cpu", "--steps", "2", "--out", "o"], "/dev/zero"))
    d = p.case_dir("fs_x_fifo_like"); os.symlink("/proc/self/status", os.path.join(d, "s.csv"))
    items.append(("align --x a /proc file", d, ["align", "--x", "s.csv", "--y", "y.npy", "--device", "cpu", "--steps", "2", "--out", "o"], "s.csv"))
    d = p.case_dir("fs_resume_damaged"); os.makedirs(os.path.join(d, "r")); open(os.path.join(d, "r", "config.json"), "w").write("{ broken")
    items.append(("run --resume damaged config.json", d, ["run", "--resume", "r", "--device", "cpu"], "config.json"))
    for name, d, args, frag in items:
        if args[0] == "compile-runs":
            open(os.path.join(d, "c.yaml"), "w").write(cfg.replace("OUT", "runs"))
            p.run(["run", "c.yaml", "--device", "cpu", "--quiet", "--no-plots"], d)
        code, out, err = p.run(args, d, timeout=120)
        half = bool(leftovers(d))
        if "align" in args and code != 0:
            half = half or (os.path.isdir(os.path.join(d, "o")) and not os.listdir(os.path.join(d, "o")) is False and name != "align --out non-empty")
        p.record(name, "fs", code, out, err, "err", [frag] if frag else (), half=half)
    # a damaged run among good ones: compile-runs skips it with a warning and compiles the rest
    d = p.case_dir("fs_compile_damaged")
    open(os.path.join(d, "c.yaml"), "w").write(cfg.replace("OUT", "runs"))
    p.run(["run", "c.yaml", "--device", "cpu", "--quiet", "--no-plots"], d)
    p.run(["run", "c.yaml", "--device", "cpu", "--quiet", "--no-plots", "--seed", "1"], d)
    rs = run_dirs(os.path.join(d, "runs"))
    if rs:
        open(os.path.join(rs[0], "summary.json"), "w").write("{ not json")
    code, out, err = p.run(["compile-runs", "--logdir", "runs"], d)
    rows = open(os.path.join(d, "runs", "summary.csv")).read().splitlines() if os.path.exists(os.path.join(d, "runs", "summary.csv")) else []
    p.record("compile-runs with one damaged run", "fs", code, out, err, "ok", lost=len(rows) != 2, note=f"{len(rows)} csv lines")


def metrics_ok(run, steps):
    path = os.path.join(run, "metrics.csv")
    if not os.path.exists(path):
        return False, "no metrics.csv"
    rows = open(path).read().splitlines()[1:]
    got = [int(float(r.split(",")[0])) for r in rows if r]
    return got == list(range(1, steps + 1)), f"steps {got[:3]}…{got[-3:]} ({len(got)} rows)"


def concurrency_cases(p):
    cfg = MANIFOLD.replace("OUT", "runs")
    # two resumes of one folder at once
    for rep in range(3):
        d = p.case_dir(f"conc_resume_{rep}")
        open(os.path.join(d, "c.yaml"), "w").write(cfg.replace("STEPS", "60"))
        a = subprocess.Popen([p.glass, "run", "c.yaml", "--device", "cpu", "--quiet", "--no-plots"], cwd=d, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        run = None
        for _ in range(600):
            rs = run_dirs(os.path.join(d, "runs"))
            if rs and os.path.exists(os.path.join(rs[0], "checkpoints", "latest")):
                run = rs[0]
                break
            time.sleep(0.05)
        a.send_signal(signal.SIGKILL); a.wait()
        if run is None:
            p.record(f"concurrent resume #{rep}", "concur", 1, "", "no run folder appeared", "ok", note="setup failed")
            continue
        b = subprocess.Popen([p.glass, "run", "--resume", run, "--device", "cpu", "--quiet", "--no-plots"], cwd=d, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        c = subprocess.Popen([p.glass, "run", "--resume", run, "--device", "cpu", "--quiet", "--no-plots"], cwd=d, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ob, eb = b.communicate(); oc, ec = c.communicate()
        codes = sorted([b.returncode, c.returncode])
        ok, note = metrics_ok(run, 60)
        complete = os.path.exists(os.path.join(run, "COMPLETE"))
        # one must win (0) and the other be refused (2) naming the folder — or both 0 if the second started after the first finished
        second_err = eb if b.returncode != 0 else ec
        code = 2 if codes == [0, 2] else (0 if codes == [0, 0] else max(codes))
        p.record(f"concurrent resume #{rep} codes {codes}", "concur", code, ob + oc, second_err if code == 2 else eb + ec, "any",
                 [os.path.basename(run)] if code == 2 else (), lost=not (ok and complete), note=note)
    # two aligns into the same --out at once
    d = p.case_dir("conc_align")
    args = [p.glass, "align", "--x", "x.npy", "--y", "y.npy", "--device", "cpu", "--steps", "20", "--out", "o", "--no-plots"]
    a = subprocess.Popen(args, cwd=d, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    b = subprocess.Popen(args, cwd=d, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    oa, ea = a.communicate(); ob, eb = b.communicate()
    codes = sorted([a.returncode, b.returncode])
    whole = os.path.exists(os.path.join(d, "o", "metrics.json")) and os.path.exists(os.path.join(d, "o", "matches.csv"))
    loser = ea if a.returncode != 0 else eb
    p.record(f"two aligns, one --out, codes {codes}", "concur", 2 if codes == [0, 2] else max(codes), oa + ob, loser, "any", ["o"] if codes == [0, 2] else (),
             half=not whole or bool(leftovers(d)))
    # two sweeps of the same config at once: each run folder once and complete
    d = p.case_dir("conc_sweep")
    open(os.path.join(d, "c.yaml"), "w").write(cfg.replace("STEPS", "8"))
    args = [p.glass, "sweep", "c.yaml", "--seeds", "0,1", "--device", "cpu", "--quiet", "--no-plots"]
    a = subprocess.Popen(args, cwd=d, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    b = subprocess.Popen(args, cwd=d, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    oa, ea = a.communicate(); ob, eb = b.communicate()
    rs = run_dirs(os.path.join(d, "runs"))
    bad = [r for r in rs if not metrics_ok(r, 8)[0] or not os.path.exists(os.path.join(r, "COMPLETE"))]
    p.record(f"two sweeps at once, codes {sorted([a.returncode, b.returncode])}", "concur", max(a.returncode, b.returncode), oa + ob, ea + eb, "any",
             lost=bool(bad), note=f"{len(rs)} run folders, {len(bad)} incomplete")


def kill_cases(p):
    for kind, tpl, steps in (("manifold", MANIFOLD, 60), ("graph", GRAPH, 60), ("gw", GW.replace("INIT", "none"), 40), ("gw-solver", GW.replace("INIT", "solver"), 40)):
        for when in (0.5, 1.5):
            d = p.case_dir(f"kill_{kind}_{when}")
            open(os.path.join(d, "c.yaml"), "w").write(tpl.replace("OUT", "runs").replace("STEPS", str(steps)))
            a = subprocess.Popen([p.glass, "run", "c.yaml", "--device", "cpu", "--quiet", "--no-plots"], cwd=d, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            time.sleep(when)
            a.send_signal(signal.SIGKILL); a.wait()
            rs = run_dirs(os.path.join(d, "runs"))
            if not rs:
                # killed before the folder existed: nothing to resume, a fresh run must work
                code, out, err = p.run(["run", "c.yaml", "--device", "cpu", "--quiet", "--no-plots"], d)
                rs = run_dirs(os.path.join(d, "runs"))
                ok, note = metrics_ok(rs[0], steps) if rs else (False, "no run")
                p.record(f"kill -9 {kind} at {when}s (before folder), rerun", "kill", code, out, err, "ok", lost=not ok, note=note)
                continue
            run = rs[0]
            code, out, err = p.run(["run", "--resume", run, "--device", "cpu", "--quiet", "--no-plots"], d)
            ok, note = metrics_ok(run, steps)
            p.record(f"kill -9 {kind} at {when}s, resume", "kill", code, out, err, "ok", lost=not ok, note=note)
    # kill -9 an align, then the same --out again: no hidden .tmp- left behind once it finished
    d = p.case_dir("kill_align")
    a = subprocess.Popen([p.glass, "align", "--x", "x.npy", "--y", "y.npy", "--device", "cpu", "--steps", "300", "--out", "o", "--no-plots"], cwd=d,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(2.0)
    a.send_signal(signal.SIGKILL); a.wait()
    code, out, err = p.run(["align", "--x", "x.npy", "--y", "y.npy", "--device", "cpu", "--steps", "2", "--out", "o", "--no-plots"], d)
    p.record("kill -9 align, align again", "kill", code, out, err, "ok", half=bool(leftovers(d)) or not os.path.exists(os.path.join(d, "o", "metrics.json")))
    # SIGTERM: checkpoint and exit 130, then resume
    d = p.case_dir("term_run")
    open(os.path.join(d, "c.yaml"), "w").write(MANIFOLD.replace("OUT", "runs").replace("STEPS", "80"))
    a = subprocess.Popen([p.glass, "run", "c.yaml", "--device", "cpu", "--quiet", "--no-plots"], cwd=d, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    a.send_signal(signal.SIGTERM)
    o, e = a.communicate()
    rs = run_dirs(os.path.join(d, "runs"))
    code, out, err = p.run(["run", "--resume", rs[0], "--device", "cpu", "--quiet", "--no-plots"], d) if rs else (a.returncode, o, e)
    ok, note = metrics_ok(rs[0], 80) if rs else (False, "no run")
    p.record(f"SIGTERM run (exit {a.returncode}), resume", "kill", code, out, err, "ok", lost=not ok, note=note)


GROUPS = {"config": config_cases, "yaml": yaml_file_cases, "input": input_file_cases, "pairs": known_pairs_cases,
          "option": option_cases, "fs": fs_cases, "concur": concurrency_cases, "kill": kill_cases}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--glass", default=os.path.join(REPO, "Glass.Runner", "bin", "Release", "net10.0", "glass"))
    ap.add_argument("--work", default=None, help="scratch folder (default: a new temporary folder, removed at the end)")
    ap.add_argument("--groups", default=",".join(GROUPS), help="comma-separated: " + ", ".join(GROUPS))
    ap.add_argument("--jsonl", default=None, help="also write one JSON object per case here")
    a = ap.parse_args()
    work = a.work or tempfile.mkdtemp(prefix="glass-probe-")
    os.makedirs(work, exist_ok=True)
    p = Probe(os.path.abspath(a.glass), work)
    t0 = time.time()
    try:
        for g in a.groups.split(","):
            GROUPS[g](p)
    finally:
        if a.jsonl:
            with open(a.jsonl, "w") as f:
                for r in p.results:
                    f.write(json.dumps(r) + "\n")
        if a.work is None:
            shutil.rmtree(work, ignore_errors=True)
    rs = p.results
    counts = {k: sum(1 for r in rs if r[k]) for k in ("crash", "stack_trace", "unclear", "half_written", "lost_rows", "wrong_exit")}
    print(f"\n{len(rs)} cases in {time.time() - t0:.0f} s: {sum(r['ok'] for r in rs)} ok; " +
          ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0 if all(r["ok"] for r in rs) else 1


if __name__ == "__main__":
    sys.exit(main())
