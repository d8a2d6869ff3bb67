// Compose page: listen before sending, upload or record a recording, check overlaps.
"use strict";
(() => {
  const form = document.getElementById("compose");
  if (!form) return;
  const msg = (name, values) => {
    let text = form.dataset["msg" + name] || "";
    for (const [k, v] of Object.entries(values || {})) text = text.replace(`{${k}}`, v);
    return text;
  };
  const status = document.getElementById("audio-status");
  const player = document.getElementById("player");
  const mediaField = document.getElementById("media_sha256");
  const say = (text) => { status.textContent = text; };
  // Engines by their human names ("Giọng đọc ngoại tuyến"), never "espeak-ng".
  const namesBox = document.getElementById("engine-names");
  const engineNames = namesBox ? JSON.parse(namesBox.textContent) : {};
  const engineName = (id) => engineNames[id] || id;
  const play = (src) => { player.src = src; player.hidden = false; };

  // Show the inputs of the chosen audio source only.
  const sources = form.querySelectorAll('input[name="source"]');
  const showSource = () => {
    const chosen = form.querySelector('input[name="source"]:checked').value;
    for (const box of form.querySelectorAll("[data-source]")) box.hidden = box.dataset.source !== chosen;
    if (chosen === "tts") mediaField.value = "";
  };
  sources.forEach((r) => r.addEventListener("change", showSource));

  // Date/time and repeat fields only when that timing is chosen: fewer Tab stops to "send".
  // Without JavaScript every field stays visible and the server reads the chosen one.
  const whens = form.querySelectorAll('input[name="when"]');
  const showWhen = () => {
    const chosen = form.querySelector('input[name="when"]:checked');
    for (const box of form.querySelectorAll("[data-when]")) {
      box.hidden = !chosen || box.dataset.when !== chosen.value;
    }
  };
  whens.forEach((r) => r.addEventListener("change", showWhen));
  showWhen();

  // The target tree is one Tab stop (arrow keys move inside it, Space ticks a box): a
  // commune with dozens of villages and speakers must not stand between the operator and
  // "send" (the roving-tabindex pattern of a composite widget).
  const tree = form.querySelector("fieldset.tree");
  if (tree) {
    const boxes = () => Array.from(tree.querySelectorAll('input[type="checkbox"]'));
    const rove = (current) => { for (const box of boxes()) box.tabIndex = box === current ? 0 : -1; };
    const initial = boxes();
    rove(initial.find((box) => box.checked) || initial[0]);
    tree.addEventListener("focusin", (ev) => {
      if (ev.target.matches('input[type="checkbox"]')) rove(ev.target);
    });
    tree.addEventListener("keydown", (ev) => {
      const list = boxes();
      const at = list.indexOf(document.activeElement);
      if (at < 0) return;
      const moves = { ArrowDown: at + 1, ArrowRight: at + 1, ArrowUp: at - 1, ArrowLeft: at - 1,
        Home: 0, End: list.length - 1 };
      if (!(ev.key in moves)) return;
      ev.preventDefault();
      list[Math.max(0, Math.min(list.length - 1, moves[ev.key]))].focus();
    });
  }

  // Listen before sending: the controller renders exactly what the loudspeakers will play.
  document.getElementById("preview").addEventListener("click", async (ev) => {
    const button = ev.currentTarget;
    const text = document.getElementById("text").value.trim();
    if (!text) return;
    button.disabled = true;
    say(msg("Previewing"));
    try {
      // The chosen targets decide which pronunciation dictionary entries apply.
      const targets = [...form.querySelectorAll('input[name="targets"]:checked')].map((b) => b.value);
      const body = { text, targets };
      const engine = document.getElementById("engine").value;
      if (engine) body.engine = engine;
      const r = await loa.send("/api/v1/tts/preview", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
      });
      if (!r.ok) {  // the API answers in English: the page says it in its own words
        say(msg("Failed", { reason: msg("Previewerror") }));
        return;
      }
      const blob = await r.blob();
      play(URL.createObjectURL(blob));
      // Show what will be read next to the audio, so numbers and names can be checked.
      document.getElementById("normalised").textContent =
        decodeURIComponent(r.headers.get("X-Loa-Normalised-Text") || "");
      document.getElementById("normalised-box").hidden = false;
      const secs = parseFloat(r.headers.get("X-Loa-Duration-S") || "0").toFixed(1);
      say(msg("Ready", { seconds: secs, engine: engineName(r.headers.get("X-Loa-Engine") || "") }));
    } catch (e) {
      say(msg("Failed", { reason: msg("Previewerror") }));
    } finally {
      button.disabled = false;
    }
  });

  async function uploadBlob(blob, name) {
    say(msg("Uploading"));
    const data = new FormData();
    data.append("file", blob, name);
    const r = await loa.send("/panel/announcements/upload", { method: "POST", body: data });
    const answer = await r.json().catch(() => ({}));
    // an upload is not speech: its own message (from the server, translated), no TTS prefix
    if (!r.ok) { say(answer.error || msg("Previewerror")); return; }
    mediaField.value = answer.sha256;
    play(answer.url);
    say(msg("Uploaded", { seconds: answer.duration_s.toFixed(1) }));
  }

  document.getElementById("upload").addEventListener("click", async () => {
    const file = document.getElementById("file").files[0];
    if (file) await uploadBlob(file, file.name);
  });

  // Record from the microphone (MediaRecorder), then upload like a file.
  let recorder = null;
  const recordButton = document.getElementById("record");
  recordButton.addEventListener("click", async () => {
    if (recorder && recorder.state === "recording") { recorder.stop(); return; }
    if (!navigator.mediaDevices || !window.MediaRecorder) { say(msg("Nomic")); return; }
    let stream;
    try { stream = await navigator.mediaDevices.getUserMedia({ audio: true }); }
    catch (e) { say(msg("Nomic")); return; }
    const chunks = [];
    recorder = new MediaRecorder(stream);
    recorder.ondataavailable = (e) => { if (e.data.size) chunks.push(e.data); };
    recorder.onstop = async () => {
      stream.getTracks().forEach((t) => t.stop());
      recordButton.textContent = "● " + msg("Start");
      const type = recorder.mimeType || "audio/webm";
      await uploadBlob(new Blob(chunks, { type }), type.includes("ogg") ? "recording.ogg" : "recording.webm");
    };
    recorder.start();
    recordButton.textContent = "■ " + msg("Stop");
    say(msg("Recording"));
  });

  // Overlaps with what is already planned on the same loudspeakers.
  document.getElementById("check-conflicts").addEventListener("click", async () => {
    const params = new URLSearchParams();
    for (const box of form.querySelectorAll('input[name="targets"]:checked')) params.append("targets", box.value);
    params.set("when", form.querySelector('input[name="when"]:checked').value);
    params.set("at", document.getElementById("at").value);
    for (const name of ["freq", "time_of_day", "from_date", "until", "priority"]) params.set(name, form.elements[name].value);
    for (const box of form.querySelectorAll('input[name="weekdays"]:checked')) params.append("weekdays", box.value);
    if (form.elements.first_day && form.elements.first_day.checked) params.set("first_day", "1");
    const secs = player.duration && isFinite(player.duration) ? player.duration : 60;
    params.set("duration_s", String(Math.ceil(secs)));
    const out = document.getElementById("conflicts");
    const r = await fetch("/panel/announcements/conflicts?" + params, { credentials: "same-origin" });
    const answer = await r.json().catch(() => ({}));
    out.replaceChildren();
    if (!r.ok) { out.textContent = answer.error || r.status; out.className = "error"; return; }
    out.className = answer.conflicts.length ? "notice" : "okmsg";
    if (!answer.conflicts.length) { out.textContent = msg("Noconflicts"); return; }
    out.textContent = msg("Conflicts") + ": ";
    const list = document.createElement("ul");
    for (const c of answer.conflicts) {
      const li = document.createElement("li");
      const where = c.nodes ? ` — ${c.nodes.join(", ")}` : "";
      li.textContent = `${c.start} · ${c.title} (${c.ref})${where}${c.note ? " · " + c.note : ""}`;
      list.appendChild(li);
    }
    out.appendChild(list);
  });

  // Ticking a zone ticks everything below it (one click for a whole commune).
  form.querySelectorAll('.tree input[type="checkbox"]').forEach((box) => {
    box.addEventListener("change", () => {
      const branch = box.closest("li").querySelector("ul");
      if (branch) branch.querySelectorAll('input[type="checkbox"]').forEach((c) => { c.checked = false; c.disabled = box.checked; });
    });
  });

  form.addEventListener("submit", () => { document.getElementById("send").disabled = true; });
})();
