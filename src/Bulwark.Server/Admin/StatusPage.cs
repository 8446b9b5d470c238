using System.Globalization;
using System.Net;
using System.Text;
using Bulwark.Server.Observability;

namespace Bulwark.Server.Admin;

/// <summary>
/// The status page: one self-contained HTML document (inline CSS and script, nothing loaded from elsewhere). GET /
/// answers it with the current <see cref="StatusDocument"/> already rendered, so the first paint shows the cluster
/// (also with JavaScript disabled, and at once after a failover); its script then refreshes the same elements from
/// /status.json every second. Everything from the document is HTML-escaped: member names are operator input. The C#
/// rendering here and the script's must produce the same markup (same ids, classes and data- attributes).
/// </summary>
internal static class StatusPage
{
    public static string Render(StatusDocument status)
    {
        ArgumentNullException.ThrowIfNull(status);
        var html = new StringBuilder(16 * 1024);
        html.Append(Head);
        html.Append("<h1>Bulwark <span id=\"node\">").Append(Esc(status.Node + " (" + status.Id + ")")).Append("</span></h1>\n");
        html.Append("<div class=\"sub\">rendered by this member; with JavaScript it refreshes every second &middot; <span id=\"time\">")
            .Append(Esc(When(status.Time))).Append(" UTC</span> <span id=\"error\"></span></div>\n");
        html.Append("<div class=\"cards\">\n");
        Card(html, "leader", "leader", status.Leader.Length == 0 ? "none" : status.Leader);
        Card(html, "term", "term", Num(status.Term));
        Card(html, "writes / s", "rate", status.WriteRate.ToString("F1", CultureInfo.InvariantCulture));
        Card(html, "members up", "up", status.Members.Count(m => m.PeerState != "DOWN") + " / " + status.Members.Count);
        Card(html, "alarms", "alarms", status.Alarms.Count == 0 ? "none" : string.Join(", ", status.Alarms));
        html.Append("</div>\n<h2>Members</h2>\n<table id=\"members\"><thead><tr>");
        foreach (var column in MemberColumns)
        {
            html.Append("<th>").Append(column).Append("</th>");
        }

        html.Append("</tr></thead><tbody>");
        foreach (var member in status.Members)
        {
            MemberRow(html, member);
        }

        html.Append("</tbody></table>\n<h2>Leader history</h2>\n<table id=\"leaders\"><thead><tr><th>time (UTC)</th><th>term</th><th>leader</th></tr></thead><tbody>");
        foreach (var change in status.LeaderHistory.Reverse())
        {
            html.Append("<tr>");
            Cell(html, When(change.Timestamp));
            Cell(html, Num(change.Term), "num");
            Cell(html, change.LeaderName);
            html.Append("</tr>");
        }

        html.Append("</tbody></table>\n<h2>Recent events</h2>\n<table id=\"events\"><thead><tr><th>time (UTC)</th><th>event</th><th>node</th><th>details</th></tr></thead><tbody>");
        foreach (var e in status.Events)
        {
            html.Append("<tr>");
            Cell(html, When(e.Timestamp));
            Cell(html, e.Kind);
            Cell(html, e.Node ?? "");
            Cell(html, Details(e));
            html.Append("</tr>");
        }

        html.Append("</tbody></table>\n");
        html.Append(Script);
        return html.ToString();
    }

    /// <summary>What / answers before the node started: no state to render yet, so say so and reload shortly.</summary>
    public static string Starting(string node) =>
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"1\"><title>Bulwark status</title></head>"
        + "<body><h1>Bulwark " + Esc(node) + "</h1><p>this member is starting; the page reloads every second</p></body></html>\n";

    private static readonly string[] MemberColumns =
    [
        "name", "id", "role", "state", "term", "commit", "applied", "lag", "revision", "compacted", "keys", "uptime", "restarts",
        "alarms", "put p50 ms", "put p99 ms", "version", "phi", "rtt ms", "reason",
    ];

