// Starts the vendored Swagger UI on /api/docs against our own document (no CDN, nothing fetched
// from elsewhere). A file, not an inline script: the site's CSP allows scripts from 'self' only.
window.addEventListener("DOMContentLoaded", function () {
  window.ui = SwaggerUIBundle({
    url: "/api/v1/openapi.json",
    dom_id: "#api-docs",
    // Deep links put a link inside each operation's toggle button: a control nested in a control,
    // which screen readers cannot reach (axe: nested-interactive).
    deepLinking: false,
    docExpansion: "list",
    defaultModelsExpandDepth: 0,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
