/// <reference types="vite/client" />
// Entry point: mounts the console. Everything it needs is bundled by Vite; nothing is loaded from elsewhere.
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App.tsx";
import "./styles.css";

const root = document.getElementById("root");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
