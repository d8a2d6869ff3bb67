// "Phát trực tiếp": microphone → MediaRecorder (Opus/WebM chunks) → /api/v1/live → Icecast.
// Shows the input level (Web Audio analyser) and the measured delay from the end of a
// recorded chunk to the controller having handed it to the encoder (the chunk length adds
// to what listeners hear; docs/live.md has the whole chain).
"use strict";

(() => {
  const box = document.getElementById("live");
  if (!box) return;
  const text = window.LIVE_TEXT || {};
  const startBtn = document.getElementById("live-start");
  const stopBtn = document.getElementById("live-stop");
  const meter = document.getElementById("live-level");
  const delayOut = document.getElementById("live-delay");
  const state = document.getElementById("live-state");
  const CHUNK_MS = 250;
  let live = null;
  let recorder = null;
  let stream = null;
  let audioCtx = null;
  let delays = [];

  const show = (s) => { state.textContent = s; };

  function levelLoop(analyser) {
    const buf = new Float32Array(analyser.fftSize);
    const tick = () => {
      if (!audioCtx) return;
      analyser.getFloatTimeDomainData(buf);
      let sum = 0;
      for (const v of buf) sum += v * v;
      meter.value = Math.min(1, Math.sqrt(sum / buf.length) * 4);
      requestAnimationFrame(tick);
    };
    tick();
  }

  async function send(blob, endedAt) {
    if (!live) return;
    const r = await loa.send(`/api/v1/live/${live.id}/audio`, { method: "POST", body: blob });
    if (!r.ok) { show(`${text.failed} (${r.status})`); return; }
    const data = await r.json();
    delays.push(performance.now() - endedAt);
    if (delays.length > 20) delays.shift();
    const sorted = [...delays].sort((a, b) => a - b);
    delayOut.textContent = `${Math.round(sorted[Math.floor(sorted.length / 2)] + CHUNK_MS)} ms`;
    delayOut.dataset.ms = String(Math.round(sorted[Math.floor(sorted.length / 2)] + CHUNK_MS));
    if (data.on_air) show(text.on_air);
  }

  startBtn.addEventListener("click", async () => {
    const zones = [...document.querySelectorAll('input[name="live-zone"]:checked')].map((i) => i.value);
    if (!zones.length) { show(text.no_zone); return; }
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (e) { show(text.mic_denied); return; }
    const r = await loa.send("/api/v1/live", {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ zones }),
    });
    if (!r.ok) {
      let why = r.status;
      try { why = (await r.json()).detail; } catch (e) { /* keep the status */ }
      show(`${text.failed}: ${why}`);
      stream.getTracks().forEach((tr) => tr.stop());
      return;
    }
    live = await r.json();
    box.dataset.current = live.id;
    show(text.starting);
    audioCtx = new AudioContext();
    const analyser = audioCtx.createAnalyser();
    analyser.fftSize = 1024;
    audioCtx.createMediaStreamSource(stream).connect(analyser);
    levelLoop(analyser);
    const mime = MediaRecorder.isTypeSupported("audio/webm;codecs=opus") ? "audio/webm;codecs=opus" : "";
    recorder = new MediaRecorder(stream, mime ? { mimeType: mime, audioBitsPerSecond: 32000 } : {});
    let queue = Promise.resolve();
    recorder.ondataavailable = (ev) => {
      if (!ev.data || !ev.data.size) return;
      const endedAt = performance.now();
      queue = queue.then(() => send(ev.data, endedAt)); // in order: one WebM stream
    };
    recorder.start(CHUNK_MS);
    startBtn.disabled = true;
    stopBtn.disabled = false;
  });

  stopBtn.addEventListener("click", async () => {
    if (recorder && recorder.state !== "inactive") recorder.stop();
    if (stream) stream.getTracks().forEach((tr) => tr.stop());
    if (audioCtx) { audioCtx.close(); audioCtx = null; }
    meter.value = 0;
    if (live) {
      const r = await loa.send(`/api/v1/live/${live.id}/stop`, { method: "POST" });
      show(r.ok ? text.ended : `${text.failed} (${r.status})`);
    }
    live = null;
    box.dataset.current = "";
    startBtn.disabled = false;
    stopBtn.disabled = true;
  });
})();
