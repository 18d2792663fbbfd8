#!/usr/bin/python3
"""Writes the small .h5ad fixtures of the AnnData reader tests with the real `anndata` package.

Run from this folder with Debian's python3-anndata:  /usr/bin/python3 make_fixtures.py
Deterministic (fixed seed); the tests read the same numbers back from values.json.
"""
import json

import anndata
import numpy as np
import pandas as pd
import scipy.sparse as sp

rng = np.random.default_rng(7)
n, d = 12, 5
x = rng.normal(size=(n, d)).astype(np.float32)
pca = rng.normal(size=(n, 3))
lsi = rng.normal(size=(n, 4)).astype(np.float32)
cell_type = pd.Categorical(["b", "a", "c", "a", "b", "c", "a", "a", "b", "c", "c", "b"], categories=["a", "b", "c"])
obs = pd.DataFrame({"cell_type": cell_type, "batch": [f"s{i % 2}" for i in range(n)], "score": np.arange(n, dtype=float)},
                   index=[f"cell{i}" for i in range(n)])

dense = anndata.AnnData(X=x, obs=obs)
dense.obsm["X_pca"] = pca
dense.obsm["X_lsi"] = lsi
dense.write_h5ad("dense.h5ad")

xs = np.where(rng.random(size=(n, 6)) < 0.35, rng.normal(size=(n, 6)), 0.0)
csr = anndata.AnnData(X=sp.csr_matrix(xs), obs=obs[["cell_type"]].copy(), dtype=np.float64)
csr.write_h5ad("csr.h5ad")

with open("values.json", "w") as f:
    json.dump({"dense_x": x.astype(float).ravel().tolist(), "pca": pca.ravel().tolist(),
               "lsi": lsi.astype(float).ravel().tolist(), "csr_x": xs.ravel().tolist(),
               "cell_type_codes": cell_type.codes.tolist(), "categories": list(cell_type.categories),
               "batch": list(obs["batch"]), "anndata": anndata.__version__}, f)
