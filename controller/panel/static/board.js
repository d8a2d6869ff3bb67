// Compose page, e-board section: slide uploads (images or PDF pages) and the board preview,
// which is the agent's own kiosk page fed the composed state through its address.
"use strict";
(() => {
  const box = document.getElementById("board-section");
  if (!box) return;
  const field = document.getElementById("board_slides");
  const status = document.getElementById("board-status");
  // {sha256, ext, duration_s}, in showing order; an edit page starts with the saved ones
  const slides = JSON.parse(box.dataset.slides || "[]");
  // The board's fields only when it is switched on: fewer Tab stops to "send" (without
  // JavaScript everything stays visible).
  const on = document.getElementById("board_on");
  const fields = document.getElementById("board-fields");
  const showFields = () => { fields.hidden = !on.checked; };
  on.addEventListener("change", showFields);
  showFields();
  const show = () => {
    field.value = JSON.stringify(slides.map((s) => ({ image_sha256: s.sha256, duration_s: s.duration_s })));
    status.textContent = slides.length
      ? box.dataset.msgUploaded.replace("{count}", String(slides.length)) : box.dataset.msgNone;
  };
  if (slides.length) show();
  document.getElementById("board-upload").addEventListener("click", async () => {
    const file = document.getElementById("board_file").files[0];
    if (!file) return;
    const seconds = Math.max(1, Math.min(3600, Number(document.getElementById("board_duration").value) || 10));
    const data = new FormData();
    data.append("file", file, file.name);
    const r = await loa.send("/panel/announcements/upload-slide", { method: "POST", body: data });
    const answer = await r.json().catch(() => ({}));
    if (!r.ok) { status.textContent = answer.error || String(r.status); return; }
    for (const s of answer.slides) slides.push({ sha256: s.sha256, ext: s.ext, duration_s: seconds });
    document.getElementById("board_on").checked = true;
    show();
  });
  document.getElementById("board-clear").addEventListener("click", () => { slides.length = 0; show(); });
  // base64url of UTF-8 JSON: the preview's address carries the whole composed board
  const token = (value) => {
    const bytes = new TextEncoder().encode(JSON.stringify(value));
    let text = "";
    for (const b of bytes) text += String.fromCharCode(b);
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };
  document.getElementById("board-preview").addEventListener("click", () => {
    const own = document.getElementById("board_text").value.trim();
    const board = {
      title: document.getElementById("title").value.trim(),
      text: (own || document.getElementById("text").value.trim()).slice(0, 2000),
      ticker: document.getElementById("board_ticker").value.trim(),
      slides: slides.map((s) => ({ sha256: s.sha256, ext: s.ext, duration_s: s.duration_s })),
    };
    const frame = document.getElementById("board-frame");
    frame.src = "/panel/announcements/board-preview/" + token(board) + "/";
    frame.hidden = false;
  });
})();
