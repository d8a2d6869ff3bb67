// Dictionary page: listen to a sample sentence with the (unsaved) entry applied, and see
// the words that will be said.
"use strict";
(() => {
  const form = document.getElementById("dict-form");
  if (!form) return;
  const status = document.getElementById("dict-status");
  const msg = (name, values) => {
    let text = form.dataset["msg" + name] || "";
    for (const [k, v] of Object.entries(values || {})) text = text.replace(`{${k}}`, v);
    return text;
  };
  document.getElementById("dict-preview").addEventListener("click", async (ev) => {
    const button = ev.currentTarget;
    const value = (id) => document.getElementById(id).value.trim();
    const written = value("written");
    const body = {
      written, spoken: value("spoken"), zone_id: value("zone_id"), sample: value("sample") || written,
    };
    if (!body.written || !body.spoken) return;
    button.disabled = true;
    status.textContent = msg("Previewing");
    try {
      const r = await loa.send("/api/v1/pronunciations/preview", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
      });
      if (!r.ok) {  // the API answers in English: the page says it in its own words
        status.textContent = msg("Failed", { reason: msg("Previewerror") });
        return;
      }
      const player = document.getElementById("dict-player");
      player.src = URL.createObjectURL(await r.blob());
      document.getElementById("dict-normalised").textContent =
        decodeURIComponent(r.headers.get("X-Loa-Normalised-Text") || "");
      document.getElementById("dict-media").textContent = r.headers.get("X-Loa-Media") || "";
      document.getElementById("dict-result").hidden = false;
      const secs = parseFloat(r.headers.get("X-Loa-Duration-S") || "0").toFixed(1);
      const names = JSON.parse(document.getElementById("engine-names").textContent || "{}");
      const engine = r.headers.get("X-Loa-Engine") || "";
      status.textContent = msg("Ready", { seconds: secs, engine: names[engine] || engine });
    } catch (e) {
      status.textContent = msg("Failed", { reason: msg("Previewerror") });
    } finally {
      button.disabled = false;
    }
  });
})();
