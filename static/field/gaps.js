/*
 * The gap map: one indicator per area, one level below the area open, as a
 * choropleth with its legend and the same numbers in a table below.
 *
 * Everything comes from /gaps/layer.json, which holds area codes, names, counts,
 * rates, classes and polygons only. Clicking an area (on the map or in the table)
 * opens it; the breadcrumb goes back up. The address bar follows, so a link or a
 * reload shows the same view.
 *
 * Two overlays, off until chosen in the layer control: "Schools" and
 * "Catchments", from /gaps/schools.json for the map's box, reloaded when the map
 * moves. Below the zoom the server names (schools.pointZoom) it sends a grid of
 * cells with counts of schools; from it the schools, and around each a circle of
 * the distance the access indicators count from (metres on the ground), for
 * primary and for secondary.
 */
(function () {
  "use strict";

  const data = JSON.parse(document.getElementById("gaps-data").textContent);
  const s = data.strings;
  const english = document.documentElement.lang.startsWith("en");
  // ColorBrewer OrRd, colour-blind safe. The gaps are always dark: where more is
  // worse (children out of school) the top class, where more is better (visits,
  // coverage) the bottom one.
  const WORSE = ["#fef0d9", "#fdcc8a", "#fc8d59", "#e34a33", "#b30000"];
  const BETTER = WORSE.slice().reverse();
  const BETTER_KEYS = new Set(["visited", "found", "brought_back", "zone_coverage", "team_coverage"]);
  const COVERAGE = new Set(["zone_coverage", "team_coverage"]);
  const NO_DATA = "#f4f4f4";

  const state = {
    area: data.area,
    year: data.year,
    indicator: data.indicator,
    method: data.method,
  };
  const indicatorSelect = document.getElementById("gap-indicator");
  const methodSelect = document.getElementById("gap-method");
  const yearSelect = document.getElementById("gap-year");
  const statusElement = document.getElementById("gap-status");
  const legend = document.getElementById("gap-legend");
  const table = document.getElementById("gap-table");
  indicatorSelect.value = state.indicator;
  methodSelect.value = state.method;

  const map = L.map("gap-map", { minZoom: 5, maxZoom: 14, zoomSnap: 0.25 });
  L.tileLayer(data.tiles.url, { attribution: data.tiles.attribution, maxZoom: 19 }).addTo(map);
  const renderer = L.svg();
  const Legend = L.Control.extend({
    options: { position: "topright" },
    onAdd: function () {
      L.DomEvent.disableClickPropagation(legend);
      L.DomEvent.disableScrollPropagation(legend);
      return legend;
    },
  });
  new Legend().addTo(map);
  let areaLayer = null;

  // Catchments under the schools, both over the areas: panes keep that order
  // whichever is drawn first. Catchments take no pointer, so areas under them
  // still open with a tap.
  const SCHOOLS = data.schools;
  map.createPane("gap-catchments").style.zIndex = "420";
  map.createPane("gap-schools").style.zIndex = "450";
  const catchmentRenderer = L.svg({ pane: "gap-catchments" });
  const schoolRenderer = L.svg({ pane: "gap-schools" });
  const schoolLayer = L.layerGroup();
  const catchmentLayer = L.layerGroup();
  const schoolsStatus = document.getElementById("gap-schools-status");
  let schoolRequest = 0;
  // The tambon last brought close (tests wait for the schools drawn for it).
  let focus = "";
  let request = 0;

  function text(tag, content, className) {
    // Text, never HTML: names come from data.
    const node = document.createElement(tag);
    node.textContent = content;
    if (className) node.className = className;
    return node;
  }

  function setStatus(message) {
    statusElement.textContent = message;
    statusElement.hidden = !message;
  }

  function nameOf(props) {
    return (english && props.name_en) || props.name_th;
  }

  function number(value) {
    return value === null || value === undefined ? "x" : value.toLocaleString(english ? "en" : "th");
  }

  function palette() {
    return BETTER_KEYS.has(state.indicator) ? BETTER : WORSE;
  }

  function colourOf(props) {
    if (props.withheld) return "url(#gap-hatch)";
    if (props["class"] === null) return NO_DATA;
    return palette()[props["class"]] || NO_DATA;
  }

  function valueText(props, layer) {
    if (props.withheld) return s.withheld;
    if (props.value === null) return s.noValue;
    return number(props.value) + " " + layer.indicator.unit;
  }

  function ensureHatch() {
    // Withheld areas get a hatch, as in the legend: grey alone would read as "low".
    const svg = renderer._container;
    if (!svg || svg.querySelector("#gap-hatch")) return;
    const ns = "http://www.w3.org/2000/svg";
    const defs = document.createElementNS(ns, "defs");
    const pattern = document.createElementNS(ns, "pattern");
    pattern.setAttribute("id", "gap-hatch");
    pattern.setAttribute("width", "6");
    pattern.setAttribute("height", "6");
    pattern.setAttribute("patternUnits", "userSpaceOnUse");
    pattern.setAttribute("patternTransform", "rotate(45)");
    const back = document.createElementNS(ns, "rect");
    back.setAttribute("width", "6");
    back.setAttribute("height", "6");
    back.setAttribute("fill", "#d9d9d9");
    const line = document.createElementNS(ns, "rect");
    line.setAttribute("width", "2");
    line.setAttribute("height", "6");
    line.setAttribute("fill", "#737373");
    pattern.append(back, line);
    defs.append(pattern);
    svg.prepend(defs);
  }

  function query() {
    const params = new URLSearchParams({ indicator: state.indicator, method: state.method });
    if (state.area) params.set("area", state.area);
    if (state.year) params.set("year", state.year);
    return params;
  }

  function open(code) {
    state.area = code;
    focus = "";
    load(true);
  }

  function drawTrail(layer) {
    const trail = document.getElementById("gap-trail");
    trail.replaceChildren();
    const steps = [];
    if (data.root === "" && layer.area.code) steps.push(["", s.thailand]);
    layer.area.trail.forEach((step) => {
      if (step[0].length >= data.root.length) steps.push(step);
    });
    steps.forEach(function (step) {
      const link = text("a", step[1]);
      link.href = "?" + new URLSearchParams({ area: step[0], indicator: state.indicator });
      link.dataset.area = step[0];
      link.addEventListener("click", function (event) {
        event.preventDefault();
        open(step[0]);
      });
      trail.append(link, " › ");
    });
    trail.append(text("span", layer.area.name));
  }

  function drawYears(layer) {
    yearSelect.replaceChildren();
    layer.years.forEach(function (year) {
      const option = text("option", String(year));
      option.value = String(year);
      option.selected = year === layer.year;
      yearSelect.append(option);
    });
    yearSelect.disabled = layer.years.length < 2;
  }

  function drawLegend(layer) {
    document.getElementById("gap-legend-title").textContent =
      layer.indicator.label + " (" + layer.indicator.unit + ")";
    const list = document.getElementById("gap-legend-classes");
    list.replaceChildren();
    let low = null;
    layer.breaks.forEach(function (high, index) {
      const item = document.createElement("li");
      const swatch = text("span", "", "swatch");
      swatch.style.background = palette()[index];
      const range = low === null ? "≤ " + number(high) : number(low) + " – " + number(high);
      item.append(swatch, text("span", range));
      item.dataset["class"] = String(index);
      list.append(item);
      low = high;
    });
    document.getElementById("gap-legend-note").textContent = layer.indicator.explanation;
  }

  function tooltipFor(props, layer) {
    const box = document.createElement("div");
    box.append(text("strong", nameOf(props)), document.createElement("br"));
    box.append(text("span", valueText(props, layer)));
    const counts = props.counts;
    const numerator = counts[layer.indicator.numerator];
    const denominator = counts[layer.indicator.denominator];
    box.append(document.createElement("br"));
    box.append(text("small", number(numerator) + " " + s.of + " " + number(denominator)));
    if (COVERAGE.has(state.indicator) && props.uncovered) {
      box.append(document.createElement("br"), text("small", s.uncovered, "uncovered-note"));
    }
    return box;
  }

  function drawMap(layer, fit) {
    if (areaLayer) {
      // A tooltip opened by the pointer outlives its area otherwise (Leaflet 1.9).
      areaLayer.eachLayer((path) => path.unbindTooltip());
      areaLayer.remove();
    }
    map.eachLayer((layer) => {
      if (layer instanceof L.Tooltip) map.removeLayer(layer);
    });
    const features = layer.features.filter((f) => f.geometry);
    areaLayer = L.geoJSON(features, {
      renderer: renderer,
      style: (feature) => ({
        color: "#4d4d4d",
        weight: 1,
        fillOpacity: 0.8,
        fillColor: colourOf(feature.properties),
      }),
      onEachFeature: function (feature, path) {
        path.bindTooltip(tooltipFor(feature.properties, layer), { sticky: true });
        if (feature.properties.drill) {
          path.on("click", function () {
            // A tap opens the tooltip too; it must not stay over the next level.
            path.closeTooltip();
            open(feature.properties.code);
          });
        } else {
          // A tambon has no level below: a tap brings it close, where the schools
          // and their catchments are drawn.
          path.on("click", function () {
            focus = feature.properties.code;
            document.body.dataset.gapsFocus = focus;
            areaLayer.resetStyle();
            path.setStyle({ weight: 3, color: "#08306b" });
            path.bringToFront();
            map.fitBounds(path.getBounds(), { padding: [8, 8], maxZoom: 13 });
          });
        }
        path.on("add", function () {
          const element = path.getElement();
          element.dataset.area = feature.properties.code;
          element.dataset.withheld = String(feature.properties.withheld);
        });
      },
    }).addTo(map);
    ensureHatch();
    if (fit) {
      const bounds = areaLayer.getBounds();
      if (bounds.isValid()) map.fitBounds(bounds, { animate: false, padding: [8, 8] });
      else {
        const [west, south, east, north] = layer.area.extent;
        map.fitBounds([[south, west], [north, east]], { animate: false });
      }
    }
  }

  function tableRow(props, layer, options) {
    const row = document.createElement("tr");
    row.dataset.area = props.code;
    if (props.uncovered && COVERAGE.has(state.indicator)) row.classList.add("uncovered");
    const head = document.createElement("th");
    head.scope = "row";
    if (options.drill && props.drill) {
      const link = text("a", options.name);
      link.href = "?" + new URLSearchParams({ area: props.code, indicator: state.indicator });
      link.addEventListener("click", function (event) {
        event.preventDefault();
        open(props.code);
      });
      head.append(link);
    } else head.append(text("span", options.name));
    if (props.uncovered && COVERAGE.has(state.indicator)) {
      head.append(" ", text("span", s.uncovered, "badge-uncovered"));
    }
    row.append(head);
    row.append(text("td", props.withheld ? "x" : props.value === null ? "–" : number(props.value), "num"));
    row.append(text("td", number(props.counts[layer.indicator.numerator]), "num"));
    row.append(text("td", number(props.counts[layer.indicator.denominator]), "num"));
    const klass = document.createElement("td");
    if (options.swatch) {
      const swatch = text("span", "", "swatch" + (props.withheld ? " swatch-withheld" : ""));
      if (!props.withheld) swatch.style.background = colourOf(props);
      klass.append(swatch);
    }
    row.append(klass);
    return row;
  }

  function drawTable(layer) {
    const levelName = s.levels[layer.childLevel] || "";
    document.getElementById("gap-caption").textContent =
      layer.indicator.label + " · " + levelName + " · " + layer.area.name + (layer.year ? " · " + layer.year : "");
    document.getElementById("gap-col-value").textContent = layer.indicator.unit;
    document.getElementById("gap-col-numerator").textContent = data.quantities[layer.indicator.numerator];
    document.getElementById("gap-col-denominator").textContent = data.quantities[layer.indicator.denominator];
    const body = table.tBodies[0];
    body.replaceChildren(
      ...layer.features.map((f) => tableRow(f.properties, layer, { name: nameOf(f.properties), drill: true, swatch: true })),
    );
    const foot = table.tFoot;
    foot.replaceChildren();
    if (layer.unplaced) foot.append(tableRow(layer.unplaced, layer, { name: s.unplaced }));
    if (layer.total) foot.append(tableRow(layer.total, layer, { name: s.total + ": " + layer.area.name }));
  }

  function load(push) {
    const ticket = ++request;
    setStatus(s.loading);
    document.body.dataset.gapsReady = "false";
    fetch(data.layerUrl + "?" + query(), { headers: { Accept: "application/geo+json" } })
      .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
      .then(function (layer) {
        if (ticket !== request) return; // a later click won
        const areaChanged = layer.area.code !== map._gapArea;
        map._gapArea = layer.area.code;
        state.area = layer.area.code;
        state.year = layer.year;
        const params = query();
        const url = "?" + params;
        if (push) history.pushState({ ...state }, "", url);
        else history.replaceState({ ...state }, "", url);
        document.querySelectorAll("a[data-export]").forEach(function (link) {
          link.href = link.dataset.export + url;
        });
        document.getElementById("gap-title").textContent =
          document.getElementById("gap-title").dataset.prefix + ": " + layer.area.name;
        drawTrail(layer);
        drawYears(layer);
        drawLegend(layer);
        drawMap(layer, areaChanged);
        drawTable(layer);
        setStatus(layer.year === null ? s.noYear : "");
        document.body.dataset.gapsReady = "true";
        document.body.dataset.gapsArea = layer.area.code;
        document.body.dataset.gapsIndicator = layer.indicator.key;
      })
      .catch(function (error) {
        console.error("gap layer", error);
        setStatus(s.loadFailed);
      });
  }

  // --- schools and catchments ---------------------------------------------------

  function escaped(value) {
    // The layer control writes its labels as HTML.
    const node = document.createElement("span");
    node.textContent = value;
    return node.innerHTML;
  }

  function km(metres) {
    return (metres / 1000).toLocaleString(english ? "en" : "th");
  }

  function overlayLabel(name, parts) {
    return (
      '<span class="overlay-name">' +
      escaped(name) +
      "</span>" +
      parts
        .map((part) => '<span class="overlay-key"><span class="swatch ' + part[0] + '"></span>' + escaped(part[1]) + "</span>")
        .join("")
    );
  }

  const overlays = {};
  overlays[overlayLabel(s.schools, [])] = schoolLayer;
  overlays[
    overlayLabel(s.catchments, [
      ["swatch-catchment-primary", s.catchmentPrimary.replace("%(km)s", km(SCHOOLS.distances.primary))],
      ["swatch-catchment-secondary", s.catchmentSecondary.replace("%(km)s", km(SCHOOLS.distances.secondary))],
    ])
  ] = catchmentLayer;
  L.control.layers(null, overlays, { collapsed: false, position: "topleft" }).addTo(map);

  function setSchoolsStatus(message) {
    schoolsStatus.textContent = message;
    schoolsStatus.hidden = !message;
  }

  function schoolsWanted() {
    return map.hasLayer(schoolLayer) || map.hasLayer(catchmentLayer);
  }

  function schoolTooltip(props) {
    const box = document.createElement("div");
    box.append(text("strong", props.name), document.createElement("br"));
    box.append(text("span", (SCHOOLS.affiliations[props.affiliation] || props.affiliation) + " · " + props.code));
    box.append(document.createElement("br"));
    box.append(text("span", props.levels.map((level) => SCHOOLS.levels[level] || level).join(", ")));
    box.append(document.createElement("br"));
    box.append(text("small", s.students + " " + number(props.students)));
    return box;
  }

  function cellTooltip(props) {
    const box = document.createElement("div");
    box.append(text("strong", number(props.schools) + " " + s.schoolsInCell), document.createElement("br"));
    box.append(text("span", number(props.primary) + " " + s.teachPrimary), document.createElement("br"));
    box.append(text("span", number(props.secondary) + " " + s.teachSecondary));
    return box;
  }

  function drawCells(features) {
    features.forEach(function (feature) {
      const ring = feature.geometry.coordinates[0];
      const bounds = L.latLngBounds([ring[0][1], ring[0][0]], [ring[2][1], ring[2][0]]);
      L.rectangle(bounds, {
        renderer: schoolRenderer,
        className: "school-cell",
        color: "#1d4f91",
        weight: 1,
        fillColor: "#1d4f91",
        fillOpacity: 0.12,
      })
        .bindTooltip(cellTooltip(feature.properties), { sticky: true })
        .addTo(schoolLayer);
      L.marker(bounds.getCenter(), {
        pane: "gap-schools",
        interactive: false,
        keyboard: false,
        icon: L.divIcon({
          className: "school-cell-count",
          html: escaped(number(feature.properties.schools)),
          iconSize: [36, 18],
        }),
      }).addTo(schoolLayer);
    });
  }

  function drawSchools(features) {
    features.forEach(function (feature) {
      const [lon, lat] = feature.geometry.coordinates;
      const props = feature.properties;
      const where = L.latLng(lat, lon);
      if (props.primary) {
        L.circle(where, {
          renderer: catchmentRenderer,
          radius: SCHOOLS.distances.primary,
          className: "catchment catchment-primary",
          interactive: false,
          color: "#2171b5",
          weight: 1.5,
          fillOpacity: 0.04,
        }).addTo(catchmentLayer);
      }
      if (props.secondary) {
        L.circle(where, {
          renderer: catchmentRenderer,
          radius: SCHOOLS.distances.secondary,
          className: "catchment catchment-secondary",
          interactive: false,
          color: "#6a3d9a",
          weight: 1.5,
          dashArray: "6 4",
          fill: false,
        }).addTo(catchmentLayer);
      }
      L.circleMarker(where, {
        renderer: schoolRenderer,
        className: "school",
        radius: 5,
        color: "#ffffff",
        weight: 1.5,
        fillColor: props.secondary && !props.primary ? "#6a3d9a" : "#08306b",
        fillOpacity: 1,
      })
        .bindTooltip(schoolTooltip(props), { direction: "top" })
        .addTo(schoolLayer);
    });
  }

  function clearSchools() {
    [schoolLayer, catchmentLayer].forEach(function (group) {
      group.eachLayer((layer) => layer.unbindTooltip && layer.unbindTooltip());
      group.clearLayers();
    });
  }

  function loadSchools() {
    const ticket = ++schoolRequest;
    if (!schoolsWanted()) {
      clearSchools();
      setSchoolsStatus("");
      delete document.body.dataset.schoolsReady;
      return;
    }
    const zoom = Math.floor(map.getZoom());
    const box = map.getBounds().pad(0.1);
    const forFocus = focus;
    const bbox = [
      Math.max(box.getWest(), -180),
      Math.max(box.getSouth(), -90),
      Math.min(box.getEast(), 180),
      Math.min(box.getNorth(), 90),
    ]
      .map((value) => value.toFixed(5))
      .join(",");
    document.body.dataset.schoolsReady = "false";
    fetch(SCHOOLS.url + "?" + new URLSearchParams({ bbox: bbox, zoom: String(zoom) }), {
      headers: { Accept: "application/geo+json" },
    })
      .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
      .then(function (layer) {
        if (ticket !== schoolRequest) return; // the map moved again
        clearSchools();
        if (layer.kind === "cells") drawCells(layer.features);
        else drawSchools(layer.features);
        const notes = [];
        if (layer.truncated) notes.push(s.truncated);
        if (layer.kind === "cells" && map.hasLayer(catchmentLayer)) notes.push(s.zoomForSchools);
        setSchoolsStatus(notes.join(" "));
        document.body.dataset.schoolsKind = layer.kind;
        document.body.dataset.schoolsZoom = String(layer.zoom);
        document.body.dataset.schoolsFocus = forFocus;
        document.body.dataset.schoolsReady = "true";
      })
      .catch(function (error) {
        console.error("schools", error);
        setSchoolsStatus(s.schoolsFailed);
      });
  }

  map.on("moveend", loadSchools);
  map.on("overlayadd overlayremove", loadSchools);

  indicatorSelect.addEventListener("change", function () {
    state.indicator = indicatorSelect.value;
    load(false);
  });
  methodSelect.addEventListener("change", function () {
    state.method = methodSelect.value;
    load(false);
  });
  yearSelect.addEventListener("change", function () {
    state.year = Number(yearSelect.value);
    load(false);
  });
  document.getElementById("gap-tools").addEventListener("submit", (event) => event.preventDefault());
  window.addEventListener("popstate", function (event) {
    if (!event.state) return;
    Object.assign(state, event.state);
    indicatorSelect.value = state.indicator;
    methodSelect.value = state.method;
    load(false);
  });

  load(false);
})();
