"""Pack FER2013 into one compact file, to take it to a machine that takes little (a device machine: 64 MiB).

    python -m model.pack ../shared/data/fer2013/fer2013.csv.gz .carry/fer2013.xz

`model.train --data=.carry/fer2013.xz` reads it as it reads the CSV, FER+ votes included (the row numbers
are kept). The file holds FER2013's faces, so it stays out of the repository: .carry/ is ignored.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from model.data import PACKED_SUFFIX, load_dataset, save_packed


def main(arguments: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m model.pack", description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="FER2013 as a CSV (plain or gzip) or an image folder")
    parser.add_argument("packed", type=Path, help=f"the file to write (ending in {PACKED_SUFFIX})")
    options = parser.parse_args(arguments)
    if options.packed.suffix != PACKED_SUFFIX:
        parser.error(f"the packed file's name must end in {PACKED_SUFFIX}, so that loaders know it")
    try:
        splits, report = load_dataset(options.source)
    except (FileNotFoundError, ValueError) as error:
        parser.exit(2, f"python -m model.pack: {error}\n")
    options.packed.parent.mkdir(parents=True, exist_ok=True)
    save_packed(splits, options.packed)
    counts = ", ".join(f"{split} {len(faces):,}" for split, faces in sorted(splits.items()))
    size_mb = options.packed.stat().st_size / 1e6
    print(f"{options.packed}: {counts} faces, {size_mb:.1f} MB; {len(report.skipped)} rows skipped")


if __name__ == "__main__":
    main()
