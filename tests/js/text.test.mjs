// The tablet's escaping for Leaflet tooltips (static/field/tablet/text.js): names
// from files and forms must show as text, never run as HTML.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

const source = readFileSync(new URL("../../static/field/tablet/text.js", import.meta.url), "utf8");
const { escapeHtml } = await import("data:text/javascript," + encodeURIComponent(source));

test("markup is escaped", () => {
  assert.equal(escapeHtml("<img src=x id=pwn>"), "&lt;img src=x id=pwn&gt;");
  assert.equal(escapeHtml("<b>bold</b>"), "&lt;b&gt;bold&lt;/b&gt;");
});

test("quotes and ampersands are escaped, ampersand first", () => {
  assert.equal(escapeHtml(`a & "b" 'c'`), "a &amp; &quot;b&quot; &#39;c&#39;");
  assert.equal(escapeHtml("&lt;"), "&amp;lt;");
});

test("plain and Thai text pass unchanged", () => {
  assert.equal(escapeHtml("ด.ช. สมชาย ใจดี (3)"), "ด.ช. สมชาย ใจดี (3)");
});

test("numbers, null and undefined become strings", () => {
  assert.equal(escapeHtml(12), "12");
  assert.equal(escapeHtml(null), "");
  assert.equal(escapeHtml(undefined), "");
});
