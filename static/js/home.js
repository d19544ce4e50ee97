/*
 * The home map: Thailand's provinces, districts and tambons, one level at a time.
 *
 * The level follows the zoom; the bands come from geo/views.py (ZOOM_BANDS) through
 * json_script: provinces below zoom 8, districts at 8 and 9, tambons from 10. Only
 * one level is drawn: the boundary files simplify each level on its own, so a
 * district's line does not follow its tambons' edges, and drawn together they would
 * show villages in the wrong district.
 *
 * Boundaries are fetched per cell of a fixed grid, 512 px squares at the current
 * zoom, rather than for the exact view: the same cell always gives the same URL, so
 * the browser's HTTP cache (a day) answers when the user pans back or returns. An
 * area that spans several cells comes more than once and is drawn once, by code.
 * A new zoom fetches again, because the server simplifies to the zoom.
 *
 * The view is kept in the address (#zoom/lat/lng) so that a reload, a shared link
 * or a change of language opens the same place.
 */
(function () {
  "use strict";

  const CELL_PX = 512;
  const COLOURS = { province: "#1d4e89", district: "#17795e", subdistrict: "#b4531a" };
  const WEIGHTS = { province: 2.5, district: 2, subdistrict: 1.5 };
  // A faint fill makes the inside of an area answer to hover and tap, not just its line.
  const BASE_STYLE = { opacity: 0.9, fillOpacity: 0.06 };
  const HOVER_STYLE = { fillOpacity: 0.25 };
  const LABEL_FONT_PX = 13;
  const LABEL_HEIGHT_PX = 20;

  const data = JSON.parse(document.getElementById("home-data").textContent);
  const english = data.language.startsWith("en");
  const legend = document.getElementById("map-legend");
  const legendLevel = document.getElementById("legend-level-name");
  const legendArea = document.getElementById("legend-area");
  const legendStatus = document.getElementById("legend-status");
  const legendHint = legendArea.textContent;
  const languageNext = document.querySelector(".language-switch input[name=next]");
  const measure = document.createElement("canvas").getContext("2d");
  measure.font = "600 " + LABEL_FONT_PX + "px " + getComputedStyle(document.body).fontFamily;

  const country = L.latLngBounds(data.bounds);
  const map = L.Map.djangoMap("map", { djoptions: data.map, globals: false, callback: null });

  const Legend = L.Control.extend({
    options: { position: "topright" },
    onAdd: function () {
      L.DomEvent.disableClickPropagation(legend);
      L.DomEvent.disableScrollPropagation(legend);
      return legend;
    },
  });
  new Legend().addTo(map);

  let generation = null; // the level and zoom being drawn, with what is fetched for it
  let shown = null; // the layer group on the map now

  function areaName(properties) {
    const name = english ? properties.name_en : properties.name_th;
    return name || properties.name_th || properties.name_en;
  }

  function textElement(tag, className, text) {
    // Names go in as text: Leaflet would read a string as HTML.
    const element = document.createElement(tag);
    element.className = className;
    element.textContent = text;
    return element;
  }

  function levelIndexFor(zoom) {
    let found = 0;
    data.levels.forEach(function (level, index) {
      if (zoom >= level.minZoom) found = index;
    });
    return found;
  }

  function cellsInView(zoom) {
    const pixels = map.getPixelBounds(map.getCenter(), zoom);
    const first = pixels.min.divideBy(CELL_PX).floor();
    const last = pixels.max.divideBy(CELL_PX).floor();
    const cells = [];
    for (let x = first.x; x <= last.x; x++) {
      for (let y = first.y; y <= last.y; y++) {
        const nw = map.unproject([x * CELL_PX, y * CELL_PX], zoom);
        const se = map.unproject([(x + 1) * CELL_PX, (y + 1) * CELL_PX], zoom);
        const box = [
          Math.max(nw.lng, -180), Math.max(se.lat, -85), Math.min(se.lng, 180), Math.min(nw.lat, 85),
        ];
        // Cells that miss Thailand would only bring back an empty collection.
        const inCountry =
          box[0] < country.getEast() && box[2] > country.getWest() &&
          box[1] < country.getNorth() && box[3] > country.getSouth();
        if (inCountry && box[0] < box[2] && box[1] < box[3]) {
          cells.push({ id: x + ":" + y, bbox: box.map((v) => v.toFixed(6)).join(",") });
        }
      }
    }
    return cells;
  }

  function showLevel(level) {
    legendLevel.textContent = level.label;
    legendArea.textContent = legendHint; // the area named before belongs to another level
    for (const item of legend.querySelectorAll("[data-level]")) {
      const active = item.dataset.level === level.level;
      item.classList.toggle("active", active);
      if (active) item.setAttribute("aria-current", "true");
      else item.removeAttribute("aria-current");
    }
  }

  function showArea(level, properties) {
    legendArea.replaceChildren(
      textElement("strong", "area-name", areaName(properties)),
      textElement("small", "area-code", level.label + " · " + properties.code),
    );
  }

  function setStatus(text) {
    legendStatus.textContent = text;
    legendStatus.hidden = !text;
  }

  function labelBox(gen, layer, properties, name) {
    // A name is written on the map only where the area is wide enough to hold it
    // and no name already written is in the way; elsewhere it shows on hover. So
    // names appear zoom by zoom as the areas grow, never on top of each other.
    const width = measure.measureText(name).width + 8;
    const bounds = layer.getBounds();
    const sw = map.project(bounds.getSouthWest(), gen.zoom);
    const ne = map.project(bounds.getNorthEast(), gen.zoom);
    if (ne.x - sw.x < width || sw.y - ne.y < LABEL_HEIGHT_PX + 8) return null;
    const at = map.project([properties.label[1], properties.label[0]], gen.zoom);
    const box = {
      left: at.x - width / 2, right: at.x + width / 2,
      top: at.y - LABEL_HEIGHT_PX / 2, bottom: at.y + LABEL_HEIGHT_PX / 2,
    };
    const clash = gen.labelBoxes.some(function (other) {
      return box.left < other.right && other.left < box.right &&
        box.top < other.bottom && other.top < box.bottom;
    });
    return clash ? null : box;
  }

  function bindArea(gen, feature, layer) {
    const properties = feature.properties;
    const name = areaName(properties);
    const box = labelBox(gen, layer, properties, name);
    if (box) {
      gen.labelBoxes.push(box);
      const icon = L.divIcon({
        className: "area-label area-label-" + gen.level.level,
        html: textElement("span", "", name),
        iconSize: null,
      });
      const at = [properties.label[1], properties.label[0]];
      L.marker(at, { icon: icon, interactive: false, keyboard: false }).addTo(gen.group);
    } else {
      layer.bindTooltip(textElement("span", "", name), { sticky: true, className: "area-tooltip" });
    }
    layer.on({
      mouseover: function () {
        layer.setStyle(HOVER_STYLE);
        showArea(gen.level, properties);
      },
      mouseout: function () {
        layer.setStyle(BASE_STYLE);
      },
      // On a tablet there is no hover: a tap names the area and zooms to it, which
      // is also how one goes down a level.
      click: function () {
        showArea(gen.level, properties);
        map.fitBounds(layer.getBounds());
      },
    });
  }

  function freshFeatures(gen, collection) {
    return collection.features.filter(function (feature) {
      if (gen.seen.has(feature.properties.code)) return false;
      gen.seen.add(feature.properties.code);
      return true;
    });
  }

  function addAreas(gen, collection) {
    const style = Object.assign({}, BASE_STYLE, {
      color: COLOURS[gen.level.level],
      fillColor: COLOURS[gen.level.level],
      weight: WEIGHTS[gen.level.level],
      className: "area area-" + gen.level.level,
    });
    const layer = L.geoJSON(freshFeatures(gen, collection), {
      style: () => style,
    });
    // Larger areas choose their label place first, so a big tambon keeps its name
    // and a sliver beside it shows its name on hover.
    const areas = layer.getLayers().map(function (area) {
      const size = map.project(area.getBounds().getSouthWest(), gen.zoom)
        .distanceTo(map.project(area.getBounds().getNorthEast(), gen.zoom));
      return { area: area, size: size };
    });
    areas.sort((a, b) => b.size - a.size);
    areas.forEach((entry) => bindArea(gen, entry.area.feature, entry.area));
    layer.addTo(gen.group);
  }

  function loadCell(gen, cell) {
    const url = gen.level.url + "?bbox=" + cell.bbox + "&zoom=" + gen.zoom;
    return fetch(url, { headers: { Accept: "application/geo+json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(url + " answered " + response.status);
        return response.json();
      })
      .then(function (collection) {
        if (gen === generation) addAreas(gen, collection);
        return true;
      })
      .catch(function (error) {
        console.error(error);
        gen.cells.delete(cell.id); // asked again at the next move
        return false;
      });
  }

  function swapIn(gen) {
    // The old level stays until the new one has arrived, so the map never goes blank.
    map.addLayer(gen.group);
    if (shown && shown !== gen.group) map.removeLayer(shown);
    shown = gen.group;
  }

  function rememberView() {
    const center = map.getCenter();
    const hash =
      "#" + Math.round(map.getZoom()) + "/" + center.lat.toFixed(4) + "/" + center.lng.toFixed(4);
    history.replaceState(null, "", hash);
    if (languageNext) languageNext.value = location.pathname + location.search + hash;
  }

  function restoreView() {
    const match = /^#(\d{1,2})\/(-?\d{1,2}(?:\.\d+)?)\/(-?\d{1,3}(?:\.\d+)?)$/.exec(location.hash);
    // Not animated: an animated jump would fetch the starting zoom's boundaries first.
    if (match) {
      map.setView([Number(match[2]), Number(match[3])], Number(match[1]), { animate: false });
    } else {
      // The whole country, as close as the screen allows (zoom 6 on a 1280×800 tablet).
      map.fitBounds(data.bounds, { maxZoom: data.map.zoom, animate: false });
    }
  }

  function refresh() {
    const zoom = Math.round(map.getZoom());
    const index = levelIndexFor(zoom);
    const key = data.levels[index].level + "@" + zoom;
    if (!generation || generation.key !== key) {
      generation = {
        key: key,
        zoom: zoom,
        level: data.levels[index],
        group: L.layerGroup(),
        seen: new Set(),
        labelBoxes: [],
        cells: new Set(),
        pending: 0,
        drawn: false,
      };
      showLevel(generation.level);
    }
    const gen = generation;
    const cells = cellsInView(zoom).filter((cell) => !gen.cells.has(cell.id));
    if (!cells.length) return;
    cells.forEach((cell) => gen.cells.add(cell.id));
    gen.pending += cells.length;
    setStatus(data.strings.loading);
    Promise.all(cells.map((cell) => loadCell(gen, cell))).then(function (results) {
      gen.pending -= cells.length;
      if (gen !== generation) return;
      if (!gen.drawn) {
        gen.drawn = true;
        swapIn(gen);
      }
      if (!results.every(Boolean)) setStatus(data.strings.loadFailed);
      else if (gen.pending === 0) setStatus("");
    });
  }

  map.on("moveend", function () {
    rememberView();
    refresh();
  });
  // A link to another place opened in this tab, or the back button, moves the map;
  // rememberView's replaceState fires no hashchange, so this cannot loop.
  window.addEventListener("hashchange", restoreView);
  restoreView();
  rememberView();
  refresh();
})();
