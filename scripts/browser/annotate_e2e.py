#!/usr/bin/env python3
"""End-to-end test of `charter annotate` in a real headless browser (Chromium over WebDriver).

It imports 12 preference pairs (one response holds a <script> tag, another an <img onerror>) and 2 gold questions,
serves them with 2-way overlap and a gold question every 5 tasks, invites two annotators with `charter annotate
invite`, and drives Chromium as they would. The first labels 10 tasks with the keyboard only (1-5 / 0 choices, H U D O
reasons, R rationale, T ratings, Enter submit, S skip); then the server is killed (SIGKILL: all 10 judgements must
already be in the database), restarted on the same database (re-importing the same files adds nothing), and both
annotators finish their queues. The export must match what was pressed, side by side as the page showed it: each
per-annotator line's chosen response is the one the key picked, its chosen_probability the 5-point mapping (1 or
0.75; ties 0.5), ties and both-bad flagged; `charter audit` reads the per-annotator file and finds both annotators.
On every page the script tags must be shown as text, never run (window.__annotate_pwned stays unset), and the only
script element is /app.js. The dashboard must list both annotators, their gold scores and their pair's kappa.

Screenshots go to --screenshots (the README's images: docs/screenshots/annotate-*.png).
Skips visibly (exit 0, "SKIPPED: ...") only when chromium, chromedriver or selenium are absent.
Usage: python3 scripts/browser/annotate_e2e.py --charter .build/debug/charter [--screenshots DIR] [--keep]
"""
import argparse
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time

import browser  # scripts/browser/browser.py

SCRIPT_RESPONSE = "<script>window.__annotate_pwned = 1</script> Sure: store flour in an airtight container."
IMG_RESPONSE = "<img src=x onerror=\"window.__annotate_pwned = 2\"> Keep it somewhere dry."
PAIRS = [
    {"prompt": [{"role": "user", "content": "How should I store flour?"}],
     "chosen": [{"role": "assistant", "content": SCRIPT_RESPONSE}],
     "rejected": [{"role": "assistant", "content": IMG_RESPONSE}]},
] + [
    {"prompt": [{"role": "user", "content": f"Question {i}: what is {i} plus {i}?"}],
     "chosen": [{"role": "assistant", "content": f"{i} plus {i} is {2 * i}."}],
     "rejected": [{"role": "assistant", "content": f"I think it is {2 * i + 1}, roughly."}]}
    for i in range(1, 12)
]
GOLD = [
    {"prompt": "Is it safe to mix bleach and ammonia?", "chosen": "No: it releases toxic chloramine gas.",
     "rejected": "Yes, it makes a stronger cleaner."},
    {"prompt": "What is the capital of France?", "chosen": "Paris.", "rejected": "Lyon."},
]
# Keys pressed by the first annotator, one plan per task in queue order: the choice key, then extras.
KEYS = ["1", "2", "4", "5", "3", "0", "2", "1", "4", "2", "5", "1", "2", "1"]
CHOICE = {"1": ("A", 2), "2": ("A", 1), "3": ("tie", 0), "4": ("B", 1), "5": ("B", 2), "0": ("bad", None)}



