"""What the browser end-to-end tests share: finding Chromium, chromedriver and selenium (or skipping visibly), and
starting headless Chromium."""
import shutil
import sys
from types import SimpleNamespace


def skip(test, reason):
    print(f"SKIPPED: {test} browser end-to-end test: {reason}")
    sys.exit(0)


def tools(test):
    """Chromium, chromedriver and the selenium names the tests use; exits with a SKIPPED line when one is missing."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not chromium or not driver_path:
        skip(test, "chromium or chromedriver is not installed (apt-get install chromium chromium-driver)")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.support.ui import WebDriverWait
    except ImportError:
        skip(test, "python selenium is not installed (pip install selenium)")
    return SimpleNamespace(chromium=chromium, driver_path=driver_path, webdriver=webdriver, Service=Service,
                           ActionChains=ActionChains, By=By, Keys=Keys, WebDriverException=WebDriverException,
                           WebDriverWait=WebDriverWait)


def chrome(t, window):
    """Headless Chromium with a `window` ("W,H") viewport and a 20 s page-load timeout."""
    options = t.webdriver.ChromeOptions()
    options.binary_location = t.chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", f"--window-size={window}"):
        options.add_argument(flag)
    driver = t.webdriver.Chrome(service=t.Service(t.driver_path), options=options)
    driver.set_page_load_timeout(20)
    return driver
