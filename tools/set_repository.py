"""Point the book at the repository it is published from: _config.yml and every chapter's Colab cell.

python tools/set_repository.py https://github.com/you/mmbook main
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(url: str, branch: str) -> int:
    if not re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url or ""):
        print(f"URL must look like https://github.com/OWNER/REPO, got {url!r}", file=sys.stderr)
        return 2
    if not re.fullmatch(r"[\w./-]+", branch or ""):
        print(f"BRANCH must be a branch name, got {branch!r}", file=sys.stderr)
        return 2
    config = ROOT / "_config.yml"
    text = config.read_text()
    text = re.sub(r"(?m)^(  url: ).*$", rf"\g<1>{url}", text, count=1)
    text = re.sub(r"(?m)^(  branch: ).*$", rf"\g<1>{branch}", text, count=1)
    config.write_text(text)
    for chapter in sorted((ROOT / "book").glob("*.md")):
        source = chapter.read_text()
        new = re.sub(
            r"git\+https://github\.com/[\w.-]+/[\w.-]+@[\w./-]+", f"git+{url}@{branch}", source
        )
        if new != source:
            chapter.write_text(new)
            print(f"updated {chapter.relative_to(ROOT)}")
    print("now run `make notebooks` so the paired .ipynb files follow")
    return 0


if __name__ == "__main__":
    sys.exit(main(*(sys.argv[1:3] + ["", ""])[:2]))
