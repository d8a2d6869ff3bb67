// Loa xã map: Leaflet (vendored) with node states, commune/village areas and names.
// Tiles are optional: when none loads, the areas and names still give a scaled layout.
"use strict";

(() => {
  const box = document.getElementById("map");
  const source = document.getElementById("map-data");
  if (!box || !source || !window.L) return;
  const data = JSON.parse(source.textContent);
  const status = document.getElementById("map-basemap");
  const COLOURS = { playing: "#1d4ed8", online: "#15803d", offline: "#b91c1c" };
  const map = L.map(box, { zoomSnap: 0.25, attributionControl: true });
  map.attributionControl.setPrefix(false);
  L.control.scale({ imperial: false }).addTo(map);

  const basemap = (state) => {
    box.dataset.basemap = state;
    status.textContent = data.text[`basemap_${state}`] || "";
  };

  // A label inside the top of an area's circle: it never leaves the circle, which is fitted.
  const northOf = (a) => [a.lat + a.radius_m / 111320, a.lon];
  const bounds = L.latLngBounds([]);
  const dots = [];
  for (const a of data.areas) {
    L.circle([a.lat, a.lon], {
      radius: a.radius_m,
      color: a.kind === "commune" ? "#7c2d12" : "#4b5563",
      weight: a.kind === "commune" ? 2 : 1,
      dashArray: a.kind === "commune" ? null : "4 4",
      fillColor: a.kind === "commune" ? "#fef3c7" : "#ffffff",
      fillOpacity: a.kind === "commune" ? 0.35 : 0.45,
      className: `map-area ${a.kind}`,
      interactive: false,
    }).addTo(map);
    const dLat = a.radius_m / 111320;
    const dLon = dLat / Math.cos((a.lat * Math.PI) / 180);
    bounds.extend([[a.lat - dLat, a.lon - dLon], [a.lat + dLat, a.lon + dLon]]);
    L.tooltip({ permanent: true, direction: "bottom", className: `map-label area ${a.kind}`, offset: [0, 4] })
      .setLatLng(northOf(a)).setContent(a.name).addTo(map);
  }
  for (const p of data.points) {
    const dot = L.circleMarker([p.lat, p.lon], {
      radius: 9, color: "#ffffff", weight: 2, fillColor: COLOURS[p.state], fillOpacity: 1,
      className: `node-dot state-${p.state}`,
    }).addTo(map);
    dot.bindTooltip(`${p.name} · ${data.text[p.state]}`, {
      permanent: true, direction: "auto", offset: [10, 0], className: `map-label node state-${p.state}`,
    });
    dot.on("click", () => { window.location.href = p.href; });
    dots.push(dot);
    bounds.extend([p.lat, p.lon]);
  }
  // Fit the areas, then step out until every label lies inside the box: labels keep their
  // size when the map zooms out, the points move towards the middle (phones need this).
  const inside = (el) => {
    const m = box.getBoundingClientRect();
    const r = el.getBoundingClientRect();
    return r.left >= m.left && r.right <= m.right && r.top >= m.top && r.bottom <= m.bottom;
  };
  const fits = () => [...box.querySelectorAll(".map-label")].every(inside);
  // A node's label goes to whichever side keeps it inside (a phone is narrower than
  // "Loa … · Đang kết nối" is long on one side of the middle).
  const place = () => {
    for (const dot of dots) {
      const tip = dot.getTooltip();
      for (const side of ["auto", "right", "left", "bottom", "top"]) {
        tip.options.direction = side;
        tip.options.offset = side === "bottom" ? [0, 8] : side === "top" ? [0, -8] : [10, 0];
        tip.update();
        if (inside(tip.getElement())) break;
      }
    }
  };
  const fit = () => {
    map.fitBounds(bounds, { padding: [8, 8], maxZoom: 17, animate: false });
    place();
    for (let i = 0; i < 12 && !fits(); i += 1) {
      map.setZoom(map.getZoom() - 0.25, { animate: false });
      place();
    }
  };
  fit();
  window.addEventListener("resize", () => { map.invalidateSize(false); fit(); });
  // the dots' elements exist once the map has a view; tests and styles find them by node id
  box.querySelectorAll(".node-dot").forEach((el, i) => el.setAttribute("data-node", data.points[i].id));

  if (!data.tiles) { basemap("offline"); return; }
  let loaded = 0;
  const tiles = L.tileLayer(data.tiles, { maxZoom: 19, attribution: data.text.attribution });
  const giveUp = () => {
    if (loaded) return;
    map.removeLayer(tiles);  // no broken-image squares over the layout
    basemap("offline");
  };
  tiles.on("tileload", () => { loaded += 1; basemap("online"); });
  tiles.on("load", giveUp);  // every visible tile settled; none loaded means offline
  tiles.addTo(map);
  setTimeout(giveUp, 8000);
})();
