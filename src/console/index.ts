// The web console (docs/console.md): mount `createConsole(...)` for /ui and wrap the admin API with it.
export { type ConsoleOptions, type ConsoleUi, createConsole, DEFAULT_DIST_DIR } from "./handler.ts";
export { CSRF_HEADER, SESSION_COOKIE } from "./sessions.ts";
