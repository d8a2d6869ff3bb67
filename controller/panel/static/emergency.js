// Emergency form: listen before issuing. A chosen recording plays from /media/; text is
// rendered by the controller exactly as the loudspeakers will get it (POST /api/v1/tts/preview,
// with the ticked zones so their pronunciation dictionary applies).
"use strict";

(() => {
  const box = document.getElementById("emg-form");
  const button = document.getElementById("emg-listen");
  const player = document.getElementById("emg-player");
  if (!box || !button || !player) return;
  const status = document.getElementById("emg-listen-status");
  const say = (name, values) => {
    let text = box.dataset["msg" + name] || "";
    for (const [k, v] of Object.entries(values || {})) text = text.replace(`{${k}}`, v);
    if (status) status.textContent = text;
  };
  const media = document.getElementById("emg-media");
  const play = (src) => { player.src = src; player.hidden = false; };
  if (media) {
    media.addEventListener("change", () => {
      const chosen = media.selectedOptions[0];
      if (chosen && chosen.dataset.src) play(chosen.dataset.src);
    });
  }
  button.addEventListener("click", async () => {
    const chosen = media && media.selectedOptions[0];
    if (chosen && chosen.dataset.src) { play(chosen.dataset.src); say("Ready", { seconds: chosen.dataset.seconds }); return; }
    const text = (document.getElementById("emg-text") || {}).value || "";
    if (!text.trim()) { say("Nothing"); return; }
    const zones = [...document.querySelectorAll('input[name="zones"]:checked, input[name="communes"]:checked, [data-listen-zone]')].map((z) => z.value);
    button.disabled = true;
    say("Rendering");
    try {
      const r = await loa.send("/api/v1/tts/preview", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ text: text.trim(), targets: zones }),
      });
      if (!r.ok) {
        const detail = await r.json().catch(() => ({}));
        say("Failed", { reason: detail.detail || r.status });
        return;
      }
      play(URL.createObjectURL(await r.blob()));
      say("Ready", { seconds: parseFloat(r.headers.get("X-Loa-Duration-S") || "0").toFixed(1) });
    } catch (e) {
      say("Failed", { reason: e });
    } finally {
      button.disabled = false;
    }
  });
})();
