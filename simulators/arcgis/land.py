"""Land or sea: the GLOBE 1 km land mask shipped by the `global-land-mask` package, read offline.

The package's own module inflates the whole mask into about 1 GB of booleans on import. Here it is read
once as a stream and kept as bits (117 MB), saved beside the user's cache so that later processes map the
same file (one copy in the page cache for every simulator and test worker) instead of inflating it again."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
import zipfile
from pathlib import Path

import numpy as np

ROWS, COLS = 21600, 43200  # 90°N ... 90°S and 180°W ... 180°E in 1/120° steps
STEP = 1 / 120
_lock = threading.Lock()
_bits: np.ndarray | None = None


def cache_dir() -> Path:
    root = os.environ.get("CIVIC_HARNESS_CACHE") or os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "civic-harness"


def _source() -> Path:
    # Found without importing the package: importing it inflates the whole mask.
    spec = importlib.util.find_spec("global_land_mask")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the global-land-mask package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "globe_combined_mask_compressed.npz"


def _read_packed(npz: Path) -> np.ndarray:
    """The `mask` array (True = ocean) of the npz, inflated a band of rows at a time and packed to bits."""
    out = np.empty((ROWS, COLS // 8), dtype=np.uint8)
    with zipfile.ZipFile(npz) as archive, archive.open("mask.npy") as stream:
        version = np.lib.format.read_magic(stream)
        header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = header(stream)
        if shape != (ROWS, COLS) or fortran or dtype != np.bool_:
            raise RuntimeError(f"unexpected land mask layout {shape} {dtype}")
        band = 512
        for start in range(0, ROWS, band):
            rows = min(band, ROWS - start)
            raw = stream.read(rows * COLS)
            out[start : start + rows] = np.packbits(np.frombuffer(raw, dtype=np.uint8).reshape(rows, COLS), axis=1)
    return out


def bits() -> np.ndarray:
    """The packed mask (bit set = ocean), loaded once per process."""
    global _bits
    with _lock:
        if _bits is not None:
            return _bits
        npz = _source()
        key = hashlib.blake2b(f"{npz.stat().st_size}:{npz.stat().st_mtime_ns}".encode(), digest_size=6).hexdigest()
        cached = cache_dir() / f"land-mask-{key}.npy"
        try:
            _bits = np.load(cached, mmap_mode="r")
        except (OSError, ValueError):
            packed = _read_packed(npz)
            try:
                cached.parent.mkdir(parents=True, exist_ok=True)
                partial = cached.with_name(f"{cached.name}.{os.getpid()}.tmp")
                with partial.open("wb") as out:
                    np.save(out, packed)
                os.replace(partial, cached)
            except OSError:
                pass  # a read-only home: keep it in memory for this process
            _bits = packed
        return _bits


def is_land(lon: float, lat: float) -> bool:
    """Whether (lon, lat) lies on land (lakes count as land, as in the mask)."""
    row = min(ROWS - 1, max(0, int((90.0 - lat) / STEP)))
    col = min(COLS - 1, max(0, int((lon + 180.0) / STEP)))
    byte = int(bits()[row, col >> 3])
    return not (byte >> (7 - (col & 7))) & 1
