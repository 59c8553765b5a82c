// How a report behaves in a real browser: loads each page given on the command line five times
// in Debian's Chromium (through playwright-core) and prints the medians of first paint,
// DOMContentLoaded and load, and how long opening one job's details takes.
// Usage: NODE_PATH=DIR/node_modules node bench/browser-load.js PAGE.html...
"use strict";
const { chromium } = require("playwright-core");

(async () => {
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
  for (const file of process.argv.slice(2)) {
    const samples = [];
    for (let i = 0; i < 5; i++) {
      const page = await browser.newPage();
      await page.goto("file://" + file, { waitUntil: "load" });
      const m = await page.evaluate(() => {
        const nav = performance.getEntriesByType("navigation")[0];
        const fcp = performance.getEntriesByName("first-contentful-paint")[0];
        const started = performance.now();
        const details = document.querySelector("details.job");
        if (details) {
          details.open = true;
          details.getBoundingClientRect();
        }
        return {
          paint: fcp ? fcp.startTime : 0,
          dcl: nav.domContentLoadedEventEnd,
          load: nav.loadEventEnd,
          open: performance.now() - started,
        };
      });
      samples.push(m);
      await page.close();
    }
    const median = (k) => Math.round(samples.map((s) => s[k]).sort((a, b) => a - b)[2]);
    console.log(
      `${file.split("/").pop()}: first paint ${median("paint")} ms, DOMContentLoaded ${median("dcl")} ms, ` +
        `load ${median("load")} ms, opening a job's details ${median("open")} ms (medians of 5)`,
    );
  }
  await browser.close();
})();
