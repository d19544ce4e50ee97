/*
 * A team's page: the district's tambons and clusters on a map, coloured by the
 * team holding each. Tapping a place offers to assign it to this team; the
 * button submits the page's own form (the list works without this script), so
 * the server checks and refuses exactly as it does for the list.
 */
(function () {
  "use strict";

  const data = JSON.parse(document.getElementById("team-data").textContent);
  const element = document.getElementById("team-map");
  const form = document.getElementById("places-form");
  if (!element || !form || !data.extent || typeof L === "undefined") return;

  const map = L.map(element, { zoomSnap: 0.5 });
  L.tileLayer(data.tiles.url, { attribution: data.tiles.attribution, maxZoom: 19 }).addTo(map);
  const [west, south, east, north] = data.extent;
  map.fitBounds([[south, west], [north, east]], { animate: false });

  function textElement(tag, text) {
    // Text, never HTML: place and team names come from data entry.
    const node = document.createElement(tag);
    node.textContent = text;
    return node;
  }

  function popup(properties) {
    const box = document.createElement("div");
    box.className = "map-popup";
    const title = properties.name === properties.tambon
      ? properties.tambon
      : properties.name + " · " + properties.tambon;
    box.appendChild(textElement("strong", title));
    box.appendChild(textElement("div", data.strings.open + ": " + properties.open));
    box.appendChild(
      textElement(
        "div",
        properties.team ? data.strings.held.replace("%(team)s", properties.teamName) : data.strings.free,
      ),
    );
    if (properties.team !== data.team) {
      const button = textElement("button", data.strings.assign);
      button.type = "button";
      button.className = "secondary";
      button.addEventListener("click", function () {
        const field = document.createElement("input");
        field.type = "hidden";
        field.name = "assign";
        field.value = properties.key;
        form.appendChild(field);
        form.submit();
      });
      box.appendChild(button);
    }
    return box;
  }

  L.geoJSON(data.features, {
    style: function (feature) {
      const colour = data.colours[String(feature.properties.team)];
      return {
        color: "#1d4e89",
        weight: feature.properties.team === data.team ? 3 : 1.5,
        fillColor: colour || "#ffffff",
        fillOpacity: colour ? 0.55 : 0.15,
      };
    },
    onEachFeature: function (feature, layer) {
      // Names the drawn shape after its place, for tests and for reading the page.
      layer.on("add", function () {
        const path = layer.getElement && layer.getElement();
        if (path) path.setAttribute("data-place", feature.properties.key);
      });
      layer.bindTooltip(textElement("span", feature.properties.name), { sticky: true });
      layer.bindPopup(function () {
        return popup(feature.properties);
      });
    },
  }).addTo(map);
})();
