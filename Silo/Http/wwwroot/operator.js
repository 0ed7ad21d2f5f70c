// The operator page: polls /api/pipeline every 2 s and renders it. No library, no network but this silo.
"use strict";
(function () {
  const every = 2000;
  const outcomes = ["duplicate", "held", "parked", "rejected", "dead_lettered"];

  function el(tag, text, cls, figure) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    if (figure) e.dataset.figure = figure;
    return e;
  }
  function row(cells) {
    const tr = document.createElement("tr");
    for (const c of cells) tr.appendChild(c);
    return tr;
  }
  function set(figure, text) {
    for (const e of document.querySelectorAll('[data-figure="' + figure + '"]')) e.textContent = String(text);
  }
  function time(iso) {
    const d = new Date(iso);
    return isNaN(d) ? "–" : d.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
  }
  function seconds(s) {
    if (s === null || s === undefined) return "n/a";
    if (s < 1) return (s * 1000).toFixed(s < 0.01 ? 2 : 1) + " ms";
    return s.toFixed(s < 10 ? 2 : 1) + " s";
  }
  function fill(id, rows, empty) {
    const body = document.getElementById(id);
    if (rows.length === 0 && empty) {
      const cell = el("td", empty, "text note");
      cell.colSpan = body.parentElement.querySelectorAll("th").length;
      rows = [row([cell])];
    }
    body.replaceChildren(...rows);
  }

  function render(v) {
    set("taken-at", time(v.takenAt));
    set("served-by", v.servedBy);
    set("coverage", v.coverage.answered + " of " + v.coverage.active);
    const note = document.getElementById("coverage-note");
    note.textContent = v.coverage.error ? v.coverage.error
      : v.coverage.answered < v.coverage.active ? "(partial: " + (v.coverage.active - v.coverage.answered) + " active silo(s) did not answer)" : "";

    fill("silos", v.silos.map(s => row([
      el("td", s.address + (s.servedThisPage ? " (this page)" : ""), "text", "silo-address"),
      el("td", s.host, "text"),
      el("td", s.status, s.status === "Active" ? "text ok" : s.status === "Dead" ? "text bad" : "text warn", "silo-status"),
      el("td", time(s.since), "text"),
      el("td", time(s.lastAlive), "text"),
      el("td", s.figures, "text"),
      el("td", s.applied === null ? "" : s.applied, null, "silo-applied"),
    ])));

    fill("components", v.components.map(c => {
        const k = c.component;
        const r = c.received || {};
        const lat = c.latency;
        const na = v.latencyMeasured ? "no samples" : "n/a";
        return row([
          el("td", k, "text", "component"),
          el("td", c.applied, null, "applied." + k),
          el("td", c.appliedPerSecond.toFixed(1), null, "rate." + k),
          ...outcomes.map(o => el("td", r[o] || 0, null, o + "." + k)),
          el("td", c.retried, null, "retried." + k),
          el("td", c.outboxDepth, c.outboxDepth > 0 ? "warn" : null, "outbox." + k),
          el("td", c.heldDepth, c.heldDepth > 0 ? "warn" : null, "held-now." + k),
          el("td", c.blockedProducers, c.blockedProducers > 0 ? "bad" : null, "blocked." + k),
          el("td", lat ? seconds(lat.p50) : na, null, "p50." + k),
          el("td", lat ? seconds(lat.p95) : na, null, "p95." + k),
          el("td", lat ? seconds(lat.p99) : na, null, "p99." + k),
        ]);
      }), "no message received since the silos started");
    set("outbox-oldest", v.outboxOldestAgeSeconds > 0 ? seconds(v.outboxOldestAgeSeconds) : "none");

    const b = v.backlog;
    set("backlog-total", b.total === null ? "n/a (" + b.error + ")" : b.total);
    fill("queues", b.queues.map(q => row([
      el("td", q.provider, "text"), el("td", q.queue, "text"), el("td", q.rows, null, "queue-rows"), el("td", q.inFlight), el("td", seconds(q.oldestAgeSeconds)),
    ])), "no row waiting");

    const d = v.deadLetters;
    const or = x => x === null ? "n/a" : x;
    set("dead-letters-total", d.total === null ? "n/a (" + d.error + ")" : d.total);
    set("dead-letters-sequenced", or(d.sequenced));
    set("dead-letters-waiting", or(d.sequencedWaiting));
    set("dead-letters-stream", or(d.stream));
    set("dead-letters-rejected", or(d.rejected));
    fill("latest-dead-letters", d.latest.map(l => row([
      el("td", l.kind, "text", "dead-letter-kind"), el("td", l.component, "text", "dead-letter-component"),
      el("td", l.reason, "reason", "dead-letter-reason"), el("td", time(l.at), "text"),
    ])), "none");
  }

  let polls = 0;
  async function poll() {
    try {
      const response = await fetch("/api/pipeline", { cache: "no-store" });
      if (!response.ok) throw new Error("/api/pipeline answered " + response.status);
      render(await response.json());
      polls++;
      document.body.dataset.state = "loaded";
      document.body.dataset.polls = String(polls);
      document.getElementById("state").textContent = "live";
    } catch (e) {
      document.body.dataset.state = "error";
      document.getElementById("state").textContent = "not refreshed: " + e.message + " (figures below are from the last refresh)";
    } finally {
      setTimeout(poll, every);
    }
  }
  poll();
})();
