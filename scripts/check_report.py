#!/usr/bin/env python3
"""Opens report.html pages in headless Chromium (Debian's `chromium` + `chromium-driver`, Python `selenium`) and
checks what a reader would see: the page loads without JavaScript errors, every chart (SVG) has a size, every
text label of a chart lies inside its chart (legends and axis labels fit), and no element is wider than the page.
Saves a full-page screenshot next to each report (report.png) for the README and for looking at.

    python3 scripts/check_report.py runs/quickstart/report.html [more.html ...]

Exits 1 and lists the problems when a page fails a check.
"""
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


def main(paths):
    options = Options()
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,900"]:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    failed = False
    try:
        for path in paths:
            page = pathlib.Path(path).resolve()
            driver.get(page.as_uri())
            result = driver.execute_script(CHECK)
            errors = [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
            problems = result["problems"] + [f"console: {message}" for message in errors]
            driver.set_window_size(1280, min(max(result["height"], 900), 16000))
            screenshot = page.with_suffix(".png")
            driver.save_screenshot(str(screenshot))
            driver.set_window_size(1280, 900)
            status = "ok" if not problems else "FAILED"
            print(f"{status}: {page} — \"{result['title']}\", {result['charts']} charts, {result['tables']} tables; screenshot {screenshot}")
            for problem in problems:
                print(f"  - {problem}")
            failed = failed or bool(problems)
    finally:
        driver.quit()
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1:]))
