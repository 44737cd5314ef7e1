#!/usr/bin/env python3
"""Opens report.html pages in headless Chromium (Debian's `chromium` + `chromium-driver`, Python `selenium`) and
checks what a reader would see: the page loads without JavaScript errors, every chart (SVG) has a size, every
text label of a chart lies inside its chart (legends and axis labels fit), and no element is wider than the page.
Checks each page at every width given (a reader's window of 1,000 to 1,600 px) and saves a full-page screenshot
at the first width next to each report (report.png), for the README and for looking at.

    python3 scripts/check_report.py runs/quickstart/report.html [more.html ...]
    python3 scripts/check_report.py --widths 1280,1000,1600 --screenshot docs/screenshots/quickstart.png \
        --max-height 2400 runs/quickstart/report.html

Options: --widths W[,W...] (default 1280); --screenshot FILE (one page only: save there instead of next to it);
--max-height H (cut the screenshot to the page's top H px; default the whole page, at most 16,000 px);
--section ID (save only the band of the page, full width, that holds the element with that id).

Exits 1 and lists the problems when a page fails a check.
"""
import argparse
import base64
import pathlib
import sys

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

CHECK = """
const problems = [];
document.querySelectorAll('svg').forEach((svg, index) => {
  const box = svg.getBoundingClientRect();
  const name = svg.getAttribute('aria-label') || `chart ${index + 1}`;
  if (box.width < 50 || box.height < 50) problems.push(`${name}: drawn at ${box.width}x${box.height} px`);
  svg.querySelectorAll('text').forEach(text => {
    const t = text.getBoundingClientRect();
    if (t.width === 0) return;
    if (t.left < box.left - 1 || t.right > box.right + 1 || t.top < box.top - 1 || t.bottom > box.bottom + 1)
      problems.push(`${name}: label "${text.textContent.trim().slice(0, 40)}" lies outside the chart`);
  });
});
const width = document.documentElement.clientWidth;
document.querySelectorAll('body *').forEach(element => {
  const r = element.getBoundingClientRect();
  if (r.right > width + 2 && getComputedStyle(element).position !== 'fixed' && !element.closest('.scroll, pre, table'))
    problems.push(`<${element.tagName.toLowerCase()}> overflows the page (${Math.round(r.right)} > ${width} px)`);
});
return {problems, charts: document.querySelectorAll('svg').length, tables: document.querySelectorAll('table').length,
        title: document.title, height: document.documentElement.scrollHeight};
"""


def check(driver, page, width):
    driver.set_window_size(width, 900)
    driver.get(page.as_uri())
    result = driver.execute_script(CHECK)
    errors = [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    return result, result["problems"] + [f"console: {message}" for message in errors]


def main(arguments):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pages", nargs="+")
    parser.add_argument("--widths", default="1280", help="window widths in px, comma-separated; the first is screenshotted")
    parser.add_argument("--screenshot", help="where to save the screenshot (one page only)")
    parser.add_argument("--max-height", type=int, default=16000, help="cut the screenshot at this height (px)")
    parser.add_argument("--section", help="screenshot only the element with this id")
    options_ = parser.parse_args(arguments)
    widths = [int(width) for width in options_.widths.split(",")]
    if options_.screenshot and len(options_.pages) > 1:
        parser.error("--screenshot names one file: give one page")
    options = Options()
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--window-size={widths[0]},900"]:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    failed = False
    try:
        for path in options_.pages:
            page = pathlib.Path(path).resolve()
            for width in reversed(widths):  # the first width last, so its page is the one screenshotted
                result, problems = check(driver, page, width)
                status = "ok" if not problems else "FAILED"
                print(f"{status} at {width} px: {page} — \"{result['title']}\", {result['charts']} charts, {result['tables']} tables, {result['height']} px tall")
                for problem in problems:
                    print(f"  - {problem}")
                failed = failed or bool(problems)
            screenshot = pathlib.Path(options_.screenshot) if options_.screenshot else page.with_suffix(".png")
            if options_.section:
                # The page's full width from just above the element to just below it (Chrome DevTools' clip).
                box = driver.execute_script(
                    "const r = document.getElementById(arguments[0]).getBoundingClientRect();"
                    "return {top: r.top + window.scrollY, height: r.height};", options_.section)
                image = driver.execute_cdp_cmd("Page.captureScreenshot", {
                    "format": "png", "captureBeyondViewport": True,
                    "clip": {"x": 0, "y": max(0, box["top"] - 16), "width": widths[0], "height": box["height"] + 32, "scale": 1}})
                screenshot.write_bytes(base64.b64decode(image["data"]))
            else:
                driver.set_window_size(widths[0], min(max(result["height"], 900), options_.max_height))
                driver.save_screenshot(str(screenshot))
            print(f"screenshot: {screenshot}")
    finally:
        driver.quit()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
