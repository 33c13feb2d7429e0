// Times in the browser's own zone (issue 34 item 7). The server writes each time in the person's
// zone (`<time datetime="…" data-zone="Asia/Tokyo">2026-12-06 21:21 JST</time>`); where the
// browser's zone differs, this shows the same instant in it. Without JavaScript the server's
// text stays. Rows the page adds later (a change made in place) are shown the same way.
(() => {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const names = new Intl.DateTimeFormat("en-US", { timeZoneName: "short" });
  const two = (n) => String(n).padStart(2, "0");
  const show = (el) => {
    if (el.dataset.zone === zone || el.dataset.local === zone) return;
    const d = new Date(el.getAttribute("datetime"));
    if (Number.isNaN(d.getTime())) return;
    const name = names.formatToParts(d).find((p) => p.type === "timeZoneName");
    el.dataset.local = zone;
    el.textContent =
      `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ` +
      `${two(d.getHours())}:${two(d.getMinutes())}${name ? " " + name.value : ""}`;
  };
  const all = () => document.querySelectorAll("time[datetime][data-zone]").forEach(show);
  all();
  new MutationObserver(all).observe(document.body, { childList: true, subtree: true });
})();
