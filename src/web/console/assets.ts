// The web console's files, embedded in the binary (no build step, no framework): one HTML shell, one
// script, one style sheet, and the login form. Served by src/web/server.ts under a strict CSP.
import indexHtml from "./index.html" with { type: "text" };
import app from "./app.js" with { type: "text" };
import css from "./app.css" with { type: "text" };
import loginHtml from "./login.html" with { type: "text" };

// bun-types types .html imports as bundles; with type "text" they are the file's text.
const index = indexHtml as unknown as string;
const login = loginHtml as unknown as string;

const ASSETS: Record<string, { body: string; type: string }> = {
  "/": { body: index, type: "text/html; charset=utf-8" },
  "/app.js": { body: app, type: "text/javascript; charset=utf-8" },
  "/app.css": { body: css, type: "text/css; charset=utf-8" },
};

export function consoleAsset(path: string): { body: string; type: string } | undefined {
  return ASSETS[path];
}

/** The login form with an optional (fixed, never user-supplied) error line. */
export function loginPage(error: string): string {
  return login.replace("{{ERROR}}", error);
}
