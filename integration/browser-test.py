#!/usr/bin/env python3
"""The web page in a real browser: Debian's headless Chromium driven through its chromium-driver
(WebDriver) by selenium, against the real plugd (headless, simulated chip) and the real
plugd-web, with a phone's screen (412 x 915).

    integration/browser-test.py [--screenshots DIR]    (default .build/web-screenshots)

Checks: the page loads and goes live; log in; the big button switches the relay (plugd says so)
and the event arrives in the list; a press of the simulated button changes the page without a
reload; identify; rename; a factory reset asks first (cancel does nothing), then runs and the
page shows the new plug. A screenshot at each step, to look at.

Prints one line per check and a closing line "N passed, N failed"; exits 1 if any failed."""
import argparse
import os

os.environ.setdefault("SE_OFFLINE", "true")  # selenium must not look for drivers on the Internet
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from harness import ROOT, check, finish, wait_for  # noqa: E402
from webharness import PASSWORD, plug_and_web  # noqa: E402


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=412,915", "--disable-dev-shm-usage",
                "--no-first-run", "--disable-background-networking", "--disable-component-update"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--screenshots", default=os.path.join(ROOT, ".build", "web-screenshots"))
    args = parser.parse_args()
    os.makedirs(args.screenshots, exist_ok=True)
    work, plug, web = plug_and_web("plugd-browser-")
    driver = browser()
    shots = []

    def shot(name):
        path = os.path.join(args.screenshots, f"{len(shots) + 1:02d}-{name}.png")
        driver.save_screenshot(path)
        shots.append(path)

    def until(condition, timeout=10):
        try:
            return WebDriverWait(driver, timeout).until(lambda d: condition())
        except Exception:
            return False

    def text(element_id):
        return driver.find_element(By.ID, element_id).text

    def shown(element_id):
        return driver.find_element(By.ID, element_id).is_displayed()

    def events():
        return [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#events li")]

    try:
        driver.get(web.url("/"))
        check("the page loads and goes live (event stream open)", until(lambda: text("link") == "live"), text("link"))
        check("it shows the plug: name kettle, relay off, a login form, no controls",
              text("name") == "kettle" and text("power") == "Off" and shown("login") and not shown("controls"),
              (text("name"), text("power")))
        check("the recent events are listed", until(lambda: len(events()) > 0), events())
        shot("logged-out")

        driver.find_element(By.ID, "password").send_keys("wrong password")
        driver.find_element(By.ID, "login-button").click()
        check("a wrong password says so", until(lambda: text("message") == "wrong password"), text("message"))
        driver.find_element(By.ID, "password").send_keys(PASSWORD)
        driver.find_element(By.ID, "login-button").click()
        check("log in: the controls appear, the login form goes", until(lambda: shown("controls") and not shown("login")))
        shot("logged-in")

        # A marker in the page's own JavaScript state: gone if the page is ever reloaded.
        driver.execute_script("window.plugdMarker = 42")
        before = len(events())
        driver.find_element(By.ID, "power").click()
        check("the big button switches the relay on (plugd says so)", wait_for(lambda: plug.status()["relay"] == "on", 5), plug.status())
        check("... the button shows On", until(lambda: text("power") == "On" and text("relay") == "on"), text("power"))
        check("... and the relay event arrives in the list", until(lambda: any("Relay on (control)" in e for e in events()[:3])), events()[:3])
        shot("relay-on")

        plug.send_button("press")
        wait_for(lambda: False, 0.15)
        plug.send_button("release")
        check("a press of the plug's button: the page shows Off, live",
              until(lambda: text("power") == "Off" and any("button" in e for e in events()[:3])), (text("power"), events()[:3]))
        check("... without a reload (the page's state is still there)", driver.execute_script("return window.plugdMarker") == 42)
        check("... and the list grew", len(events()) > before, (before, len(events())))
        shot("button-pressed")

        driver.find_element(By.ID, "identify").click()
        check("identify: the LED blinks green (the page shows it) and the event is listed",
              until(lambda: "green" in text("led") and any("dentif" in e for e in events()[:3])), (text("led"), events()[:3]))
        shot("identify")

        driver.find_element(By.ID, "new-name").send_keys("desk lamp")
        driver.find_element(By.ID, "rename").click()
        check("rename: the header and plugd say desk lamp",
              until(lambda: text("name") == "desk lamp") and plug.status()["name"] == "desk lamp", text("name"))

        identity = plug.status()["identity"]
        driver.find_element(By.CSS_SELECTOR, "details summary").click()
        driver.find_element(By.CSS_SELECTOR, "[data-reset=factory-reset]").click()
        check("factory reset asks first, saying it cannot be undone",
              until(lambda: shown("confirm") and "cannot be undone" in text("confirm-text")), text("confirm-text"))
        shot("factory-reset-confirm")
        driver.find_element(By.ID, "confirm-no").click()
        check("cancel: nothing happens", not shown("confirm") and plug.status()["identity"] == identity)
        driver.find_element(By.CSS_SELECTOR, "[data-reset=factory-reset]").click()
        until(lambda: shown("confirm"))
        driver.find_element(By.ID, "confirm-yes").click()
        check("yes: plugd is a new plug (new identity)", wait_for(lambda: plug.status()["identity"] != identity, 10), plug.status())
        check("... and the page shows it live: the name is back to plugd, the event listed",
              until(lambda: text("name") == "plugd" and any("actory reset" in e for e in events()[:6]), 15), (text("name"), events()[:6]))
        shot("after-factory-reset")
        check("plugd ran throughout", plug.alive())
    finally:
        driver.quit()
        web.stop()
        plug.stop()
    print("screenshots: " + ", ".join(os.path.relpath(p, ROOT) for p in shots))
    finish(work)


if __name__ == "__main__":
    main()
