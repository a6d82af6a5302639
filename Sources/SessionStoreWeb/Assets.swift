/// The web view's stylesheet and its one script, served from the same origin
/// (`/assets/web.css`, `/assets/live.js`): no file is fetched from anywhere else, and the
/// Content-Security-Policy allows no inline script.
enum Assets {
    /// `Cache-Control` of the assets: they change only with the build.
    static let cacheControl = "public, max-age=300"

    static let stylesheet = """
        :root { --ink: #1d232b; --muted: #5d6875; --line: #d9dee4; --band: #f4f6f8; --accent: #1f5fa8;
          --good: #1d7a3e; --bad: #b3261e; --warn: #9a6400; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: var(--ink); }
        header { display: flex; align-items: center; gap: 24px; padding: 10px 24px; background: #18212c; color: #fff; }
        header .brand { font-weight: 600; letter-spacing: .02em; }
        header nav a { color: #c9d6e3; text-decoration: none; margin-right: 16px; }
        header nav a.here { color: #fff; border-bottom: 2px solid #6fa8e8; }
        header form.logout { margin: 0; }
        header .live { margin-left: auto; font-size: 12px; padding: 2px 8px; border-radius: 10px; background: #3a4653; }
        header .live.on { background: var(--good); }
        header .live.off { background: var(--warn); }
        main { padding: 16px 24px 40px; max-width: 1400px; }
        h1 { font-size: 20px; margin: 4px 0 12px; }
        h2 { font-size: 15px; margin: 22px 0 8px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
        table { border-collapse: collapse; width: 100%; }
        th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { background: var(--band); font-weight: 600; font-size: 12px; color: var(--muted); }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
        code, .key { font-family: "DejaVu Sans Mono", ui-monospace, monospace; font-size: 12.5px; }
        a { color: var(--accent); }
        .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(400px, 1fr)); gap: 8px 28px; }
        .cards { display: flex; gap: 12px; flex-wrap: wrap; }
        .card { border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; min-width: 150px; }
        .card .figure { font-size: 24px; font-weight: 600; }
        .card .label { color: var(--muted); font-size: 12px; }
        .state { font-size: 12px; padding: 1px 7px; border-radius: 9px; background: var(--band); }
        .state.idle, .state.active, .state.running, .state.succeeded { color: var(--good); }
        .state.failed, .state.expired, .state.canceled { color: var(--bad); }
        .near { color: var(--bad); font-weight: 600; }
        form.filters { display: flex; gap: 8px; flex-wrap: wrap; align-items: end; margin-bottom: 12px; }
        form.filters label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); }
        input, select, button { font: inherit; padding: 4px 6px; }
        tr.new { animation: arrive 2s ease-out; }
        @keyframes arrive { from { background: #fff4c2; } to { background: transparent; } }
        .muted { color: var(--muted); }
        .pager { margin-top: 10px; }
        dl.fields { display: grid; grid-template-columns: max-content 1fr; gap: 3px 16px; margin: 0; }
        dl.fields dt { color: var(--muted); }
        dl.fields dd { margin: 0; }
        ul.tree { margin: 0; padding-left: 18px; }
        pre.payload { margin: 0; white-space: pre-wrap; word-break: break-all; font-size: 12px; }
        """

    /// Follows `/events/stream` from pages whose `<body>` names a stream in `data-stream`:
    /// adds and removes rows of the sessions table, appends to the events table, keeps the
    /// session page's state and the overview's live count. Stored values reach the page
    /// through `textContent` only.
    static let script = """
        (function () {
          "use strict";
          var body = document.body;
          var url = body.getAttribute("data-stream");
          if (!url || !window.EventSource) { return; }
          var base = body.getAttribute("data-base") || "";
          var badge = document.getElementById("live-status");
          var source = new EventSource(url);
          source.onopen = function () { show("live", "live on"); };
          source.onerror = function () { show("reconnecting", "live off"); };
          source.onmessage = function (message) {
            var event;
            try { event = JSON.parse(message.data); } catch (e) { return; }
            sessionRows(event);
            eventRows(event);
            sessionState(event);
            liveTotal(event);
          };
          function show(text, className) {
            if (badge) { badge.textContent = text; badge.className = className; }
          }
          function cell(row, text, href, className) {
            var td = document.createElement("td");
            if (className) { td.className = className; }
            if (href) {
              var a = document.createElement("a");
              a.href = href;
              a.textContent = text;
              td.appendChild(a);
            } else {
              td.textContent = text == null ? "\\u2014" : String(text);
            }
            row.appendChild(td);
            return td;
          }
          function sessionLink(key) { return base + "/sessions/" + encodeURIComponent(key); }
          function sessionRows(event) {
            var rows = document.getElementById("sessions-rows");
            if (!rows || !event.sessionKey) { return; }
            var filter = rows.dataset;
            var existing = document.getElementById("s-" + event.sessionKey);
            if (event.kind === "session.started") {
              if (existing || filter.insert !== "yes") { return; }
              if (filter.user && filter.user !== event.userId) { return; }
              if (filter.source && filter.source !== event.dataSource) { return; }
              var row = document.createElement("tr");
              row.id = "s-" + event.sessionKey;
              row.className = "new";
              cell(row, event.sessionKey, sessionLink(event.sessionKey), "key");
              cell(row, event.userId);
              cell(row, event.dataSource);
              var state = cell(row, "");
              var badge = document.createElement("span");
              badge.className = "state idle";
              badge.textContent = "idle";
              state.appendChild(badge);
              cell(row, event.at);
              cell(row, null);
              var empty = document.getElementById("sessions-empty");
              if (empty) { empty.remove(); }
              rows.insertBefore(row, rows.firstChild);
            } else if (event.kind === "session.ended" && existing) {
              if (filter.live === "yes") {
                existing.remove();
              } else {
                var label = existing.querySelector(".state");
                if (label) { label.textContent = event.payload.state || "ended"; label.className = "state " + label.textContent; }
              }
            }
          }
          function eventRows(event) {
            var rows = document.getElementById("event-rows");
            if (!rows) { return; }
            var row = document.createElement("tr");
            row.className = "new";
            cell(row, event.seq, null, "num");
            cell(row, event.at);
            cell(row, event.kind);
            if (event.sessionKey) { cell(row, event.sessionKey, sessionLink(event.sessionKey), "key"); } else { cell(row, null); }
            cell(row, event.userId);
            cell(row, event.operationId);
            var payload = cell(row, "");
            var pre = document.createElement("pre");
            pre.className = "payload";
            pre.textContent = JSON.stringify(event.payload);
            payload.appendChild(pre);
            var empty = document.getElementById("events-empty");
            if (empty) { empty.remove(); }
            rows.appendChild(row);
            while (rows.rows.length > 500) { rows.deleteRow(0); }
          }
          function sessionState(event) {
            var state = document.getElementById("session-state");
            if (!state || state.getAttribute("data-key") !== event.sessionKey || event.kind !== "session.ended") { return; }
            state.textContent = event.payload.state || "ended";
            state.className = "state " + state.textContent;
          }
          function liveTotal(event) {
            var total = document.getElementById("live-total");
            if (!total) { return; }
            var change = event.kind === "session.started" ? 1 : event.kind === "session.ended" ? -1 : 0;
            if (change !== 0) { total.textContent = String(Math.max(0, Number(total.textContent) + change)); }
          }
        })();
        """
}
