"""Capture docs/tensorboard_gradients.png from a running TensorBoard with headless Chromium.

Chromium is driven over its DevTools protocol (tornado's websocket client): open the Time
Series dashboard filtered to some layers' ``kernel_grad_norm``, widen the cards so that
their titles show, switch every card to a log y-axis, close the settings pane, screenshot.

    PYTHONPATH=. python docs/tensorboard_runs.py runs/gradients
    tensorboard --logdir runs/gradients --host 127.0.0.1 --port 6006 &
    URL="http://127.0.0.1:6006/?smoothing=0&runFilter=train"
    python docs/tensorboard_screenshot.py \\
        "$URL&tagFilter=(L01|L04|L08|L11)/kernel_grad_norm#timeseries" \\
        docs/tensorboard_gradients.png
"""
import asyncio
import base64
import json
import subprocess
import sys
import time
import urllib.request

from tornado import ioloop, websocket

WIDTH, HEIGHT, PORT = 1800, 1060, 9333


def _page_socket():
    for _ in range(50):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/json") as r:
                pages = json.load(r)
            return next(p for p in pages if p["type"] == "page")["webSocketDebuggerUrl"]
        except (OSError, StopIteration, ValueError):
            time.sleep(0.3)
    raise RuntimeError("Chromium's DevTools endpoint did not come up")


async def _capture(url, out):
    ws = await websocket.websocket_connect(_page_socket(), max_message_size=1 << 28)
    counter = [0]

    async def call(method, **params):
        counter[0] += 1
        ws.write_message(json.dumps({"id": counter[0], "method": method, "params": params}))
        while True:
            msg = json.loads(await ws.read_message())
            if msg.get("id") == counter[0]:
                return msg.get("result", msg)

    async def js(code):
        result = await call("Runtime.evaluate", expression=code, awaitPromise=True,
                            returnByValue=True)
        return result.get("result", {}).get("value")

    await call("Emulation.setDeviceMetricsOverride", width=WIDTH, height=HEIGHT,
               deviceScaleFactor=1, mobile=False)
    await call("Page.navigate", url=url)
    await asyncio.sleep(10)   # the dashboard loads its data
    menus = 'button[aria-label="More line chart options"]'
    for k in range(await js(f"document.querySelectorAll('{menus}').length")):
        await js(f"document.querySelectorAll('{menus}')[{k}].click()")
        await asyncio.sleep(0.5)
        await js("""(() => { const item = [...document.querySelectorAll('[role=menuitem]')]
            .find(i => /log scale/i.test(i.innerText));
            if (item) item.click(); else document.body.click(); })()""")
        await asyncio.sleep(0.5)
    # the first range input of the settings pane is the card width
    await js("""(() => { const s = document.querySelector('input[type=range]');
        const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
        set.call(s, 490); s.dispatchEvent(new Event('input', {bubbles: true}));
        s.dispatchEvent(new Event('change', {bubbles: true})); })()""")
    await asyncio.sleep(2)
    await js("""document.querySelector('button[aria-label="Toggle settings side pane"]')
        .click()""")
    await asyncio.sleep(2)
    await js("[...document.querySelectorAll('*')].forEach(e => { e.scrollTop = 0; })")
    await asyncio.sleep(6)
    shot = await call("Page.captureScreenshot", format="png")
    with open(out, "wb") as f:
        f.write(base64.b64decode(shot["data"]))


def main(url, out):
    chrome = subprocess.Popen(
        ["chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
         "--enable-unsafe-swiftshader", "--hide-scrollbars", f"--remote-debugging-port={PORT}",
         f"--window-size={WIDTH},{HEIGHT}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ioloop.IOLoop.current().run_sync(lambda: _capture(url, out), timeout=180)
    finally:
        chrome.terminate()
        chrome.wait()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
