/*
 * A district's volunteer zones on a map: each zone a coloured area around its
 * households, each household a dot in its volunteer's colour (red when in no
 * zone, ringed when locked), each volunteer's home a square. Tapping households
 * selects them into the page's move/lock form; the form works without this
 * script (ids, a village or a cluster typed or chosen), and the server checks
 * every change.
 */
(function () {
  "use strict";

  const data = JSON.parse(document.getElementById("zone-data").textContent);
  const element = document.getElementById("zone-map");
  const field = document.getElementById("households");
  const count = document.getElementById("selection-count");
  if (!element || typeof L === "undefined") return;

  const colours = {};
  const names = {};
  data.volunteers.forEach(function (v) {
    colours[v.id] = v.colour;
    names[v.id] = v.name;
  });
  const moving = {};
  data.moves.forEach(function (m) {
    moving[m.household] = m.after;
  });

  const map = L.map(element, { zoomSnap: 0.5 });
  L.tileLayer(data.tiles.url, { attribution: data.tiles.attribution, maxZoom: 19 }).addTo(map);
  // The view first: Leaflet cannot place a vector layer on a map with no view.
  const bounds = []
    .concat(data.households, data.volunteers, data.recruits)
    .map(function (p) {
      return [p.lat, p.lon];
    });
  if (bounds.length) map.fitBounds(bounds, { padding: [20, 20], animate: false, maxZoom: 16 });
  else map.setView([15.87, 100.99], 6);

  function text(tag, value) {
    // Text, never HTML: names and addresses come from registry files.
    const node = document.createElement(tag);
    node.textContent = value;
    return node;
  }

  L.geoJSON(data.zones, {
    interactive: false,
    style: function (feature) {
      const colour = colours[feature.properties.volunteer] || "#777";
      return { color: colour, weight: 2, fillColor: colour, fillOpacity: 0.18 };
    },
    onEachFeature: function (feature, layer) {
      layer.on("add", function () {
        const path = layer.getElement && layer.getElement();
        if (path) path.setAttribute("data-zone", feature.properties.volunteer);
      });
    },
  }).addTo(map);

  const selected = new Set(
    (field && field.value ? field.value.split(",") : []).map(Number).filter(Boolean),
  );
  const markers = {};

  function style(h) {
    const chosen = selected.has(h.id);
    const colour = h.volunteer ? colours[h.volunteer] : data.uncoveredColour;
    return {
      radius: chosen ? 9 : 6,
      color: chosen ? "#000" : h.locked ? "#222" : "#fff",
      weight: chosen ? 3 : h.locked ? 3 : 1,
      fillColor: colour || data.uncoveredColour,
      fillOpacity: 0.95,
      dashArray: h.id in moving ? "3 3" : null,
    };
  }

  function showSelection() {
    if (field) field.value = Array.from(selected).join(",");
    if (count) count.textContent = selected.size ? data.strings.selected + ": " + selected.size : "";
  }

  function popup(h) {
    const box = document.createElement("div");
    box.className = "map-popup";
    box.appendChild(text("strong", h.address + (h.village ? " · " + h.village : "")));
    box.appendChild(text("div", data.strings.cases + ": " + h.cases));
    box.appendChild(
      text("div", data.strings.volunteer + ": " + (h.volunteer ? names[h.volunteer] : data.strings.none)),
    );
    if (h.beyond) box.appendChild(text("div", data.strings.beyond));
    if (h.locked) box.appendChild(text("div", data.strings.locked));
    if (h.id in moving) {
      const after = moving[h.id];
      box.appendChild(text("div", data.strings.moves + ": " + (after ? names[after] : data.strings.none)));
    }
    box.appendChild(text("em", selected.has(h.id) ? data.strings.unselect : data.strings.select));
    return box;
  }

  function toggle(h) {
    if (selected.has(h.id)) selected.delete(h.id);
    else selected.add(h.id);
    markers[h.id].setStyle(style(h));
    markers[h.id].setTooltipContent(popup(h));
    showSelection();
  }

  data.households.forEach(function (h) {
    const marker = L.circleMarker([h.lat, h.lon], style(h));
    marker.on("add", function () {
      const path = marker.getElement && marker.getElement();
      if (path) {
        path.setAttribute("data-household", h.id);
        if (!h.volunteer) path.setAttribute("data-uncovered", "true");
      }
    });
    // A tap selects at once: a coordinator picks many households in a row.
    marker.on("click", function () {
      toggle(h);
    });
    marker.bindTooltip(popup(h));
    marker.addTo(map);
    markers[h.id] = marker;
  });

  data.volunteers.forEach(function (v) {
    const icon = L.divIcon({
      className: "zone-home",
      html: "",
      iconSize: [14, 14],
    });
    const marker = L.marker([v.lat, v.lon], { icon: icon, keyboard: false });
    marker.on("add", function () {
      const node = marker.getElement();
      if (node) {
        node.style.background = v.colour;
        node.setAttribute("data-home", v.id);
      }
    });
    // Text, never HTML: volunteers name themselves in a form.
    marker.bindTooltip(text("span", data.strings.home + " " + v.name + " (" + v.households + "/" + v.capacity + ")"));
    marker.addTo(map);
  });

  data.recruits.forEach(function (r) {
    L.circle([r.lat, r.lon], {
      radius: data.maxDistance,
      color: "#1a9641",
      weight: 2,
      dashArray: "6 4",
      fillOpacity: 0.05,
      interactive: false,
    }).addTo(map);
    L.circleMarker([r.lat, r.lon], { radius: 8, color: "#1a9641", fillColor: "#a6d96a", fillOpacity: 1 })
      .bindTooltip(text("span", data.strings.recruit + ": " + r.name + " (+" + r.households + ")"))
      .addTo(map);
  });

  if (field) {
    field.addEventListener("change", function () {
      selected.clear();
      field.value
        .split(",")
        .map(Number)
        .filter(Boolean)
        .forEach(function (id) {
          selected.add(id);
        });
      data.households.forEach(function (h) {
        markers[h.id].setStyle(style(h));
      });
      showSelection();
    });
  }
  showSelection();
  document.body.setAttribute("data-zones-ready", "true");
})();
