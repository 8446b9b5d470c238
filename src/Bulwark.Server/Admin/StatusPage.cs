namespace Bulwark.Server.Admin;

/// <summary>The status page: one self-contained HTML document (inline CSS and script, nothing loaded from elsewhere)
/// that fetches /status.json every second and renders members, the event timeline, leader history and write rate.</summary>
internal static class StatusPage
{
    public const string Html = """
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Bulwark status</title>
<style>
 body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1d2430; background: #f6f7f9; }
 h1 { font-size: 20px; margin: 0 0 .2em; } h2 { font-size: 16px; margin: 1.4em 0 .4em; }
 .sub { color: #5a6473; }
 table { border-collapse: collapse; background: #fff; box-shadow: 0 1px 2px #0002; }
 th, td { padding: 4px 10px; border-bottom: 1px solid #e3e6ea; text-align: left; white-space: nowrap; }
 th { background: #eef1f5; font-weight: 600; }
 td.num { text-align: right; font-variant-numeric: tabular-nums; }
 .state { font-weight: 700; padding: 1px 6px; border-radius: 3px; }
 .UP { background: #d8f3dc; color: #1b5e20; } .SUSPECT { background: #fff3bf; color: #8a5a00; } .DOWN { background: #ffd6d6; color: #9b1c1c; }
 tr.down td { color: #9b1c1c; }
 .LEADER { font-weight: 700; color: #0b5cad; }
 #events td { font-family: ui-monospace, monospace; font-size: 12px; }
 .cards { display: flex; gap: 1em; } .card { background: #fff; padding: .6em 1em; box-shadow: 0 1px 2px #0002; }
 .card b { display: block; font-size: 20px; }
 #error { color: #9b1c1c; }
</style>
</head>
<body>
<h1>Bulwark <span id="node"></span></h1>
<div class="sub">this page refreshes every second &middot; <span id="time"></span> <span id="error"></span></div>
<div class="cards">
 <div class="card">leader<b id="leader">-</b></div>
 <div class="card">term<b id="term">-</b></div>
 <div class="card">writes / s<b id="rate">-</b></div>
 <div class="card">members up<b id="up">-</b></div>
</div>
<h2>Members</h2>
<table id="members"><thead><tr><th>name</th><th>id</th><th>role</th><th>term</th><th>commit</th><th>applied</th><th>lag</th><th>state</th><th>phi</th><th>rtt ms</th><th>reason</th></tr></thead><tbody></tbody></table>
<h2>Leader history</h2>
<table id="leaders"><thead><tr><th>time (UTC)</th><th>term</th><th>leader</th></tr></thead><tbody></tbody></table>
<h2>Recent events</h2>
<table id="events"><thead><tr><th>time (UTC)</th><th>event</th><th>node</th><th>details</th></tr></thead><tbody></tbody></table>
<script>
"use strict";
function cell(row, text, cls) { const td = document.createElement("td"); td.textContent = text; if (cls) td.className = cls; row.appendChild(td); return td; }
function fill(id, items, render) { const body = document.querySelector("#" + id + " tbody"); body.replaceChildren(...items.map(render)); }
function when(ts) { return String(ts).replace("T", " ").replace(/\.\d+.*$/, "").replace(/Z$/, ""); }
function details(e) { const parts = []; if (e.reason) parts.push(e.reason); if (e.fields) for (const k in e.fields) parts.push(k + "=" + (Array.isArray(e.fields[k]) ? e.fields[k].join(",") : e.fields[k])); return parts.join(" "); }
async function refresh() {
  try {
    const response = await fetch("/status.json", { cache: "no-store" });
    const s = await response.json();
    document.getElementById("node").textContent = s.node + " (" + s.id + ")";
    document.getElementById("time").textContent = when(s.time) + " UTC";
    document.getElementById("leader").textContent = s.leader || "none";
    document.getElementById("term").textContent = s.term;
    document.getElementById("rate").textContent = s.writeRate.toFixed(1);
    document.getElementById("up").textContent = s.members.filter(m => m.peerState !== "DOWN").length + " / " + s.members.length;
    document.getElementById("error").textContent = "";
    fill("members", s.members, m => {
      const tr = document.createElement("tr"); tr.className = m.peerState === "DOWN" ? "down" : ""; tr.dataset.member = m.name; tr.dataset.state = m.peerState;
      cell(tr, m.name + (m.self ? " (this node)" : "")); cell(tr, m.id); cell(tr, m.role, m.role);
      cell(tr, m.term, "num"); cell(tr, m.commit, "num"); cell(tr, m.applied, "num"); cell(tr, m.lag, "num");
      const st = cell(tr, ""); const badge = document.createElement("span"); badge.className = "state " + m.peerState; badge.textContent = m.peerState; st.appendChild(badge);
      cell(tr, m.phi.toFixed(1), "num"); cell(tr, m.roundTripMs == null ? "-" : m.roundTripMs.toFixed(1), "num"); cell(tr, m.reason);
      return tr;
    });
    fill("leaders", s.leaderHistory.slice().reverse(), l => { const tr = document.createElement("tr"); cell(tr, when(l.timestamp)); cell(tr, l.term, "num"); cell(tr, l.leaderName); return tr; });
    fill("events", s.events, e => { const tr = document.createElement("tr"); cell(tr, when(e.timestamp)); cell(tr, e.kind); cell(tr, e.node || ""); cell(tr, details(e)); return tr; });
  } catch (err) {
    document.getElementById("error").textContent = "cannot reach this node: " + err;
  }
}
refresh();
setInterval(refresh, 1000);
</script>
</body>
</html>
""";
}
