// The session page: every few seconds, the session's JSON (one read of every lot's live
// state) refreshes each lot's status, times, price, bids and hammer price in place.
"use strict";
(() => {
  const table = document.getElementById("lots");
  if (!table) return;
  const d = table.dataset;
  const money = new Intl.NumberFormat(d.lang, { style: "currency", currency: "CNY" });
  const when = new Intl.DateTimeFormat(d.lang, { dateStyle: "medium", timeStyle: "medium",
                                                   timeZone: "Asia/Shanghai" });
  const count = new Intl.NumberFormat(d.lang);
  const show = {
    status: (v) => {
      const span = document.createElement("span");
      span.className = `badge badge-${v}`;
      span.textContent = d[`label${v.charAt(0).toUpperCase()}${v.slice(1)}`] || v;
      return span;
    },
    opens_at: (v) => (v ? when.format(new Date(v)) : "—"),
    ends_at: (v) => (v ? when.format(new Date(v)) : "—"),
    current_price: (v) => (v ? money.format(parseFloat(v)) : "—"),
    bid_count: (v) => (v === null || v === undefined ? "—" : count.format(v)),
    hammer_price: (v) => (v ? money.format(parseFloat(v)) : "—"),
  };
  let done = false;
  async function refresh() {
    if (done || document.hidden) return;
    let body;
    try {
      const r = await fetch(`/api/v1/sessions/${d.session}`, { headers: { Accept: "application/json" } });
      if (!r.ok) return;
      body = await r.json();
    } catch (e) { return; }
    for (const lot of body.lots || []) {
      const tr = table.querySelector(`tr[data-auction="${lot.auction_id}"]`);
      if (!tr) continue;
      for (const [field, format] of Object.entries(show)) {
        const td = tr.querySelector(`[data-f="${field}"]`);
        if (!td) continue;
        const value = format(lot[field]);
        if (typeof value === "string") { if (td.textContent !== value) td.textContent = value; }
        else if (td.textContent !== value.textContent) td.replaceChildren(value);
      }
    }
    done = body.status === "finished" || body.status === "cancelled";
  }
  setInterval(refresh, 4000);
})();
