/*
 * The gap map: one indicator per area, one level below the area open, as a
 * choropleth with its legend and the same numbers in a table below.
 *
 * Everything comes from /gaps/layer.json, which holds area codes, names, counts,
 * rates, classes and polygons only. Clicking an area (on the map or in the table)
 * opens it; the breadcrumb goes back up. The address bar follows, so a link or a
 * reload shows the same view.
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
