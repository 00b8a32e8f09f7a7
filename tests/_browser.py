"""Headless-browser layout check shared by the report tests: does a page fit a 700 px window?"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Optional

MEASURE = """<pre id="measure"></pre><script>
const w = document.documentElement.clientWidth, out = [];
document.querySelectorAll('table').forEach((t, i) => {
  const r = t.getBoundingClientRect();
  if (r.right > w + 1 || t.scrollWidth > t.clientWidth + 1)
    out.push('table ' + i + ' (' + (t.previousElementSibling ? t.previousElementSibling.textContent : '')
             + ') right=' + Math.round(r.right));
});
document.getElementById('measure').textContent = JSON.stringify(
  {width: w, scroll: document.documentElement.scrollWidth, tables: document.querySelectorAll('table').length,
   overflow: out});
</script>"""


def browser() -> Optional[str]:
    """A headless-capable Chromium/Chrome on PATH, or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome", "headless_shell"):
        path = shutil.which(name)
        if path:
            return path
    return None


NO_BROWSER = "no headless browser installed (apt-get install chromium); the 700 px layout check needs one"


def measure(html: Path, tmp: Path, width: int = 700, height: int = 1200) -> tuple[dict, Path]:
    """Open a copy of ``html`` with a measuring script at ``width`` px; return the numbers and a screenshot.

    The report itself has no script: the probe is a copy.  Returns ``{width, scroll, tables,
    overflow}`` (``overflow`` lists every table wider than the window or its own box).
    """
    probe = tmp / f"probe-{html.parent.name}.html"
    probe.write_text(html.read_text(encoding="utf-8").replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    args = [browser(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            f"--window-size={width},{height}"]
    shot = tmp / f"{html.parent.name}-{width}.png"
    done = subprocess.run([*args, f"--screenshot={shot}", probe.as_uri()], capture_output=True, timeout=120)
    assert done.returncode == 0 and shot.stat().st_size > 10_000, done.stderr[-500:]
    dom = subprocess.run([*args, "--dump-dom", probe.as_uri()], capture_output=True, text=True, timeout=120)
    m = re.search(r'<pre id="measure">(.*?)</pre>', dom.stdout, re.S)
    assert m, dom.stderr[-500:]
    return json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&")), shot