    private static void MemberRow(StringBuilder html, MemberView m)
    {
        html.Append("<tr class=\"").Append(m.PeerState == "DOWN" ? "down" : "").Append("\" data-member=\"").Append(Esc(m.Name))
            .Append("\" data-state=\"").Append(Esc(m.PeerState)).Append("\">");
        Cell(html, m.Name + (m.Self ? " (this node)" : ""));
        Cell(html, m.Id);
        Cell(html, m.Role, m.Role);
        html.Append("<td><span class=\"state ").Append(Esc(m.PeerState)).Append("\">").Append(Esc(m.PeerState)).Append("</span></td>");
        Cell(html, Num(m.Term), "num");
        Cell(html, Num(m.Commit), "num");
        Cell(html, Num(m.Applied), "num");
        Cell(html, Num(m.Lag), "num");
        var v = m.Vitals;
        Cell(html, v is null ? "-" : Num(v.Revision), "num");
        Cell(html, v is null ? "-" : Num(v.CompactRevision), "num");
        Cell(html, v is null ? "-" : Num(v.Keys), "num");
        Cell(html, v is null ? "-" : Uptime(v.UptimeSeconds), "num");
        Cell(html, v is null ? "-" : Num(v.Restarts), "num");
        Cell(html, v is null ? "-" : v.Alarms.Count == 0 ? "none" : string.Join(", ", v.Alarms), v is { Alarms.Count: > 0 } ? "alarm" : null);
        Cell(html, Millis(v?.PutP50Ms), "num");
        Cell(html, Millis(v?.PutP99Ms), "num");
        Cell(html, v?.Version ?? "-");
        Cell(html, m.Phi.ToString("F1", CultureInfo.InvariantCulture), "num");
        Cell(html, Millis(m.RoundTripMs), "num");
        Cell(html, m.Reason);
        html.Append("</tr>");
    }

    private static void Card(StringBuilder html, string label, string id, string value) =>
        html.Append(" <div class=\"card\">").Append(label).Append("<b id=\"").Append(id).Append("\">").Append(Esc(value)).Append("</b></div>\n");

    private static void Cell(StringBuilder html, string text, string? cls = null)
    {
        html.Append("<td");
        if (cls is not null)
        {
            html.Append(" class=\"").Append(Esc(cls)).Append('"');
        }

        html.Append('>').Append(Esc(text)).Append("</td>");
    }

    /// <summary>HTML-escapes text for element content and double-quoted attributes (&amp; &lt; &gt; &quot; &#39;).</summary>
    internal static string Esc(string text) => WebUtility.HtmlEncode(text);

    private static string Num<T>(T value) where T : IFormattable => value.ToString(null, CultureInfo.InvariantCulture);

    private static string Millis(double? ms) => ms is { } value ? value.ToString("F1", CultureInfo.InvariantCulture) : "-";