def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--charter", default=".build/debug/charter")
    parser.add_argument("--screenshots", help="folder for the README's screenshots")
    parser.add_argument("--keep", action="store_true", help="keep the database and the exports (the folder is printed)")
    args = parser.parse_args()

    t = browser.tools("annotate")
    ActionChains, By, Keys = t.ActionChains, t.By, t.Keys
    WebDriverException, WebDriverWait = t.WebDriverException, t.WebDriverWait

    started = time.monotonic()
    work = tempfile.mkdtemp(prefix="annotate-e2e-")
    db = os.path.join(work, "labels.sqlite")
    pairs, gold = os.path.join(work, "pairs.jsonl"), os.path.join(work, "gold.jsonl")
    for path, rows in ((pairs, PAIRS), (gold, GOLD)):
        with open(path, "w") as handle:
            handle.write("".join(json.dumps(row) + "\n" for row in rows))

    def serve():
        process = subprocess.Popen([args.charter, "annotate", "serve", "--db", db, "--tasks", pairs, "--gold", gold,
                                    "--overlap", "2", "--gold-every", "5", "--port", "0"],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        base = admin = None
        lines = []
        while admin is None:
            line = process.stdout.readline()
            if not line:
                raise SystemExit("server exited before it listened:\n" + "".join(lines))
            lines.append(line)
            if match := re.search(r"(http://127\.0\.0\.1:\d+)/ \(", line):
                base = match.group(1)
            if match := re.search(r"dashboard link \(keep it private\): \S+(/login\?token=\w+)", line):
                admin = match.group(1)
        return process, base, admin, "".join(lines)

    def invite(name):
        output = subprocess.run([args.charter, "annotate", "invite", name, "--db", db], check=True, capture_output=True, text=True).stdout
        return re.search(r"/login\?token=\w+", output).group(0)

    server, base, admin_path, log = serve()
    assert "pairs.jsonl: 12 pairs, 12 new" in log and "gold.jsonl: 2 gold questions, 2 new" in log, log
    links = {name: invite(name) for name in ("ann", "bo")}

    driver = browser.chrome(t, "1200,1000")
    shots = args.screenshots
    if shots:
        os.makedirs(shots, exist_ok=True)

    def shot(name):
        if shots:
            driver.save_screenshot(os.path.join(shots, f"annotate-{name}.png"))

    def check_no_script_ran():
        assert driver.execute_script("return window.__annotate_pwned === undefined"), f"a response's script ran on {driver.current_url}"
        sources = driver.execute_script("return Array.from(document.scripts).map(s => s.getAttribute('src'))")
        assert sources == ["/app.js"], f"{driver.current_url}: unexpected script elements {sources}"

    def press(*keys):
        ActionChains(driver).send_keys(*keys).perform()

    def page_identity():
        return driver.execute_script("return performance.timeOrigin")

    def act(action):
        before = page_identity()
        action()

        def loaded(_):
            try:
                return driver.execute_script("return document.readyState === 'complete' ? performance.timeOrigin : null") not in (None, before)
            except WebDriverException:
                return False
        WebDriverWait(driver, 30, poll_frequency=0.05).until(loaded, f"no new page loaded within 30 s of the action on {driver.current_url}")

    def login(name):
        driver.delete_all_cookies()
        act(lambda: driver.get(base + links[name]))
        assert driver.current_url.endswith("/label"), driver.current_url

    def text_of(element_id):
        return driver.find_element(By.ID, element_id).find_element(By.CSS_SELECTOR, ".text").text

    expected = []  # (annotator, prompt, chosen text or None, label, probability, reasons)

    def label(name, keys, index):
        """Labels the task on screen with the keyboard; returns False when the queue is empty."""
        if driver.find_elements(By.ID, "done"):
            return False
        check_no_script_ran()
        prompt = driver.find_element(By.ID, "conversation").find_element(By.CSS_SELECTOR, ".text").text
        left, right = text_of("response-a"), text_of("response-b")
        side, strength = CHOICE[keys]
        if name == "ann" and SCRIPT_RESPONSE in (left, right):
            shot("escaped")  # the <script> and <img onerror> responses, shown as text
        reasons = []
        press(keys)
        if keys == "0":
            press("h", "o")
            reasons = ["harmful", "off-topic"]
        if index % 4 == 1:
            press("r")
            press(f"rationale {index} <script>window.__annotate_pwned = 3</script>", Keys.ESCAPE)
        if index == 2:
            press("t")
            press("4", Keys.TAB, "2")  # helpful A = 4, helpful B = 2
            press(Keys.ESCAPE)
            if name == "ann":
                shot("label")
        chosen = None if side in ("tie", "bad") else (left if side == "A" else right)
        probability = {2: 1.0, 1: 0.75, 0: 0.5, None: None}[strength]
        expected.append((name, prompt, chosen, {"tie": "tie", "bad": "both_bad"}.get(side, "preference"), probability, reasons, left))
        act(lambda: press(Keys.ENTER))
        return True

    def progress():
        return driver.find_element(By.ID, "count").text

    try:
        # 1. ann labels 10 tasks with the keyboard, then the server is killed.
        login("ann")
        assert progress().startswith("0 done, 12 left"), progress()
        for index in range(10):
            assert label("ann", KEYS[index], index), f"ann's queue ended after {index} tasks"
        assert progress().startswith("10 done"), progress()
        server.kill()
        server.wait(timeout=15)
        with sqlite3.connect(db) as connection:
            stored = connection.execute("SELECT COUNT(*) FROM judgement").fetchone()[0]
        assert stored == 10, f"{stored} judgements survived SIGKILL, expected 10"

        # 2. Restart on the same database: nothing re-imported, ann finishes, bo labels everything with the keyboard.
        server, base, admin_path, log = serve()
        assert "12 pairs, 0 new" in log and "2 gold questions, 0 new" in log, log
        login("ann")
        index = 10
        while label("ann", KEYS[index % len(KEYS)], index):
            index += 1
        ann_total = index
        assert ann_total == 14, f"ann saw {ann_total} tasks, expected 12 pairs and 2 gold questions"
        shot("done")
        login("bo")
        index = 0
        while label("bo", KEYS[(index + 1) % len(KEYS)] if index % 3 == 0 else KEYS[index % len(KEYS)], index):
            index += 1
        assert index == 14, f"bo saw {index} tasks"

        # 3. The dashboard.
        driver.delete_all_cookies()
        act(lambda: driver.get(base + admin_path))
        assert driver.current_url.endswith("/admin"), driver.current_url
        check_no_script_ran()
        rows = driver.find_element(By.ID, "annotators").text
        assert "ann" in rows and "bo" in rows and "of 2" in rows, rows
        assert "ann · bo" in driver.find_element(By.ID, "pairs").text
        shot("dashboard")
    finally:
        driver.quit()
        server.kill()
        server.wait(timeout=15)

    # 4. The export matches what was pressed; audit reads it.
    per_annotator = os.path.join(work, "labels.jsonl")
    subprocess.run([args.charter, "annotate", "export", "--db", db, "--output", per_annotator, "--per-annotator"], check=True)
    with open(per_annotator) as handle:
        lines = [json.loads(line) for line in handle]
    gold_prompts = {row["prompt"] for row in GOLD}
    regular = [entry for entry in expected if entry[1] not in gold_prompts]
    assert len(lines) == len(regular) == 24, (len(lines), len(regular))
    by_key = {(line["annotator"], line["prompt"][0]["content"]): line for line in lines}
    for name, prompt, chosen, kind, probability, reasons, left in regular:
        line = by_key[(name, prompt)]
        assert line["label"] == kind, (line, kind)
        if chosen is not None:
            assert line["chosen"][0]["content"] == chosen, (line, chosen)
        assert line.get("chosen_probability") == probability, (line, probability)
        assert line["reasons"] == reasons, (line, reasons)
        shown_left = line["chosen"][0]["content"] if line["chosen_shown"] == "left" else line["rejected"][0]["content"]
        assert shown_left == left, ("the recorded order must be the order shown", line, left)
    assert any("<script>window.__annotate_pwned = 3</script>" in line["rationale"] for line in lines)
    helpful = [line for line in lines if line["ratings"]["chosen"] or line["ratings"]["rejected"]]
    assert len(helpful) == 2, helpful

    pairs_out = os.path.join(work, "prefs.jsonl")
    subprocess.run([args.charter, "annotate", "export", "--db", db, "--output", pairs_out, "--ties", "exclude"], check=True)
    with open(pairs_out) as handle:
        exported = [json.loads(line) for line in handle]
    assert exported and all(line["label"] == "preference" and line["chosen_probability"] > 0.5 for line in exported), exported
    assert len(exported) <= 12

    audit = os.path.join(work, "audit")
    subprocess.run([args.charter, "audit", per_annotator, "--output", audit], check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(audit, "audit.json")) as handle:
        annotators = json.load(handle)["annotators"]
    assert sorted(entry["annotator"] for entry in annotators["per_annotator"]) == ["ann", "bo"], annotators

    if args.keep:
        print(f"kept {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    elapsed = time.monotonic() - started
    print(f"annotate browser end-to-end: 2 annotators, {ann_total + 14} judgements by keyboard, SIGKILL after 10 lost none, "
          f"{len(lines)} per-annotator lines and {len(exported)} pairs exported as pressed, script tags escaped ({elapsed:.1f} s)")


if __name__ == "__main__":
    main()
