"""An attacker's web site on loopback, for the tests that attack the control surface from a real page.

The developer's browser opens a page of some other site while the broker and the portal run; that page
may send requests to 127.0.0.1. `AttackerSite("127.0.0.2")` is another *site* (a different host: the
browser sends `Sec-Fetch-Site: cross-site`); `AttackerSite("127.0.0.1")` is another port of the same
host: the same site but another origin (`same-site`), which SameSite=Lax cookies do not tell apart.
A test puts the pages it needs with `page(path, html)`; the server serves them, and nothing else.
"""

from __future__ import annotations

import html
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# A DNS-rebinding attacker's name: its page was served from it, then it resolves to 127.0.0.1. The
# rebinding browser (REBIND_ARGS) resolves it so. Chromium's Private Network Access would block that
# page's requests to loopback; Firefox and Safari have no such thing, so the servers must refuse by
# themselves, and this browser has it off.
REBIND_NAME = "rebind.test"
REBIND_ARGS = [f"--host-resolver-rules=MAP {REBIND_NAME} 127.0.0.1",
               "--disable-features=BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessSendPreflights,"
               "LocalNetworkAccessChecks"]


class AttackerSite:
    def __init__(self, host: str):
        self.pages: dict[str, str] = {}
        self.requested: list[str] = []  # every path asked for, by the browser or by anyone else
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                site.requested.append(self.path)
                body = site.pages.get(self.path.split("?")[0])
                if body is None:
                    self.send_error(404)
                    return
                data = body.encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.base_url = f"http://{host}:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def page(self, path: str, body: str) -> str:
        self.pages[path] = body
        return self.base_url + path

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def form_page(action: str, fields: dict[str, str], *, enctype: str | None = None) -> str:
    """A page that submits a form to `action` as soon as it loads (a classic CSRF page)."""
    inputs = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                     for k, v in fields.items())
    enc = f' enctype="{enctype}"' if enctype else ""
    return (f'<!doctype html><title>cute cats</title><form method="post" action="{html.escape(action)}"{enc}>'
            f"{inputs}</form><script>document.forms[0].submit()</script>")


def script_page(calls: list[dict]) -> str:
    """A page that makes each call with fetch() (or navigator.sendBeacon), records what it could see in
    window.results, and sets window.done. A call: {url, method, body, headers, mode, beacon}."""
    return ("<!doctype html><title>cute cats</title><script>\n"
            f"const calls = {json.dumps(calls)};\n"
            """window.results = [];
(async () => {
  for (const c of calls) {
    try {
      if (c.beacon) { window.results.push({url: c.url, sent: navigator.sendBeacon(c.url, c.body)}); continue; }
      const r = await fetch(c.url, {method: c.method || "GET", body: c.body, headers: c.headers || {},
                                    mode: c.mode || "cors", credentials: "include"});
      let text = "";
      try { text = await r.text(); } catch (e) { text = "(unreadable)"; }
      window.results.push({url: c.url, status: r.status, type: r.type, text: text});
    } catch (e) {
      window.results.push({url: c.url, error: String(e)});
    }
  }
  window.done = true;
})();
</script>""")