    private static string When(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    /// <summary>Uptime the way people read it: the two largest units (as the script's uptime()).</summary>
    internal static string Uptime(double seconds)
    {
        var s = (long)Math.Max(0, Math.Floor(seconds));
        var (d, h, m) = (s / 86400, s / 3600 % 24, s / 60 % 60);
        return d > 0 ? $"{d}d {h}h" : h > 0 ? $"{h}h {m}m" : m > 0 ? $"{m}m {s % 60}s" : $"{s}s";
    }

    private static string Details(JournalEvent e)
    {
        var parts = new List<string>();
        if (e.Reason is not null)
        {
            parts.Add(e.Reason);
        }

        foreach (var (key, value) in e.Fields ?? new Dictionary<string, object>())
        {
            var text = value switch
            {
                string str => str,
                IEnumerable<string> list => string.Join(",", list),
                double d => d.ToString(CultureInfo.InvariantCulture),
                _ => Convert.ToString(value, CultureInfo.InvariantCulture),
            };
            parts.Add(key + "=" + text);
        }

        return string.Join(" ", parts);
    }

    private const string Head = """
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
 td.alarm { font-weight: 700; color: #9b1c1c; }
 .LEADER { font-weight: 700; color: #0b5cad; }
 #events td { font-family: ui-monospace, monospace; font-size: 12px; }
 .cards { display: flex; gap: 1em; } .card { background: #fff; padding: .6em 1em; box-shadow: 0 1px 2px #0002; }
 .card b { display: block; font-size: 20px; }
 #error { color: #9b1c1c; }
</style>
</head>
<body>

""";

    private const string Script = """
<script>
"use strict";
function cell(row, text, cls) { const td = document.createElement("td"); td.textContent = text; if (cls) td.className = cls; row.appendChild(td); return td; }
function fill(id, items, render) { const body = document.querySelector("#" + id + " tbody"); body.replaceChildren(...items.map(render)); }
function when(ts) { return String(ts).replace("T", " ").replace(/\.\d+.*$/, "").replace(/(Z|[+-]\d\d:\d\d)$/, ""); }
function ms(v) { return v == null ? "-" : v.toFixed(1); }
function uptime(sec) {
  const s = Math.max(0, Math.floor(sec)), d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60;
  return d > 0 ? d + "d " + h + "h" : h > 0 ? h + "h " + m + "m" : m > 0 ? m + "m " + (s % 60) + "s" : s + "s";
}
function details(e) { const parts = []; if (e.reason) parts.push(e.reason); if (e.fields) for (const k in e.fields) parts.push(k + "=" + (Array.isArray(e.fields[k]) ? e.fields[k].join(",") : e.fields[k])); return parts.join(" "); }
function text(id, value) { document.getElementById(id).textContent = value; }
async function refresh() {
  try {
    const response = await fetch("/status.json", { cache: "no-store" });
    const s = await response.json();
    text("node", s.node + " (" + s.id + ")");
    text("time", when(s.time) + " UTC");
    text("leader", s.leader || "none");
    text("term", s.term);
    text("rate", s.writeRate.toFixed(1));
    text("up", s.members.filter(m => m.peerState !== "DOWN").length + " / " + s.members.length);
    text("alarms", s.alarms.length === 0 ? "none" : s.alarms.join(", "));
    text("error", "");
    fill("members", s.members, m => {
      const tr = document.createElement("tr"); tr.className = m.peerState === "DOWN" ? "down" : ""; tr.dataset.member = m.name; tr.dataset.state = m.peerState;
      cell(tr, m.name + (m.self ? " (this node)" : "")); cell(tr, m.id); cell(tr, m.role, m.role);
      const st = cell(tr, ""); const badge = document.createElement("span"); badge.className = "state " + m.peerState; badge.textContent = m.peerState; st.appendChild(badge);
      cell(tr, m.term, "num"); cell(tr, m.commit, "num"); cell(tr, m.applied, "num"); cell(tr, m.lag, "num");
      const v = m.vitals;
      cell(tr, v ? v.revision : "-", "num"); cell(tr, v ? v.compactRevision : "-", "num"); cell(tr, v ? v.keys : "-", "num");
      cell(tr, v ? uptime(v.uptimeSeconds) : "-", "num"); cell(tr, v ? v.restarts : "-", "num");
      cell(tr, !v ? "-" : v.alarms.length === 0 ? "none" : v.alarms.join(", "), v && v.alarms.length > 0 ? "alarm" : null);
      cell(tr, ms(v && v.putP50Ms), "num"); cell(tr, ms(v && v.putP99Ms), "num"); cell(tr, v ? v.version : "-");
      cell(tr, m.phi.toFixed(1), "num"); cell(tr, ms(m.roundTripMs), "num"); cell(tr, m.reason);
      return tr;
    });
    fill("leaders", s.leaderHistory.slice().reverse(), l => { const tr = document.createElement("tr"); cell(tr, when(l.timestamp)); cell(tr, l.term, "num"); cell(tr, l.leaderName); return tr; });
    fill("events", s.events, e => { const tr = document.createElement("tr"); cell(tr, when(e.timestamp)); cell(tr, e.kind); cell(tr, e.node || ""); cell(tr, details(e)); return tr; });
  } catch (err) {
    text("error", "cannot reach this node: " + err);
  }
}
setInterval(refresh, 1000);
</script>
</body>
</html>

""";
}
