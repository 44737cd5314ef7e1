#!/usr/bin/env python3
"""End-to-end test of `charter constitution collect` in a real headless browser (Chromium over WebDriver).

It starts the server on a free loopback port with six seed statements, then drives Chromium as people would:
a participant joins from the start page and writes a statement containing a <script> tag; the moderator opens
their link and accepts it with the mouse; eight participants join (each a fresh cookie jar) and vote on every
statement with the keyboard (A / D / P) or the mouse, in two planted opinion groups; then the server is killed
(SIGKILL: every answered vote must already be in the database) and
`collect analyze` must find the two groups and put exactly the statements both groups agree with in the
constitution. On every page the script tag must be shown as text, never run (window.__ccai_pwned stays unset), and
the only script element is /app.js.

Screenshots of each page go to --screenshots (the README's images: docs/screenshots/ccai-*.png).
Skips visibly (exit 0, "SKIPPED: ...") only when chromium, chromedriver or selenium are absent.
Usage: python3 scripts/browser/ccai_e2e.py --charter .build/debug/charter [--screenshots DIR] [--keep]
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

import browser  # scripts/browser/browser.py

SEEDS = [
    "The AI should tell the truth.",                                  # both groups agree: consensus
    "The AI should not help anyone cause physical harm.",             # both groups agree: consensus
    "The AI should put the interests of the community first.",        # group A agrees, B disagrees
    "The AI should avoid taking sides on political questions.",       # group A agrees, B disagrees
    "The AI should put each person's individual freedom first.",      # group B agrees, A disagrees
    "The AI should discuss any political topic a user asks about.",   # group B agrees, A disagrees
]
SCRIPT_STATEMENT = "<script>window.__ccai_pwned = 1</script> The AI should explain its reasoning when asked."
CONSENSUS = {SEEDS[0], SEEDS[1], SCRIPT_STATEMENT}
GROUP_A = {SEEDS[2], SEEDS[3]}
GROUP_B = {SEEDS[4], SEEDS[5]}



def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--charter", default=".build/debug/charter")
    parser.add_argument("--screenshots", help="folder for the README's screenshots")
    parser.add_argument("--participants", type=int, default=8)
    parser.add_argument("--keep", action="store_true", help="keep the database and the analysis (the folder is printed)")
    args = parser.parse_args()

    t = browser.tools("ccai")
    ActionChains, By, Keys = t.ActionChains, t.By, t.Keys
    WebDriverException, WebDriverWait = t.WebDriverException, t.WebDriverWait

    started = time.monotonic()
    work = tempfile.mkdtemp(prefix="ccai-e2e-")
    db = os.path.join(work, "ccai.sqlite")
    seeds = os.path.join(work, "seeds.txt")
    with open(seeds, "w") as handle:
        handle.write("\n".join(SEEDS) + "\n")
    server = subprocess.Popen([args.charter, "constitution", "collect", "serve", "--db", db, "--port", "0", "--seed", seeds,
                               "--topic", "What principles should an AI assistant follow?"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = moderator_link = None
    lines = []
    while moderator_link is None:
        line = server.stdout.readline()
        if not line:
            raise SystemExit("server exited before it listened:\n" + "".join(lines))
        lines.append(line)
        if match := re.search(r"(http://127\.0\.0\.1:\d+)/ \(", line):
            base = match.group(1)
        if match := re.search(r"moderator link \(keep it private\): (\S+)", line):
            moderator_link = match.group(1)

    driver = browser.chrome(t, "1000,760")
    shots = args.screenshots
    if shots:
        os.makedirs(shots, exist_ok=True)

    def shot(name):
        if shots:
            driver.save_screenshot(os.path.join(shots, f"ccai-{name}.png"))

    def check_no_script_ran():
        assert driver.execute_script("return window.__ccai_pwned === undefined"), f"the statement's script ran on {driver.current_url}"
        sources = driver.execute_script("return Array.from(document.scripts).map(s => s.getAttribute('src'))")
        assert sources == ["/app.js"], f"{driver.current_url}: unexpected script elements {sources}"

    def fresh_session():
        driver.delete_all_cookies()
        driver.get(base + "/")
        check_no_script_ran()
        # Chrome applies autofocus at a rendering step that can come after get() returns; a key pressed before it
        # goes to the body and nothing happens. Wait for the focus the page promises (and fail if it never comes).
        WebDriverWait(driver, 10, poll_frequency=0.05).until(
            lambda d: d.execute_script("return document.activeElement && document.activeElement.id") == "join",
            "the Join button never received focus")

    def press(key):
        ActionChains(driver).send_keys(key).perform()

    def page_identity():
        return driver.execute_script("return performance.timeOrigin")

    def wait_for_next_page(before):
        """Waits until a new document (another timeOrigin) has loaded; errors while it swaps are part of waiting."""
        def loaded(_):
            try:
                return driver.execute_script("return document.readyState === 'complete' ? performance.timeOrigin : null") not in (None, before)
            except WebDriverException:
                return False
        WebDriverWait(driver, 30, poll_frequency=0.05).until(loaded, f"no new page loaded within 30 s of the action on {driver.current_url}")

    def act(action):
        before = page_identity()
        action()
        wait_for_next_page(before)

    votes_cast = 0
    try:
        # 1. A participant joins with the keyboard (the Join button has focus) and writes a statement.
        fresh_session()
        shot("start")
        act(lambda: press(Keys.ENTER))
        assert driver.current_url.endswith("/vote"), (driver.current_url, driver.find_element(By.TAG_NAME, "body").text)
        act(driver.find_element(By.LINK_TEXT, "Write a statement").click)
        driver.find_element(By.ID, "text").send_keys(SCRIPT_STATEMENT)
        act(driver.find_element(By.ID, "send").click)
        assert driver.find_element(By.ID, "sent").is_displayed()
        check_no_script_ran()
        shot("submit")

        # 2. The moderator accepts it with the mouse; the queue shows the tag as text.
        driver.delete_all_cookies()
        driver.get(moderator_link)
        assert driver.current_url.endswith("/moderate"), driver.current_url
        check_no_script_ran()
        item = driver.find_element(By.CSS_SELECTOR, ".queue li .text")
        assert item.text == SCRIPT_STATEMENT, item.text
        shot("moderate")
        act(driver.find_element(By.CSS_SELECTOR, ".queue li .accept").click)
        assert driver.find_element(By.ID, "empty").is_displayed()

        # 3. Participants vote in two planted groups: keyboard for most votes, the mouse for every third.
        for person in range(args.participants):
            group = "A" if person % 2 == 0 else "B"
            fresh_session()
            act(lambda: press(Keys.ENTER))
            count = 0
            passed = False
            while driver.find_elements(By.ID, "statement"):
                text = driver.find_element(By.ID, "statement").text
                agree = text in CONSENSUS or (text in GROUP_A) == (group == "A")
                # The last two participants pass (P) on the first partisan statement they see: their own spot on the map.
                passing = person >= args.participants - 2 and text not in CONSENSUS and not passed

                if person == 0 and count == 1:
                    shot("vote")
                check_no_script_ran()
                # The vote posts and the next page loads; act waits for it before the next statement is read.
                if passing:
                    act(lambda: press("p"))
                    passed = True
                elif count % 3 == 2:
                    act(driver.find_element(By.ID, "agree" if agree else "disagree").click)
                else:
                    act(lambda: press("a" if agree else "d"))
                count += 1
                votes_cast += 1
                if count > len(SEEDS) + 1:
                    raise AssertionError("the vote page kept showing statements after every one was voted on")
            assert count == len(SEEDS) + 1, f"participant {person} saw {count} statements, expected {len(SEEDS) + 1}"
            assert "7 of 7 statements voted on" in driver.find_element(By.CSS_SELECTOR, ".count").text
            if person == 0:
                shot("done")
    finally:
        driver.quit()
        # kill -9: every vote was committed in its own transaction when its page answered, so none may be lost.
        server.kill()
        server.wait(timeout=15)

    # 4. The analysis finds the planted groups and the consensus statements.
    output = os.path.join(work, "analysis")
    subprocess.run([args.charter, "constitution", "collect", "analyze", "--db", db, "--output", output], check=True)
    with open(os.path.join(output, "results.json")) as handle:
        results = json.load(handle)
    assert results["votes"] == votes_cast, (results["votes"], votes_cast)
    assert results["group_count"] == 2, results["group_count"]
    assert sorted(results["group_sizes"]) == [args.participants // 2, args.participants - args.participants // 2], results["group_sizes"]
    texts = {entry["statement"]["id"]: entry["statement"]["text"] for entry in results["ranking"]}
    chosen = {texts[id] for id in results["constitution_statements"]}
    assert chosen == CONSENSUS, chosen
    with open(os.path.join(output, "report.html")) as handle:
        report = handle.read()
    assert "<script>window" not in report and "&lt;script&gt;window.__ccai_pwned" in report
    with open(os.path.join(output, "constitution.yaml")) as handle:
        constitution = handle.read()
    assert "provenance:" in constitution and "group_agreement:" in constitution
    subprocess.run([args.charter, "constitution", "validate", os.path.join(output, "constitution.yaml")], check=True)

    if shots:
        report_driver = browser.chrome(t, "1000,760")
        try:
            report_driver.set_window_size(1200, 1500)
            report_driver.get("file://" + os.path.join(output, "report.html"))
            report_driver.save_screenshot(os.path.join(shots, "ccai-report.png"))
        finally:
            report_driver.quit()
    if args.keep:
        print(f"kept {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    elapsed = time.monotonic() - started
    print(f"ccai browser end-to-end: {args.participants + 1} participants, {votes_cast} votes, 2 groups, "
          f"{len(chosen)} consensus statements, script tag escaped on every page ({elapsed:.1f} s)")


if __name__ == "__main__":
    main()
