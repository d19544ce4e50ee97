// Text for Leaflet: bindTooltip and bindPopup take a string as HTML, and names,
// addresses and villages come from registry files and forms. Every such string
// passes through here first, so "<img src=x>" shows as those characters.

const ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ENTITIES[c]);
}
