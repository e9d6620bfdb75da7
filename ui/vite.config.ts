// The UI is served by `semcat serve` under /ui/ (sparql_api/routes/ui.py); `make ui` builds
// into sparql_api/ui_dist, the test of a deterministic build into SEMCAT_UI_OUT.
import { defineConfig } from "vite";

export default defineConfig({
  base: "/ui/",
  build: {
    outDir: process.env.SEMCAT_UI_OUT ?? "../sparql_api/ui_dist",
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    chunkSizeWarningLimit: 4000,
    reportCompressedSize: false,
    rolldownOptions: {
      output: {
        // `name-HASH.js` with a plain name (cytoscape.esm, chart-view: no dots or dashes), the
        // form sparql_api/routes/ui.py and tests/test_web_ui_build.py expect
        chunkFileNames: (chunk) => `assets/${chunk.name.replace(/[^A-Za-z0-9_]/g, "_")}-[hash].js`,
      },
    },
  },
});
