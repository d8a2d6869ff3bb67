// Loa xã panel: small progressive enhancement. Every page works without it.
"use strict";

window.loa = {
  csrf() {
    const meta = document.querySelector('input[name="csrf"]');
    return meta ? meta.value : "";
  },
  // fetch with the page's CSRF token (the session cookie alone is not enough for writes)
  async send(url, options) {
    const opts = Object.assign({ credentials: "same-origin", headers: {} }, options || {});
    opts.headers["X-CSRF-Token"] = loa.csrf();
    return fetch(url, opts);
  },
};

// Refresh a fragment every N seconds (dashboard); pauses while the tab is hidden.
for (const box of document.querySelectorAll("[data-refresh]")) {
  const every = (parseInt(box.dataset.every, 10) || 15) * 1000;
  setInterval(async () => {
    if (document.hidden) return;
    try {
      const r = await fetch(box.dataset.refresh, { credentials: "same-origin" });
      if (r.ok) box.innerHTML = await r.text();
    } catch (e) { /* offline for a moment: keep the old numbers */ }
  }, every);
}

// Command acknowledgement: poll each pending delivery until it settles.
for (const row of document.querySelectorAll("[data-command]")) {
  const badge = row.querySelector(".badge");
  let tries = 0;
  const poll = async () => {
    tries += 1;
    try {
      const r = await fetch(`/panel/commands/${row.dataset.command}.json`, { credentials: "same-origin" });
      if (r.ok) {
        const data = await r.json();
        badge.textContent = data.label;
        badge.className = `badge ${data.state}`;
        if (data.state !== "pending") return;
      }
    } catch (e) { /* retry */ }
    if (tries < 40) setTimeout(poll, 1500);
  };
  if (badge && badge.classList.contains("pending")) setTimeout(poll, 1000);
}

// Vietnamese date/time fields (dd/mm/yyyy, 24-hour HH:MM) whatever the browser's language:
// tidy what was typed when the field is left ("2512 2026" -> "25/12/2026", "1830" -> "18:30",
// "6h5" -> "06:05"). The server parses and refuses with a reason; this only helps typing.
loa.vnTidy = (kind, raw) => {
  const pad = (n) => String(n).padStart(2, "0");
  const date = (text) => {
    const digits = text.replace(/\D/g, "");
    const parts = text.split(/[/.\-\s]+/).filter(Boolean);
    if (parts.length === 3 && parts[2].length === 4) return `${pad(parts[0])}/${pad(parts[1])}/${parts[2]}`;
    if (/^\d{8}$/.test(text.trim())) return `${digits.slice(0, 2)}/${digits.slice(2, 4)}/${digits.slice(4)}`;
    return text.trim();
  };
  const time = (text) => {
    const t = text.trim().toLowerCase();
    let m = t.match(/^(\d{1,2})\s*[:h.]\s*(\d{1,2})$/);
    if (m) return `${pad(m[1])}:${pad(m[2])}`;
    m = t.match(/^(\d{1,2})(\d{2})$/);
    if (m) return `${pad(m[1])}:${m[2]}`;
    m = t.match(/^(\d{1,2})\s*h?$/);
    if (m) return `${pad(m[1])}:00`;
    return text.trim();
  };
  if (kind === "date") return date(raw);
  if (kind === "time") return time(raw);
  const m = raw.trim().match(/^(\S+)\s+(\S+)$/);
  return m ? `${date(m[1])} ${time(m[2])}` : raw.trim();
};
for (const field of document.querySelectorAll("input[data-vn]")) {
  field.addEventListener("change", () => { field.value = loa.vnTidy(field.dataset.vn, field.value); });
}
