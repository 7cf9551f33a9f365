"""Take screenshots of running Keyline pages with Playwright and Debian's Chromium.

For looking at pages while building them (and for `docs/screenshots/`), not a test:

    .venv/bin/python -m tests.ui.screenshot --base http://127.0.0.1:8103 --user provider \
        --password demo /codes/ /tmp/codes.png [/codes/1/ /tmp/code.png ...]

Pairs of (path, output file) follow the options. `--full` captures the whole page.
"""

import argparse
import os

from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]


def take(base: str, user: str, password: str, shots: list[tuple[str, str]], width: int = 1440,
         height: int = 900, full: bool = False) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": width, "height": height})
        page.goto(f"{base}/login/")
        page.fill("input[name=username]", user)
        page.fill("input[name=password]", password)
        page.click("button[type=submit], input[type=submit]")
        page.wait_for_load_state("networkidle")
        for path, out in shots:
            page.goto(f"{base}{path}")
            page.wait_for_load_state("networkidle")
            page.screenshot(path=out, full_page=full)
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--user", default="provider")
    parser.add_argument("--password", default="demo")
    parser.add_argument("--width", type=int, default=1440)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--full", action="store_true")
    parser.add_argument("pairs", nargs="+", help="path output.png [path output.png ...]")
    options = parser.parse_args()
    if len(options.pairs) % 2:
        parser.error("give pairs of path and output file")
    shots = list(zip(options.pairs[::2], options.pairs[1::2], strict=True))
    take(options.base, options.user, options.password, shots, options.width, options.height, options.full)


if __name__ == "__main__":
    main()
