/*
 * A day plan on the map: each member's path from the base through the stops and
 * back, and a numbered marker per stop whose tooltip gives the arrival time and
 * the address. The list beside the map says the same, so the page reads without
 * this script.
 */
(function () {
  "use strict";

  const data = JSON.parse(document.getElementById("route-data").textContent);
  const element = document.getElementById("route-map");
  if (!element || typeof L === "undefined") return;

  const map = L.map(element, { zoomSnap: 0.5 });
  L.tileLayer(data.tiles.url, { attribution: data.tiles.attribution, maxZoom: 19 }).addTo(map);
  const bounds = L.latLngBounds([data.base]);
  const several = data.members.length > 1;

  L.circleMarker(data.base, {
    radius: 9,
    color: "#1d4e89",
    weight: 3,
    fillColor: "#ffffff",
    fillOpacity: 1,
  })
    .bindTooltip(data.strings.base)
    .addTo(map);

  data.members.forEach(function (member) {
    if (member.path.length) {
      const line = L.polyline(member.path, { color: member.colour, weight: 4, opacity: 0.9 });
      line.on("add", function () {
        const path = line.getElement && line.getElement();
        if (path) path.setAttribute("data-route", member.letter);
      });
      line.addTo(map);
    }
    member.stops.forEach(function (stop) {
      const label = (several ? member.letter : "") + stop.sequence;
      // Text, never HTML: addresses come from registry files.
      const number = document.createElement("span");
      number.className = "route-number";
      number.style.background = member.colour;
      number.textContent = label;
      const marker = L.marker([stop.lat, stop.lon], {
        icon: L.divIcon({ className: "route-marker", html: number.outerHTML, iconSize: [28, 28] }),
        title: label,
      });
      const tip = document.createElement("div");
      const head = document.createElement("strong");
      head.textContent = label + " · " + data.strings.arrives + " " + stop.arrives;
      tip.appendChild(head);
      tip.appendChild(document.createElement("br"));
      tip.appendChild(document.createTextNode(stop.address));
      marker.bindTooltip(tip);
      marker.on("add", function () {
        const icon = marker.getElement && marker.getElement();
        if (icon) icon.setAttribute("data-stop", label);
      });
      marker.addTo(map);
      bounds.extend([stop.lat, stop.lon]);
    });
  });
  map.fitBounds(bounds.pad(0.08), { animate: false, maxZoom: 17 });
})();
