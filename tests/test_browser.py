"""``report.html`` and ``map.html`` of ``plan evaluate``, and the reports of ``plan fares``,
``plan net``, ``plan transfers`` and ``plan access``, opened in headless Chromium (issue 16).

Data: the golden synthetic city Gridton (``tests/data/golden/city/``: GTFS, an OSM street grid,
places and two scenarios), evaluated as in ``tests/test_golden.py``; the other commands on the
bundled Northeast China sample with the small windows of ``tests/test_golden_commands.py``.

What is checked, in a real browser at 1280 x 900 px:

* nothing is requested from a network: Chromium is started with a proxy that is a local socket
  counting connections (every http, https and ws request of the page would go through it; the
  loopback is not bypassed), and the page is a ``file://`` URL;
* neither page scrolls sideways: a copy of the page with one script appended records
  ``document.documentElement.scrollWidth`` and ``clientWidth``, read from ``--dump-dom``; and no
  table of the report is wider than its box (each sits in one that would scroll on its own);
* the map page draws its layers: Leaflet's layer control, its SVG paths and the count of layers
  the page's script set on ``<body data-layers-drawn>``.

The test skips, saying why, where neither ``chromium-headless-shell`` nor ``chromium`` is on
PATH (``.ci/run`` installs ``chromium-headless-shell`` when missing).
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from planner.cli.main import main
from tests.conftest import GOLDEN

CITY = GOLDEN / "city"
ROOT = Path(__file__).parent.parent
BROWSERS = ("chromium-headless-shell", "chromium", "chromium-browser")
WIDTH = 1280
_PROBE = ("<script>document.body.dataset.scrollWidth=document.documentElement.scrollWidth;"
          "document.body.dataset.clientWidth=document.documentElement.clientWidth;"
          "document.body.dataset.wideTables=[...document.querySelectorAll('.tw')]"
          ".filter(d=>d.scrollWidth>d.clientWidth+1).length;</script>")


def _browser() -> str:
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("no headless Chromium on PATH (apt-get install chromium-headless-shell); .ci/run installs it")


class _Proxy:
    """A local socket standing in for a proxy: it accepts and counts connections, answers nothing."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self):
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


