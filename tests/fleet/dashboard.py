#!/usr/bin/python3
"""otakit fleet serve's dashboard in headless Chromium (Debian's chromium, chromium-driver
and python3-selenium).

  dashboard.py check URL TOKEN FEEDBACK_URL DEVICE_TOKEN
      log in (a wrong token first), compare every number the page shows with /rest/v1,
      post FEEDBACK_URL (a success, as DEVICE_TOKEN) and wait for the page to show it,
      search the device list, find the failures' details; no SEVERE console entry
      beyond the wrong token's 401s. Prints "ok ..." / "FAIL: ..." lines; exit 1 on a
      failure.
  dashboard.py screenshot URL TOKEN OUT.png
      log in and save the whole page as a PNG.

Waits are bounded (WebDriverWait, 15 s) and end as soon as the page shows the state.
"""
import json
import sys
import tempfile
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

WAIT_S = 15
failed = 0


def check(desc, cond, detail=""):
    global failed
    if cond:
        print(f"ok   {desc}")
    else:
        failed += 1
        print(f"FAIL: {desc} {detail}", file=sys.stderr)


def browser(profile):
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
              "--no-first-run", "--no-default-browser-check", "--disable-extensions",
              "--window-size=1280,900", f"--user-data-dir={profile}"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


class Api:
    def __init__(self, base, token):
        self.base, self.token = base, token

    def get(self, path):
        req = urllib.request.Request(self.base + path,
                                     headers={"Authorization": "Bearer " + self.token})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.load(r)


def login(d, url, token):
    d.get(url)
    d.find_element(By.ID, "token").send_keys(token)
    d.find_element(By.CSS_SELECTOR, "#login button[type=submit]").click()


def wait(d, what, cond):
    try:
        WebDriverWait(d, WAIT_S, poll_frequency=0.1).until(lambda _: cond())
        return True
    except Exception:  # a timeout: the check that follows says what is wrong
        print(f"     (waited {WAIT_S} s for {what})", file=sys.stderr)
        return False


# Read in one script turn: the page re-renders on each poll, so element handles held
# across calls would go stale.
PAGE_JS = """
const n = (e, css) => parseInt(e.querySelector(css).textContent, 10);
const states = (root) => Object.fromEntries([...root.querySelectorAll(":scope > ul.states li")]
  .map((li) => [li.dataset.state, n(li, ".n")]));
const out = {fleet: Object.fromEntries([...document.querySelectorAll("#fleet-states li")]
  .map((li) => [li.dataset.state, n(li, ".n")])), rollouts: {}};
for (const div of document.querySelectorAll("#rollouts .rollout")) {
  const r = {states: states(div), groups: {}, status: div.querySelector(".status").textContent};
  for (const tr of div.querySelectorAll("tbody tr")) {
    const g = {};
    for (const td of tr.querySelectorAll("td[data-k]")) {
      g[td.dataset.k] = td.dataset.k === "status" ? td.textContent : parseInt(td.textContent, 10);
    }
    g.states = Object.fromEntries([...tr.querySelectorAll(".bar span")]
      .map((s) => [s.dataset.state, parseInt(s.dataset.n, 10)]));
    r.groups[tr.dataset.group] = g;
  }
  out.rollouts[div.dataset.rollout] = r;
}
return JSON.stringify(out);
"""


def page_numbers(d):
    """Every number the page shows: fleet states, per rollout its states and groups."""
    j = json.loads(d.execute_script(PAGE_JS))
    return {"fleet": j["fleet"],
            "rollouts": {int(k): dict(r, groups={int(i): g for i, g in r["groups"].items()})
                         for k, r in j["rollouts"].items()}}


def table(d, css, cols):
    """The rows of a table: [data-device, data-state, the text of td[data-k=col]...]."""
    return d.execute_script("""
      return [...document.querySelectorAll(arguments[0] + " tbody tr")].map((tr) =>
        [tr.dataset.device, tr.dataset.state].concat(arguments[1].map((k) =>
          tr.querySelector(`td[data-k=${k}]`).textContent)));""", css, cols)


def api_numbers(api):
    """The same numbers from /rest/v1: the summary's states, each rollout's groups from
    /rest/v1/rollouts/{id} (the API the CLI shows), the group states from the summary."""
    s = api.get("rest/v1/summary")
    out = {"fleet": s["devices"]["states"], "rollouts": {}}
    for r in s["rollouts"]:
        show = api.get(f"rest/v1/rollouts/{r['id']}")
        by_state = {g["index"]: g["states"] for g in r["groups"]}
        groups = {}
        for g in show["groups"]:
            groups[g["index"]] = {"index": g["index"] + 1, "status": g["status"],
                                  "devices": g["devices"], "finished": g["finished"],
                                  "error": g["error"], "canceled": g["canceled"],
                                  "open": g["open"],
                                  "states": {k: v for k, v in by_state[g["index"]].items() if v}}
        out["rollouts"][r["id"]] = {"states": r["states"], "groups": groups,
                                    "status": show["status"]}
    return out, s


def severe(d):
    return [e for e in d.get_log("browser") if e.get("level") == "SEVERE"]


