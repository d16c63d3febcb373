// Builds the console into console/dist (served by the gateway under /ui/). Run from the repository root as
// `vite build console`; everything is bundled, nothing is fetched from a CDN at run time.
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

export default defineConfig({
  base: "/ui/",
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    // One small app: a single chunk keeps the CSP simple and the load fast.
    chunkSizeWarningLimit: 1024,
  },
});
