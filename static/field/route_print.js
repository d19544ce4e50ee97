// The route sheet's print button: a file, not an onclick attribute, because the
// Content-Security-Policy runs no inline script.
document.querySelector("[data-print]")?.addEventListener("click", () => window.print());