def run_check(url, token, feedback_url, device_token):
    api = Api(url, token)
    with tempfile.TemporaryDirectory() as profile:
        d = browser(profile)
        try:
            d.get(url)
            check("the page opens on the login form",
                  d.find_element(By.ID, "login").is_displayed() and
                  not d.find_element(By.ID, "main").is_displayed())
            login(d, url, "not-the-admin-token-0000")
            wait(d, "the refusal", lambda: d.find_element(By.ID, "login-error").text)
            check("a wrong token is refused on the page",
                  "refused" in d.find_element(By.ID, "login-error").text and
                  not d.find_element(By.ID, "main").is_displayed())
            bad = severe(d)
            check("the wrong token's only console errors are its 401s",
                  all(" 401 " in e["message"] for e in bad), str(bad))
            check("a wrong token is not kept",
                  d.execute_script("return sessionStorage.length") == 0)

            d.find_element(By.ID, "token").send_keys(token)
            d.find_element(By.CSS_SELECTOR, "#login button[type=submit]").click()
            wait(d, "the first update",
                 lambda: d.find_element(By.ID, "status").get_attribute("data-updated"))
            check("logged in: the dashboard shows", d.find_element(By.ID, "main").is_displayed())
            check("the token is kept in sessionStorage, not the URL",
                  d.execute_script("return sessionStorage.getItem('otakit-fleet-token')") ==
                  token and token not in d.current_url)

            want, s = api_numbers(api)
            got = page_numbers(d)
            check("the fleet's devices by state equal the API's", got["fleet"] == want["fleet"],
                  f"page {got['fleet']} api {want['fleet']}")
            check("every rollout is shown", set(got["rollouts"]) == set(want["rollouts"]))
            for rid, r in want["rollouts"].items():
                g = got["rollouts"].get(rid, {})
                check(f"rollout {rid}: status as the API's", g.get("status") == r["status"])
                check(f"rollout {rid}: devices by state equal the API's",
                      g.get("states") == r["states"], f"page {g.get('states')} api {r['states']}")
                check(f"rollout {rid}: every group's numbers equal /rest/v1/rollouts/{rid}",
                      g.get("groups") == r["groups"], f"page {g.get('groups')} api {r['groups']}")
            running = [r for r in s["rollouts"] if r["status"] == "running"]
            check("a running rollout is on the page", len(running) == 1)

            # Live: a device reports success; the page follows without a reload.
            rid = running[0]["id"]
            before = running[0]["states"]["upToDate"]
            req = urllib.request.Request(
                feedback_url, method="POST",
                data=b'{"status":{"execution":"closed","result":{"finished":"success"}}}',
                headers={"Authorization": "TargetToken " + device_token,
                         "Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=10) as r:
                check("the device's feedback is taken", r.status == 200)
            wait(d, "the new count",
                 lambda: page_numbers(d)["rollouts"][rid]["states"]["upToDate"] == before + 1)
            want, s = api_numbers(api)
            got = page_numbers(d)
            check("live: the page shows the new success without a reload",
                  got["rollouts"][rid]["states"]["upToDate"] == before + 1)
            check("live: every number still equals the API's", got == want,
                  f"page {got} api {want}")

            # The device list and its search.
            rows = lambda: table(d, "#devices", [])
            total = api.get("rest/v1/summary/devices")["total"]
            check("the device list shows every device", len(rows()) == total == len(
                api.get("rest/v1/devices")))
            d.find_element(By.ID, "search").send_keys("GARAGE")
            want_ids = [v["controllerId"] for v in
                        api.get("rest/v1/summary/devices?q=garage")["devices"]]
            wait(d, "the search", lambda: len(rows()) == len(want_ids))
            ids = [row[0] for row in rows()]
            check("search: only the matching devices (any case)", ids == want_ids and
                  len(ids) > 0 and all("garage" in i for i in ids) and len(ids) < total,
                  str(ids))
            Select(d.find_element(By.ID, "state-filter")).select_by_value("upToDate")
            wait(d, "the state filter",
                 lambda: rows() and all(row[1] == "upToDate" for row in rows()))
            ids2 = [row[0] for row in rows()]
            check("search and state: the API's answer", ids2 == [
                v["controllerId"] for v in
                api.get("rest/v1/summary/devices?q=garage&state=upToDate")["devices"]], str(ids2))
            d.find_element(By.ID, "search").clear()
            Select(d.find_element(By.ID, "state-filter")).select_by_value("")
            d.find_element(By.ID, "search").send_keys("x")
            d.find_element(By.ID, "search").send_keys("\b")
            wait(d, "the whole list again", lambda: len(rows()) == total)
            check("search cleared: every device again", len(rows()) == total)

            # The failures with each device's last details, shown as text.
            fails = s["failures"]["recent"]
            shown = {row[0]: row[2] for row in table(d, "#failures", ["details"])}
            check("every failure is listed", len(shown) == len(fails) == s["failures"]["total"]
                  and len(fails) > 0)
            for f in fails:
                check(f"failure of {f['controllerId']}: its last details, as text",
                      shown.get(f["controllerId"]) == "; ".join(f["details"]),
                      repr(shown.get(f["controllerId"])))
            check("device text never became markup",
                  not d.find_elements(By.CSS_SELECTOR, "#failures td b"))

            bad = severe(d)
            check("no SEVERE entry in the console after logging in",
                  not [e for e in bad if " 401 " not in e["message"]], str(bad))
        finally:
            d.quit()
    return 1 if failed else 0


def run_screenshot(url, token, out):
    with tempfile.TemporaryDirectory() as profile:
        d = browser(profile)
        try:
            login(d, url, token)
            wait(d, "the first update",
                 lambda: d.find_element(By.ID, "status").get_attribute("data-updated"))
            h = d.execute_script("return document.documentElement.scrollHeight")
            d.set_window_size(1280, min(max(h, 600), 1400))
            d.save_screenshot(out)
            bad = severe(d)
            if bad:
                print(f"console errors: {bad}", file=sys.stderr)
                return 1
        finally:
            d.quit()
    return 0


def main(argv):
    if len(argv) == 6 and argv[1] == "check":
        return run_check(argv[2], argv[3], argv[4], argv[5])
    if len(argv) == 5 and argv[1] == "screenshot":
        return run_screenshot(argv[2], argv[3], argv[4])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
