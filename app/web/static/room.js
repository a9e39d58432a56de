// The live room: the auction's Server-Sent Events (EventSource resumes with Last-Event-ID
// by itself), a countdown on the server's clock, and bids sent without leaving the page.
"use strict";
(() => {
  const room = document.getElementById("room");
  if (!room) return;
  const d = room.dataset;
  const $ = (id) => document.getElementById(id);
  const lang = d.lang || "zh-CN";
  const money = new Intl.NumberFormat(lang, { style: "currency", currency: d.currency || "CNY" });
  const clock = new Intl.DateTimeFormat(lang, { timeStyle: "medium", timeZone: "Asia/Shanghai" });
  const cents = (s) => Math.round(parseFloat(s) * 100);
  const plain = (c) => (c / 100).toFixed(2);
  const fill = (tpl, values) => tpl.replace(/%\((\w+)\)s/g, (_, k) => values[k]);

  const state = {
    status: d.status, kind: d.kind, endsAt: Date.parse(d.endsAt) || null,
    startsAt: Date.parse(d.startsAt) || null, leading: d.leading || null,
    price: d.price ? cents(d.price) : null, increment: cents(d.increment),
    paddle: d.paddle || null, standing: d.standing, maxSeq: 0, skew: 0, ended: false,
    pausedLeft: null, // ms left when the session paused (the countdown stands still)
    count: parseInt(($("bid-count") || {}).textContent || "0", 10) || 0,
  };
  // The server's clock minus ours, from the page's server_time; refined by a round trip.
  state.skew = Date.parse(d.serverTime) - Date.now();
  const sent = Date.now();
  fetch(`/api/v1/auctions/${d.auction}`, { headers: { Accept: "application/json" } })
    .then((r) => (r.ok ? r.json() : null)).then((body) => {
      if (!body) return;
      const now = Date.now();
      state.skew = Date.parse(body.server_time) - (sent + now) / 2;
      if (body.ends_at) state.endsAt = Date.parse(body.ends_at);
    }).catch(() => {});
  document.querySelectorAll("#history tr[data-seq]").forEach((tr) => {
    state.maxSeq = Math.max(state.maxSeq, parseInt(tr.dataset.seq, 10));
  });

  const serverNow = () => Date.now() + state.skew;

  function two(n) { return String(n).padStart(2, "0"); }
  function tick() {
    const el = $("countdown");
    if (!el) return;
    if (state.kind === "dutch" && state.status === "open") dutchPrice();
    const target = state.status === "scheduled" ? state.startsAt : state.endsAt;
    if (state.ended || !target) { el.textContent = "—"; return; }
    const ms = state.pausedLeft !== null ? state.pausedLeft : target - serverNow();
    let left = Math.max(0, Math.floor(ms / 1000));
    const h = Math.floor(left / 3600); left -= h * 3600;
    const m = Math.floor(left / 60); const s = left - m * 60;
    el.textContent = (h ? `${h}:` : "") + `${two(m)}:${two(s)}`;
    el.classList.toggle("soon", state.status === "open" && target - serverNow() < 30000);
    if (state.status === "scheduled" && target <= serverNow()) {
      state.status = "open"; // opened: the page's forms reflect it after a reload
      setTimeout(() => location.reload(), 1500);
    }
  }

  function dutchPrice() {
    const step = cents(d.dutchStep), interval = parseInt(d.dutchInterval, 10);
    const floor = cents(d.dutchFloor), start = Date.parse(d.roundStartsAt);
    const drops = Math.max(0, Math.floor((serverNow() - start) / interval));
    const price = Math.max(floor, cents(d.starting) - drops * step);
    $("price").textContent = money.format(price / 100);
    setMinimum(price);
  }

  function setMinimum(c) {
    $("minimum").textContent = c == null ? "—" : money.format(c / 100);
    const quick = $("quick-bid");
    if (quick && c != null) {
      quick.value = plain(c);
      quick.textContent = fill(quick.dataset.label, { amount: money.format(c / 100) });
    }
    const input = $("amount");
    if (input && c != null) input.placeholder = plain(c);
  }

  function setStanding(name) {
    const el = $("standing");
    if (!el || !state.paddle || !el.dataset[name]) return;
    state.standing = name;
    el.className = `standing standing-${name}`;
    el.textContent = el.dataset[name];
  }

  function onBid(e) {
    if (e.sequence != null && e.sequence <= state.maxSeq) return; // already shown
    if (e.sequence != null) state.maxSeq = e.sequence;
    state.price = cents(e.amount); state.leading = e.paddle; state.count += 1;
    if (e.ends_at) state.endsAt = Date.parse(e.ends_at);
    $("price").textContent = money.format(state.price / 100);
    $("leading").textContent = e.paddle;
    $("bid-count").textContent = state.count.toLocaleString(lang);
    if (state.kind === "english") setMinimum(state.price + state.increment);
    const row = document.createElement("tr");
    row.dataset.seq = e.sequence; row.className = "new";
    for (const text of [e.sequence, e.paddle, money.format(state.price / 100),
      clock.format(new Date(e.placed_at))]) {
      const td = document.createElement("td"); td.textContent = text; row.appendChild(td);
    }
    $("history").prepend(row);
    const none = $("no-bids"); if (none) none.remove();
    if (state.paddle && ["qualified", "leading", "outbid"].includes(state.standing)) {
      setStanding(e.paddle === state.paddle ? "leading" : (state.standing === "qualified" ? "qualified" : "outbid"));
    }
  }

  function onExtended(e) {
    if (!e.ends_at) return;
    state.endsAt = Date.parse(e.ends_at);
    const el = $("extended");
    el.textContent = fill(el.dataset.text, { time: clock.format(new Date(state.endsAt)) });
    const t = document.querySelector("#ends-at time");
    if (t) { t.dateTime = e.ends_at; t.textContent = clock.format(new Date(state.endsAt)); }
    tick();
  }

  // The session paused: the countdown stands at the time left; resumed: the close moved by
  // the pause's length.
  function onPaused(e) {
    state.pausedLeft = e.remaining_ms || 0;
    $("extended").textContent = $("extended").dataset.paused;
    tick();
  }

  function onResumed(e) {
    state.pausedLeft = null;
    if (e.ends_at) state.endsAt = Date.parse(e.ends_at);
    $("extended").textContent = "";
    tick();
  }

  function onClosed(e, final) {
    const el = $("outcome");
    if (final) {
      state.ended = true; state.status = "closed";
      el.textContent = e.outcome === "sold"
        ? fill(el.dataset.sold, { paddle: e.winning_paddle, price: money.format(cents(e.hammer_price) / 100) })
        : el.dataset.passed;
      el.focus();
      $("minimum").textContent = "—";
      document.querySelectorAll("form[data-bid] button, form[data-bid] input").forEach((x) => { x.disabled = true; });
      if (state.paddle) setStanding(e.winning_paddle === state.paddle ? "won" : (state.standing === "qualified" ? "closed" : "lost"));
      connection("ended");
      tick();
    } else {
      setTimeout(() => location.reload(), 1000); // the next round: its rules and forms
    }
  }

  function connection(mode) {
    const el = $("connection");
    el.className = `connection ${mode}`;
    el.textContent = el.dataset[mode === "online" ? "online" : mode === "ended" ? "ended" : "offline"];
  }

  // Resume after the page's last event: EventSource then keeps Last-Event-ID itself.
  let source = null;
  if (state.status === "closed" || state.status === "cancelled") {
    state.ended = true; connection("ended");
  } else {
    const after = d.lastEventId ? `?after=${encodeURIComponent(d.lastEventId)}` : "";
    source = new EventSource(`/auctions/${d.auction}/events${after}`);
    source.onopen = () => connection("online");
    source.onerror = () => { if (!state.ended) connection("offline"); };
    const on = (type, fn) => source.addEventListener(type, (m) => fn(JSON.parse(m.data || "{}")));
    on("bid", onBid);
    on("extended", onExtended);
    on("paused", onPaused);
    on("resumed", onResumed);
    on("round_closed", (e) => onClosed(e, false));
    on("closed", (e) => { source.close(); onClosed(e, true); });
  }

  // Bids without leaving the page; the forms work without this script too.
  document.querySelectorAll("form[data-bid]").forEach((form) => {
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const data = new FormData(form);
      if (ev.submitter && ev.submitter.name) data.set(ev.submitter.name, ev.submitter.value);
      const out = $("bid-result");
      const buttons = form.querySelectorAll("button");
      buttons.forEach((b) => { b.disabled = true; });
      try {
        const r = await fetch(form.action, {
          method: "POST", body: new URLSearchParams(data),
          headers: { Accept: "application/json" }, credentials: "same-origin",
        });
        const body = await r.json();
        out.className = `bid-result ${body.ok ? "ok" : "bad"}`;
        out.textContent = body.message;
        if (body.ok && body.bid && state.paddle && body.bid.paddle === state.paddle && body.bid.sequence) {
          onBid(body.bid);
        }
      } catch (_) {
        out.className = "bid-result bad";
        out.textContent = $("connection").dataset.offline;
      } finally {
        buttons.forEach((b) => { b.disabled = state.ended; });
        const key = form.querySelector("input[name=idempotency_key]");
        if (key) key.value = Math.random().toString(36).slice(2) + Date.now().toString(36);
        out.focus();
      }
    });
  });

  tick();
  setInterval(tick, 250);
})();
