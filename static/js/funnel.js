/*
 * The funnel page's map: households with an open case, unreached in the year shown.
 *
 * Colour tells the kind of case, the ring how far the position can be trusted:
 * solid for a GPS fix taken in the field, thinner for coordinates the registry
 * gave, dashed for a village's point, dotted and faint for somewhere in the tambon.
 * A household that could not be placed has no point; the table counts it.
 * Officials get no points: the server sends grid cells with the number of
 * children in each, and "<k" where there are too few to show.
 *
 * The areas one level down are drawn for orientation; a tap on one that the user
 * may open goes down to it, like the links in the table.
 */
(function () {
  "use strict";

  const data = JSON.parse(document.getElementById("funnel-data").textContent);

  // Picking another year shows it at once; the button stays for keyboards.
  const yearSelect = document.getElementById("funnel-year");
  if (yearSelect) yearSelect.addEventListener("change", () => yearSelect.form.submit());

  const element = document.getElementById("funnel-map");
  if (!element) return; // no reconciliation yet: the page has no map

  // Colour-blind safe pair (ColorBrewer Dark2), distinct from the boundary colours.
  const KIND_COLOURS = { never_enrolled: "#d95f02", dropped_out: "#7570b3" };
  const PRECISION_STYLES = {
    field_gps: { weight: 3, fillOpacity: 0.9, dashArray: null, opacity: 1 },
    given: { weight: 2, fillOpacity: 0.7, dashArray: null, opacity: 1 },
    village: { weight: 2, fillOpacity: 0.45, dashArray: "4 3", opacity: 1 },
    tambon: { weight: 2, fillOpacity: 0.2, dashArray: "1 4", opacity: 0.9 },
  };
  const BOUNDARY_MIN_ZOOM = { province: 0, district: 7, subdistrict: 9 };
  const legend = document.getElementById("funnel-legend");
  const status = document.getElementById("funnel-map-status");
  const english = document.documentElement.lang.startsWith("en");
  const drillable = new Set(data.drill);

  // Half zooms let an area fill the map; boundaries are still asked for at whole zooms.
  const map = L.map(element, { minZoom: 5, maxZoom: 18, zoomSnap: 0.5 });
  L.tileLayer(data.tiles.url, { attribution: data.tiles.attribution, maxZoom: 19 }).addTo(map);
  const [west, south, east, north] = data.extent;
  map.fitBounds([[south, west], [north, east]], { animate: false });

  const Legend = L.Control.extend({
    options: { position: "topright" },
    onAdd: function () {
      L.DomEvent.disableClickPropagation(legend);
      L.DomEvent.disableScrollPropagation(legend);
      return legend;
    },
  });
  new Legend().addTo(map);

  function setStatus(text) {
    status.textContent = text;
    status.hidden = !text;
  }

  function textElement(tag, text) {
    // Text, never HTML: Leaflet would read a string as markup.
    const node = document.createElement(tag);
    node.textContent = text;
    return node;
  }

  function areaLink(code) {
    const query = new URLSearchParams({ area: code });
    if (data.year) query.set("year", data.year);
    return data.funnelUrl + "?" + query.toString();
  }

  function drawBoundaries() {
    const zoom = Math.max(Math.round(map.getZoom()), BOUNDARY_MIN_ZOOM[data.boundaryLevel]);
    const bbox = data.extent.map((value) => value.toFixed(6)).join(",");
    fetch(data.boundaries + "?bbox=" + bbox + "&zoom=" + zoom)
      .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
      .then(function (collection) {
        const inside = collection.features.filter((f) => f.properties.code.startsWith(data.area));
        L.geoJSON(inside, {
          style: { color: "#1d4e89", weight: 1.5, opacity: 0.8, fillOpacity: 0.04 },
          onEachFeature: function (feature, layer) {
            const name = (english && feature.properties.name_en) || feature.properties.name_th;
            layer.bindTooltip(textElement("span", name), { sticky: true });
            if (drillable.has(feature.properties.code)) {
              layer.on("click", () => window.location.assign(areaLink(feature.properties.code)));
            }
          },
        }).addTo(map).bringToBack();
      })
      .catch((error) => console.error("boundaries", error));
  }

  function householdMarker(feature, latlng) {
    const p = feature.properties;
    const colour = KIND_COLOURS[p.kind] || "#333";
    const style = PRECISION_STYLES[p.precision] || PRECISION_STYLES.tambon;
    const marker = L.circleMarker(latlng, Object.assign({}, style, {
      radius: 6 + 2 * Math.sqrt(p.children),
      color: colour,
      fillColor: colour,
      className: "household household-" + p.kind + " precision-" + p.precision,
    }));
    marker.bindTooltip(textElement("span",
      (data.kinds[p.kind] || p.kind) + " · " + p.children + " " + data.strings.children +
      " · " + (data.precisions[p.precision] || p.precision)));
    return marker;
  }

  function cellStyle(feature) {
    const p = feature.properties;
    const colour = KIND_COLOURS[p.kind] || "#333";
    return {
      color: colour, weight: 1, fillColor: colour,
      // A withheld cell is drawn faint: something is there, too few to count.
      fillOpacity: p.children === null ? 0.15 : Math.min(0.8, 0.25 + 0.05 * p.children),
      className: "household-cell household-" + p.kind,
    };
  }

  function cellTooltip(feature, layer) {
    const p = feature.properties;
    const count = p.children === null ? "<" + p.under : String(p.children);
    layer.bindTooltip(textElement("span",
      (data.kinds[p.kind] || p.kind) + " · " + count + " " + data.strings.children), { sticky: true });
  }

  function drawHouseholds() {
    setStatus(data.strings.loading);
    fetch(data.households, { headers: { Accept: "application/geo+json" } })
      .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
      .then(function (collection) {
        // Clusters keep a district's thousands of points readable; they open up
        // from street level, where every house can be told apart.
        const clusters = L.markerClusterGroup({
          maxClusterRadius: 40,
          disableClusteringAtZoom: 15,
          chunkedLoading: true,
        });
        const cells = collection.features.filter((f) => f.geometry.type === "Polygon");
        if (cells.length) {
          // An official's map: children summed per grid cell, never a house.
          L.geoJSON(cells, { style: cellStyle, onEachFeature: cellTooltip }).addTo(map);
        } else {
          clusters.addLayer(L.geoJSON(collection, { pointToLayer: householdMarker }));
          clusters.addTo(map);
        }
        if (collection.truncated) setStatus(data.strings.truncated);
        else if (!collection.features.length) setStatus(data.strings.none);
        else setStatus("");
        element.dataset.households = String(collection.features.length);
      })
      .catch(function (error) {
        console.error("households", error);
        setStatus(data.strings.loadFailed);
      });
  }

  drawBoundaries();
  drawHouseholds();
})();
