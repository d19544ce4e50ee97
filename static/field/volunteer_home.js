/*
 * Picking a volunteer's home: a tap on the map, or the device's GPS fix, fills
 * the latitude and longitude fields (which can also be typed). The server checks
 * what is sent; the map only helps to choose it.
 */
(function () {
  "use strict";

  const data = JSON.parse(document.getElementById("home-data").textContent);
  const element = document.getElementById("home-map");
  const lat = document.getElementById("id_lat");
  const lon = document.getElementById("id_lon");
  const status = document.getElementById("gps-status");
  if (!element || !lat || !lon || typeof L === "undefined") return;

  const map = L.map(element, { zoomSnap: 0.5 });
  L.tileLayer(data.tiles.url, { attribution: data.tiles.attribution, maxZoom: 19 }).addTo(map);
  const villages = data.villages.map(function (v) {
    return [v.lat, v.lon];
  });
  if (lat.value && lon.value) map.setView([Number(lat.value), Number(lon.value)], 15);
  else if (villages.length) map.fitBounds(villages, { padding: [20, 20], animate: false });
  else map.setView([15.87, 100.99], 6);
  villages.forEach(function (p) {
    L.circleMarker(p, { radius: 4, color: "#555", weight: 1, fillOpacity: 0.5, interactive: false }).addTo(map);
  });

  let home = null;
  function place(latitude, longitude) {
    lat.value = latitude.toFixed(6);
    lon.value = longitude.toFixed(6);
    if (home) home.setLatLng([latitude, longitude]);
    else home = L.marker([latitude, longitude]).addTo(map);
    element.setAttribute("data-home", lat.value + "," + lon.value);
  }
  if (lat.value && lon.value) place(Number(lat.value), Number(lon.value));

  map.on("click", function (event) {
    place(event.latlng.lat, event.latlng.lng);
  });
  [lat, lon].forEach(function (input) {
    input.addEventListener("change", function () {
      if (lat.value && lon.value) {
        place(Number(lat.value), Number(lon.value));
        map.panTo([Number(lat.value), Number(lon.value)]);
      }
    });
  });

  const button = document.getElementById("use-gps");
  if (button) {
    button.addEventListener("click", function () {
      if (!navigator.geolocation) {
        status.textContent = data.strings.gps_failed;
        return;
      }
      navigator.geolocation.getCurrentPosition(
        function (position) {
          place(position.coords.latitude, position.coords.longitude);
          map.setView([position.coords.latitude, position.coords.longitude], 16);
          status.textContent = data.strings.gps_accuracy.replace(
            "%(m)s",
            String(Math.round(position.coords.accuracy)),
          );
        },
        function () {
          status.textContent = data.strings.gps_failed;
        },
        { enableHighAccuracy: true, timeout: 20000 },
      );
    });
  }
})();
