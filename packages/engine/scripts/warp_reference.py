"""Writes src/testing/warp_reference.json: SciPy's ndimage.affine_transform (what Keras's
ImageDataGenerator calls) on a small two-channel image, for the warpAffine tests.

    /usr/bin/python3 scripts/warp_reference.py   # needs Debian's python3-scipy

Matrices are stored in warpAffine's (x = column, y = row) convention; SciPy gets the same map
in (row, column) order.
"""
import json
import math
import os

import numpy as np
from scipy import ndimage

rng = np.random.default_rng(6)
h, w, c = 5, 6, 2
image = np.round(rng.uniform(0, 10, size=(h, w, c)), 2)


def centred(theta_deg=0.0, tx=0.0, ty=0.0, shear_deg=0.0, zx=1.0, zy=1.0):
    """Output (x, y) -> source, rotation/shift/shear/zoom about the centre."""
    t, s = math.radians(theta_deg), math.radians(shear_deg)
    m = np.array([[math.cos(t), -math.sin(t), 0], [math.sin(t), math.cos(t), 0], [0, 0, 1.0]])
    m = m @ np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1.0]])
    m = m @ np.array([[1, -math.sin(s), 0], [0, math.cos(s), 0], [0, 0, 1.0]])
    m = m @ np.array([[zx, 0, 0], [0, zy, 0], [0, 0, 1.0]])
    cx, cy = (w - 1) / 2, (h - 1) / 2
    m = np.array([[1, 0, cx], [0, 1, cy], [0, 0, 1.0]]) @ m @ np.array([[1, 0, -cx], [0, 1, -cy], [0, 0, 1.0]])
    return [m[0, 0], m[0, 1], m[0, 2], m[1, 0], m[1, 1], m[1, 2]]


matrices = {
    "shift 2 right, 1 up": [1, 0, -2, 0, 1, 1],
    "fractional shift": [1, 0, 1.35, 0, 1, -0.6],
    "rotate 30": centred(30),
    "rotate -75, zoom out": centred(-75, zx=1.4, zy=1.2),
    "shear 25, shift": centred(shear_deg=25, tx=1.2, ty=-0.7),
    "zoom in 0.6": centred(zx=0.6, zy=0.6),
    "far away (tiling)": [1.3, 0.2, 9.5, -0.1, 0.9, -7.25],
}

cases = []
for name, m in matrices.items():
    a, b, cc, d, e, f = m
    for order in (0, 1):
        for mode in ("nearest", "constant", "reflect", "wrap"):
            out = np.stack(
                [
                    ndimage.affine_transform(
                        image[:, :, k], np.array([[e, d], [b, a]]), offset=[f, cc], order=order, mode=mode, cval=-1.5
                    )
                    for k in range(c)
                ],
                axis=-1,
            )
            cases.append({"name": name, "matrix": [float(v) for v in m], "order": order, "fillMode": mode, "cval": -1.5, "expected": [round(float(v), 6) for v in out.ravel()]})

here = os.path.dirname(os.path.abspath(__file__))
target = os.path.join(here, "..", "src", "testing", "warp_reference.json")
with open(target, "w") as fh:
    json.dump({"scipy": __import__("scipy").__version__, "shape": [h, w, c], "image": [float(v) for v in image.ravel()], "cases": cases}, fh)
print(f"wrote {len(cases)} cases to {os.path.normpath(target)}")
