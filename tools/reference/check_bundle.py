"""Read a squeeze zip bundle with Python's own zipfile (an independent ZIP reader) and check
it against the folder export of the same model, file by file.

    squeeze quantize --scheme int8-dynamic --out /tmp/q --zip /tmp/q.zip
    python3 tools/reference/check_bundle.py --zip /tmp/q.zip --folder /tmp/q

Fails unless every entry is stored (not compressed) with a matching CRC-32, the zip holds
one folder `squeeze-<name>-<variant>/` and nothing else, and its files are exactly the
folder's, byte for byte. Standard library only: no torch needed.
"""

import argparse
import json
import sys
import zipfile
from pathlib import Path


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--zip", type=Path, required=True, help="bundle from `--zip`")
    p.add_argument("--folder", type=Path, required=True, help="folder from `--out`")
    args = p.parse_args()

    with zipfile.ZipFile(args.zip) as z:
        bad = z.testzip()
        if bad is not None:
            print(f"error: {bad} fails its CRC-32", file=sys.stderr)
            return 1
        infos = z.infolist()
        compressed = [i.filename for i in infos if i.compress_type != zipfile.ZIP_STORED]
        folders = {i.filename.split("/", 1)[0] for i in infos}
        files = {i.filename.split("/", 1)[1]: z.read(i) for i in infos if not i.is_dir()}
    expected = {f.name: f.read_bytes() for f in args.folder.iterdir() if f.is_file()}
    problems = []
    if compressed:
        problems.append(f"compressed entries: {compressed}")
    if len(folders) != 1 or not next(iter(folders)).startswith("squeeze-"):
        problems.append(f"expected one squeeze-… folder, found {sorted(folders)}")
    if sorted(files) != sorted(expected):
        problems.append(f"files {sorted(files)} but the folder has {sorted(expected)}")
    differ = [n for n in files if n in expected and files[n] != expected[n]]
    if differ:
        problems.append(f"bytes differ from the folder: {differ}")
    print(
        json.dumps(
            {
                "zip": str(args.zip),
                "folder": sorted(folders),
                "files": {n: len(b) for n, b in sorted(files.items())},
                "problems": problems,
            },
            indent=2,
        )
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
