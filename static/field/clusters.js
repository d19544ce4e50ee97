/*
 * A tambon's cluster page: the tambon, its clusters as saved and its villages on
 * a map. A village's dot takes the colour of the cluster typed beside it in the
 * list, as it is typed, so a proposal or a hand edit can be seen before saving;
 * the shaded areas change only when the server has derived them (on save). The
 * list and its form work without this script.
 */
(function () {
  "use strict";

  const data = JSON.parse(document.getElementById("clusters-data").textContent);
  const element = document.getElementById("clusters-map");
  const form = document.getElementById("clusters-form");
  if (!element || !form || typeof L === "undefined") return;

  // A name keeps its colour on the map, the list and the saved table alike: saved
  // clusters first in their order, then new names as they turn up in the list.
  const colourOf = new Map();
  function colour(name) {
    if (!name) return null;
    if (!colourOf.has(name)) colourOf.set(name, data.palette[colourOf.size % data.palette.length]);
    return colourOf.get(name);
  }
  data.names.forEach(colour);

  function inputFor(code) {
    return form.elements.namedItem("cluster-" + code);
  }

  function paintSwatch(swatch, name) {
    if (!swatch) return;
    const fill = colour(name);
    swatch.style.background = fill || "transparent";
    swatch.style.borderStyle = fill ? "solid" : "dashed";
  }

  const map = L.map(element, { zoomSnap: 0.5 });
  L.tileLayer(data.tiles.url, { attribution: data.tiles.attribution, maxZoom: 19 }).addTo(map);

  // The view is set before anything is drawn: Leaflet creates the shapes' SVG
  // elements only on a map that has one.
  const outline = data.outline
    ? L.geoJSON(data.outline, { style: { color: "#1d4e89", weight: 2, fill: false }, interactive: false })
    : null;
  const bounds = outline ? outline.getBounds() : L.latLngBounds([]);
  data.villages.forEach(function (village) {
    bounds.extend([village.y, village.x]);
  });
  if (!bounds.isValid()) return;
  map.fitBounds(bounds, { animate: false, padding: [16, 16] });
  if (outline) outline.addTo(map);

  Object.keys(data.areas).forEach(function (name) {
    L.geoJSON(data.areas[name], {
      style: { color: "#333", weight: 1, fillColor: colour(name), fillOpacity: 0.35 },
      onEachFeature: function (feature, layer) {
        // Names the drawn shape after its cluster, for tests and for reading the page.
        layer.on("add", function () {
          const path = layer.getElement && layer.getElement();
          if (path) path.setAttribute("data-cluster", name);
        });
        // Text, never HTML: cluster names are typed into the form.
        const tip = document.createElement("span");
        tip.textContent = name;
        layer.bindTooltip(tip, { sticky: true });
      },
    }).addTo(map);
  });

  const markers = data.villages.map(function (village) {
    const marker = L.circleMarker([village.y, village.x], {
      radius: 9,
      color: "#222",
      weight: 2,
      fillOpacity: 0.95,
    }).addTo(map);
    const path = marker.getElement && marker.getElement();
    if (path) path.setAttribute("data-village", village.code);
    return { village: village, marker: marker };
  });

  function paint() {
    markers.forEach(function (item) {
      const input = inputFor(item.village.code);
      const name = input ? input.value.trim() : "";
      const fill = colour(name);
      item.marker.setStyle({ fillColor: fill || "#ffffff", dashArray: fill ? null : "3 3" });
      item.marker.unbindTooltip();
      // Text, never HTML: village and cluster names come from data entry.
      const label = document.createElement("span");
      label.textContent =
        item.village.label + " · " + (name || data.strings.none) + " · " + data.strings.open + ": " + item.village.open;
      item.marker.bindTooltip(label);
      const row = input && input.closest("tr");
      paintSwatch(row && row.querySelector(".cluster-swatch"), name);
    });
  }

  document.querySelectorAll("[data-cluster] .cluster-swatch").forEach(function (swatch) {
    paintSwatch(swatch, swatch.closest("[data-cluster]").getAttribute("data-cluster"));
  });
  form.addEventListener("input", paint);
  paint();
})();
