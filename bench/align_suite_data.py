#!/usr/bin/env python3
"""Writes the real tabular data sets of `glass bench align-suite --data DIR` as float64 .npy files.

They come from the copies scikit-learn ships with its package (Debian: python3-sklearn), read with
sklearn.datasets.load_* — no download. Usage: /usr/bin/python3 bench/align_suite_data.py DIR
"""
import os
import sys

import numpy as np
from sklearn import datasets


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: align_suite_data.py DIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, loader in [("wine", datasets.load_wine), ("breast_cancer", datasets.load_breast_cancer), ("digits", datasets.load_digits)]:
        x = np.ascontiguousarray(loader().data, dtype=np.float64)
        np.save(os.path.join(out, name + ".npy"), x)
        print(f"{name}: {x.shape[0]}×{x.shape[1]} → {os.path.join(out, name + '.npy')}")


if __name__ == "__main__":
    main()
