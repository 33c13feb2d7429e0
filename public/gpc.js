// Global Privacy Control, read in the browser (R14): when the browser says it sends the signal,
// the page says so too, even where a proxy dropped the header. Nothing is stored or sent.
(() => {
  if (navigator.globalPrivacyControl !== true) return;
  for (const note of document.querySelectorAll("[data-gpc-browser]")) note.hidden = false;
})();
