"""The offline server's dashboard page (``GET /_fake/ui``): the world, live, and controls.

The page is the report's picture plus a little plain JavaScript: every second it fetches
``/_fake/ui/world`` (the picture's sections, drawn by the server) and swaps them in; its
buttons call the existing control routes with ``X-Fake-Control-Key``. The key is typed
in, or given in the address's fragment (``/_fake/ui#key=...``: a fragment never reaches
a server or its logs); the page keeps it for the tab's session only. Without the key the
page still shows the world, and each control is refused with the server's 401.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pictograph_testing.picture.render import FILTER_SCRIPT, STYLE, escape, world_sections

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pictograph_testing.picture.view import Picture

__all__ = ["REFRESH_MS", "dashboard_page"]

REFRESH_MS = 1000
"""How often the page fetches the world again, in real milliseconds."""

_SCRIPT = """
const KEY_STORE = 'pictograph-fake-control-key';
const keyBox = document.getElementById('key');
const given = /(?:^#|&)key=([^&]*)/.exec(location.hash);
if (given) {
  // The server prints the key percent-encoded; a key typed in by hand may not be.
  let key = given[1];
  try { key = decodeURIComponent(key); } catch (notEncoded) { /* the key as typed */ }
  sessionStorage.setItem(KEY_STORE, key);
  history.replaceState(null, '', location.pathname + location.search);
}
keyBox.value = sessionStorage.getItem(KEY_STORE) || '';
keyBox.addEventListener('change', () => sessionStorage.setItem(KEY_STORE, keyBox.value));

function say(text, failed) {
  const status = document.getElementById('status');
  status.textContent = text;
  status.className = failed ? 'error' : '';
}

async function control(method, route, body) {
  const headers = {'Content-Type': 'application/json'};
  if (keyBox.value) headers['X-Fake-Control-Key'] = keyBox.value;
  const init = {method: method, headers: headers};
  if (body !== undefined) init.body = JSON.stringify(body);
  const answer = await fetch('/_fake' + route, init);
  const text = await answer.text();
  let parsed = null;
  try { parsed = JSON.parse(text); } catch (ignored) { parsed = null; }
  if (!answer.ok) {
    throw new Error(answer.status + ': ' + ((parsed && parsed.error) || text));
  }
  return parsed;
}

async function act(label, method, route, body) {
  try {
    const answer = await control(method, route, body);
    say(label + ': ' + describe(answer));
    await refresh();
    return answer;
  } catch (failure) {
    say(label + ' refused: ' + failure.message, true);
    return null;
  }
}

function describe(answer) {
  if (answer && answer.armed) return 'armed ' + answer.armed.join('; ');
  if (answer && answer.now) return 'now ' + answer.now;
  return 'done';
}

let refreshing = false;
async function refresh() {
  if (refreshing) return;
  refreshing = true;
  try {
    const answer = await fetch('/_fake/ui/world', {cache: 'no-store'});
    if (answer.ok) {
      document.getElementById('live').innerHTML = await answer.text();
      applyJournalFilter();
    }
  } catch (ignored) {
    // The server went away (or restarts): try again on the next tick.
  } finally {
    refreshing = false;
  }
}

function advance(seconds, label) {
  return act(label, 'POST', '/clock/advance', {seconds: seconds});
}

function nextEvent() {
  const due = document.getElementById('world').dataset.nextEvent;
  if (due === '') { say('nothing is due: no run is live'); return null; }
  return advance(Number(due), 'to the next event');
}

function setSpeed(speed) {
  return act(speed === 0 ? 'pause' : 'speed ' + speed, 'POST', '/clock/speed', {speed: speed});
}

function loadScenario() {
  const name = document.getElementById('scenario').value;
  return act('load ' + name, 'POST', '/snapshot', {scenario: name});
}

async function saveSnapshot() {
  try {
    const document_ = await control('GET', '/snapshot');
    const blob = new Blob([JSON.stringify(document_, null, 2)], {type: 'application/json'});
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = 'snapshot.json';
    link.click();
    URL.revokeObjectURL(link.href);
    say('snapshot saved as snapshot.json');
  } catch (failure) {
    say('save snapshot refused: ' + failure.message, true);
  }
}

function armFault() {
  const kind = document.getElementById('fault-kind').value;
  const value = document.getElementById('fault-value').value.trim();
  const spec = {kind: kind};
  if (kind === 'status') spec.status = value ? Number(value) : 503;
  if (kind === 'rate_limit') spec.requests = value ? Number(value) : 1;
  if (['run_failure', 'preemption', 'cancellation'].includes(kind) && value) spec.run = value;
  return act('arm ' + kind, 'POST', '/faults', spec);
}

document.querySelectorAll('[data-advance]').forEach((button) => {
  const seconds = Number(button.dataset.advance);
  button.addEventListener('click', () => advance(seconds, button.textContent));
});
const on = (id, handler) => document.getElementById(id).addEventListener('click', handler);
on('next-event', nextEvent);
on('pause', () => setSpeed(0));
on('set-speed', () => setSpeed(Number(document.getElementById('speed').value)));
on('reset', () => act('reset', 'POST', '/reset'));
on('load', loadScenario);
on('save', saveSnapshot);
on('arm', armFault);
on('disarm', () => act('disarm', 'DELETE', '/faults'));
document.getElementById('journal-filter').addEventListener('input', applyJournalFilter);
setInterval(refresh, REFRESH_MS);
"""

_FAULTS = (
    ("status", "fail the next request (status, default 503)"),
    ("rate_limit", "rate limit (requests per minute, default 1)"),
    ("run_failure", "fail a run (run name; empty: the next run)"),
    ("preemption", "preempt a run (run name; empty: the next run)"),
    ("cancellation", "cancel a run (run name; empty: the next run)"),
)


def dashboard_page(picture: Picture, scenario_names: Sequence[str], speed: float) -> str:
    """The whole page: controls, then the picture's sections, then the script."""
    scenarios = "".join(
        f'<option value="{escape(name)}">{escape(name)}</option>' for name in scenario_names
    )
    faults = "".join(f'<option value="{kind}">{escape(words)}</option>' for kind, words in _FAULTS)
    controls = (
        '<div class="controls">'
        "<fieldset><legend>clock</legend>"
        '<button data-advance="60">+1 min</button>'
        '<button data-advance="600">+10 min</button>'
        '<button data-advance="3600">+1 h</button>'
        '<button id="next-event">to the next event</button> '
        '<button id="pause">pause</button>'
        f'<input id="speed" type="number" min="0" step="any" value="{speed:g}" size="5" '
        'aria-label="virtual seconds per real second">'
        '<button id="set-speed">set speed</button></fieldset>'
        '<fieldset><legend>world</legend><button id="reset">reset</button> '
        f'<select id="scenario" aria-label="scenario">{scenarios}</select>'
        '<button id="load">load scenario</button> '
        '<button id="save">save snapshot</button></fieldset>'
        "<fieldset><legend>faults</legend>"
        f'<select id="fault-kind" aria-label="fault">{faults}</select>'
        '<input id="fault-value" size="12" aria-label="fault argument">'
        '<button id="arm">arm</button><button id="disarm">disarm all</button></fieldset>'
        "<fieldset><legend>control key</legend>"
        '<input id="key" type="password" size="24" autocomplete="off" '
        'aria-label="control key"></fieldset>'
        '<output id="status"></output>'
        "</div>"
    )
    script = _SCRIPT.replace("REFRESH_MS", str(REFRESH_MS))
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">'
        "<title>pictograph fake</title>"
        f"<style>{STYLE}</style></head>\n<body>\n"
        "<h1>pictograph fake</h1>\n"
        f"{controls}\n"
        '<p><label>Filter the journal <input id="journal-filter" type="search"></label></p>\n'
        f'<div id="live">{world_sections(picture)}</div>\n'
        f"<script>{FILTER_SCRIPT}{script}</script>\n</body></html>\n"
    )
