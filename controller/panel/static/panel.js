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