def _dump(browser: str, page: Path, proxy: _Proxy) -> str:
    args = [browser, "--headless", "--no-sandbox", "--disable-gpu", f"--window-size={WIDTH},900",
            "--hide-scrollbars", "--virtual-time-budget=5000", f"--proxy-server=127.0.0.1:{proxy.port}",
            "--proxy-bypass-list=<-loopback>", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--dump-dom", page.resolve().as_uri()]
    r = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("browser")
    out = tmp / "ev"
    r = CliRunner().invoke(main, ["evaluate", "-q", str(CITY / "crosstown.yaml"), str(CITY / "tram_frequency.yaml"),
                                  "--gtfs", f"gridton={CITY / 'gtfs'}", "--osm", str(CITY / "streets.osm"),
                                  "--places", str(CITY / "places.csv"), "--date", "2025-03-04", "--window", "60",
                                  "-o", str(out), "--cache-dir", str(tmp / "c")])
    assert r.exit_code == 0, r.output
    return out


def _probed(src: Path, dst: Path) -> Path:
    text = src.read_text(encoding="utf-8")
    dst.write_text(text.replace("</body>", _PROBE + "</body>"), encoding="utf-8")
    return dst


def _attr(dom: str, name: str) -> int:
    m = re.search(rf'data-{name}="(\d+)"', dom)
    assert m, f"data-{name} not set: the page's script did not run"
    return int(m.group(1))


def test_the_pages_reference_nothing_outside(pages):
    for name in ("report.html", "map.html"):
        # markup and styles only: Leaflet's script holds its (unused) attribution link as a string
        text = re.sub(r"<script[^>]*>.*?</script>", "", (pages / name).read_text(encoding="utf-8"), flags=re.S)
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text), name
        assert "url(http" not in text and "@import" not in text, name
    assert "href='map.html'" in (pages / "report.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["report.html", "map.html"])
def test_no_network_and_no_sideways_scroll(pages, tmp_path, name):
    browser = _browser()
    proxy = _Proxy()
    try:
        dom = _dump(browser, _probed(pages / name, tmp_path / name), proxy)
    finally:
        proxy.close()
    assert proxy.connections == 0, f"{name} made {proxy.connections} network request(s)"
    assert _attr(dom, "client-width") == WIDTH
    assert _attr(dom, "scroll-width") <= WIDTH, f"{name} scrolls sideways at {WIDTH} px"
    if name == "report.html":  # and every table fits (none needs its own scroll bar)
        assert _attr(dom, "wide-tables") == 0


def test_the_map_draws_its_layers(pages, tmp_path):
    browser = _browser()
    proxy = _Proxy()
    try:
        dom = _dump(browser, pages / "map.html", proxy)
    finally:
        proxy.close()
    # baseline + 2 scenarios as views, context overlays (Gridton lies in the Natural Earth box)
    assert _attr(dom, "layers-drawn") >= 3 + 1
    assert "leaflet-control-layers" in dom and "Scenario crosstown" in dom
    assert dom.count("leaflet-interactive") >= 10  # routes and places drawn as SVG paths
    assert "Made with Natural Earth" in dom


def test_the_network_check_sees_a_request(tmp_path):
    """The proxy check catches a page that fetches something (so a pass above means something)."""
    browser = _browser()
    page = tmp_path / "fetches.html"
    page.write_text("<!DOCTYPE html><html><body><img src='http://example.invalid/x.png'></body></html>",
                    encoding="utf-8")
    proxy = _Proxy()
    try:
        _dump(browser, page, proxy)
    finally:
        proxy.close()
    assert proxy.connections >= 1


@pytest.fixture(scope="module")
def other_reports(tmp_path_factory) -> dict[str, Path]:
    """The reports of plan fares, plan net, plan transfers and plan access on the bundled sample."""
    tmp = tmp_path_factory.mktemp("reports")
    cache = tmp / "c"
    runs = {
        "fares": (["fares", "-q", "--stop", "harbin_metro:L2_8416702419", "--no-grid", "--window", "30", "--step",
                   "10", "--cache-dir", str(cache)], "report.html"),
        "net": (["net", "-q", str(ROOT / "scenarios" / "spine_express.yaml")], "report.html"),
        "transfers": (["transfers", "-q", "--window", "30", "--maps", "1", "--cache-dir", str(cache)],
                      "transfers.html"),
        "access": (["access", "-q", "--resolution", "1000", "--window", "0", "--cutoffs", "30", "--cache-dir",
                    str(cache)], "report.html"),
    }
    out = {}
    for name, (args, page) in runs.items():
        r = CliRunner().invoke(main, [*args, "-o", str(tmp / name)])
        assert r.exit_code == 0, r.output
        out[name] = tmp / name / page
    return out


@pytest.mark.slow
@pytest.mark.parametrize("command", ["fares", "net", "transfers", "access"])
def test_the_other_reports_fit_1280_px_offline(other_reports, tmp_path, command):
    page = other_reports[command]
    text = re.sub(r"<script[^>]*>.*?</script>", "", page.read_text(encoding="utf-8"), flags=re.S)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text), command
    browser = _browser()
    proxy = _Proxy()
    try:
        dom = _dump(browser, _probed(page, tmp_path / page.name), proxy)
    finally:
        proxy.close()
    assert proxy.connections == 0, f"the {command} report made {proxy.connections} network request(s)"
    assert _attr(dom, "client-width") == WIDTH
    assert _attr(dom, "scroll-width") <= WIDTH, f"the {command} report scrolls sideways at {WIDTH} px"
    assert _attr(dom, "wide-tables") == 0, f"a table of the {command} report is wider than {WIDTH} px"
