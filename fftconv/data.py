"""A sample photograph shipped with the package, for examples and tests without a network.

The image is the portrait of astronaut Eileen Collins from the NASA Great Images
collection (https://flic.kr/p/r9qvLn): a work of NASA, in the public domain (no known
copyright restrictions). It is the 512 x 512 RGB ``astronaut.png`` distributed with
scikit-image (``skimage.data.astronaut``), stored here as the uint8 array ``image`` in a
compressed ``.npz`` file: numpy alone can read it (Pillow is an optional extra), and it is
smaller than the original PNG.
"""

from __future__ import annotations

from importlib import resources

import numpy as np

__all__ = ["sample_image"]

_LUMA = np.array([0.299, 0.587, 0.114])  # ITU-R BT.601


def sample_image(gray: bool = False) -> np.ndarray:
    """Return the sample photograph (a new, writable array).

    Parameters
    ----------
    gray : bool, optional
        If true, return the luma ``0.299 R + 0.587 G + 0.114 B`` (ITU-R BT.601), rounded
        to the nearest integer.

    Returns
    -------
    numpy.ndarray
        ``uint8`` array of shape ``(512, 512, 3)`` (rows, columns, RGB), or ``(512, 512)``
        with ``gray=True``.

    Examples
    --------
    >>> from fftconv.data import sample_image
    >>> sample_image().shape, sample_image(gray=True).dtype
    ((512, 512, 3), dtype('uint8'))
    """
    with resources.files("fftconv").joinpath("_data/astronaut.npz").open("rb") as f:
        with np.load(f) as data:
            rgb = data["image"]
    if not gray:
        return rgb
    return np.rint(rgb @ _LUMA).astype(np.uint8)
