"""One-off helper: per-chapter reference lists without duplicate-citation warnings.

sphinxcontrib-bibtex's global {cite}/{bibliography} pair warns when two chapters cite the same key;
{footcite}/{footbibliography} keeps each chapter's list local to it.

    python tools/footcite.py book/*.md
"""

import re
import sys
from pathlib import Path

for name in sys.argv[1:]:
    path = Path(name)
    text = path.read_text()
    new = re.sub(r"\{cite(:[a-z]+)?\}", lambda m: "{footcite" + (m.group(1) or "") + "}", text)
    new = re.sub(
        r"```\{bibliography\}\n:filter: docname in docnames\n```", "```{footbibliography}\n```", new
    )
    if new != text:
        path.write_text(new)
        print(f"updated {path}")
