// Console exports with a progress bar: the download streams from the server (constant memory
// there); this shows how many of the selected events have arrived, then saves the file.
// Without JavaScript the links download directly.
(() => {
  for (const box of document.querySelectorAll(".exports")) {
    const bar = box.querySelector(".export-progress");
    const status = box.querySelector(".export-status");
    for (const link of box.querySelectorAll("a.export")) {
      link.addEventListener("click", async (event) => {
        if (!window.ReadableStream || !bar) return;
        event.preventDefault();
        const res = await fetch(link.href, { credentials: "same-origin" });
        if (!res.ok || !res.body) { window.location.href = link.href; return; }
        const total = Number(res.headers.get("x-doui-event-count") || "0");
        const csv = link.href.includes(".csv");
        bar.hidden = false;
        bar.max = Math.max(total, 1);
        const reader = res.body.getReader();
        const parts = [];
        let lines = 0;
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          parts.push(value);
          for (const byte of value) if (byte === 10) lines++;
          const events = Math.max(0, csv ? lines - 1 : lines);
          bar.value = Math.min(events, bar.max);
          status.textContent = `${events} / ${total}`;
        }
        const blob = new Blob(parts, { type: res.headers.get("content-type") || "text/plain" });
        const url = URL.createObjectURL(blob);
        const a = document.createElement("a");
        a.href = url;
        a.download = link.getAttribute("download") || "export";
        document.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 10000);
      });
    }
  }
})();
