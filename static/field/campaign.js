/*
 * A home-visit campaign on the map: the school, every household of the campaign
 * in its teacher's colour (hollow once visited), and for the day chosen above the
 * map each teacher's path from the school and back with numbered stops. The lists
 * below say the same, so the page reads without this script.
 */
(function () {
  "use strict";

  const element = document.getElementById("campaign-map");
  const source = document.getElementById("campaign-data");
  if (!element || !source || typeof L === "undefined") return;
  const data = JSON.parse(source.textContent);
  const picker = document.getElementById("campaign-map-day");

  const map = L.map(element, { zoomSnap: 0.5 });
  L.tileLayer(data.tiles.url, { attribution: data.tiles.attribution, maxZoom: 19 }).addTo(map);
  const bounds = L.latLngBounds([]);
  const colour = (teacher) => data.colours[teacher % data.colours.length];

  // Text, never HTML: addresses come from registry files, names from a form.
  function tooltip(teacher, stop, day) {
    const tip = document.createElement("div");
    const head = document.createElement("strong");
    head.textContent = data.teachers[teacher];
    tip.appendChild(head);
    const when = day ? day + " · " : "";
    const status = stop.visited ? data.strings.visited : data.strings.not_visited;
    tip.appendChild(document.createElement("br"));
    tip.appendChild(document.createTextNode(
      stop.sequence + ". " + when + data.strings.arrives + " " + stop.arrives + " · " + status));
    tip.appendChild(document.createElement("br"));
    tip.appendChild(document.createTextNode(stop.address));
    return tip;
  }

  if (data.school) {
    L.circleMarker(data.school, {
      radius: 10,
      color: "#1d4e89",
      weight: 4,
      fillColor: "#ffffff",
      fillOpacity: 1,
      className: "campaign-school",
    })
      .bindTooltip(data.strings.school)
      .addTo(map);
    bounds.extend(data.school);
  }

  // Every household, whatever the day: how the work is shared and how far it got.
  data.days.forEach(function (day) {
    day.routes.forEach(function (route) {
      const hue = colour(route.teacher);
      route.stops.forEach(function (stop) {
        L.circleMarker(stop.at, {
          radius: 6,
          color: stop.visited ? hue : "#333333",
          weight: stop.visited ? 3 : 1,
          fillColor: stop.visited ? "#ffffff" : hue,
          fillOpacity: 0.95,
          className: "campaign-household" + (stop.visited ? " visited" : ""),
        })
          .bindTooltip(tooltip(route.teacher, stop, day.day))
          .addTo(map);
        bounds.extend(stop.at);
      });
    });
  });

  const dayLayer = L.layerGroup().addTo(map);

  function drawDay(iso) {
    dayLayer.clearLayers();
    const day = data.days.find((d) => d.day === iso);
    if (!day) return;
    day.routes.forEach(function (route) {
      const hue = colour(route.teacher);
      if (route.path.length > 1) {
        L.polyline(route.path, {
          color: hue,
          weight: 4,
          opacity: 0.9,
          className: "campaign-path",
        }).addTo(dayLayer);
      }
      route.stops.forEach(function (stop) {
        const number = document.createElement("span");
        number.className = "route-number" + (stop.visited ? " visited" : "");
        number.style.background = stop.visited ? "#ffffff" : hue;
        number.style.borderColor = stop.visited ? hue : "";
        number.textContent = String(stop.sequence);
        const marker = L.marker(stop.at, {
          icon: L.divIcon({
            className: "route-marker campaign-stop",
            html: number.outerHTML,
            iconSize: [28, 28],
          }),
          title: data.teachers[route.teacher] + " " + stop.sequence,
          zIndexOffset: 1000,
        });
        marker.bindTooltip(tooltip(route.teacher, stop, null));
        marker.on("add", function () {
          const icon = marker.getElement && marker.getElement();
          if (icon) icon.setAttribute("data-stop", route.teacher + "-" + stop.sequence);
        });
        marker.addTo(dayLayer);
      });
    });
  }

  if (picker) {
    picker.addEventListener("change", function () {
      drawDay(picker.value);
    });
    // Opening a day in the list below shows it on the map too.
    document.querySelectorAll("details.campaign-day").forEach(function (details) {
      details.addEventListener("toggle", function () {
        if (!details.open) return;
        picker.value = details.dataset.day;
        drawDay(details.dataset.day);
      });
    });
  }
  drawDay(picker ? picker.value : data.day);

  if (bounds.isValid()) {
    map.fitBounds(bounds.pad(0.08), { animate: false, maxZoom: 17 });
  } else {
    map.setView([13.75, 100.5], 6);
  }
})();
