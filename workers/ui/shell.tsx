/** @jsxImportSource hono/jsx */
// The pragma keeps the JSX runtime explicit for runtimes that do not read tsconfig (Deno, wrangler).

/** A small mark, inline so the page requests no favicon from the API's namespace. */
const FAVICON =
  "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24'%3E%3Crect width='24' height='24' rx='6' fill='%23121826'/%3E%3Cpath fill='%237f95ff' d='M4 14.5h16l-2 3.6a1.8 1.8 0 0 1-1.6.9H7.6a1.8 1.8 0 0 1-1.6-.9L4 14.5Zm2.6-1.8V8.4H11v4.3H6.6Zm6.2 0V5h4.4v7.7h-4.4Z'/%3E%3C/svg%3E";

export interface ShellProps {
  /** Where the dashboard is mounted, e.g. `/ui`. */
  base: string;
  /** Where the JSON API lives, relative to the origin ('' = same origin, `/v1/...`). */
  apiBase: string;
  scriptSrc: string;
  styleSrc: string;
}

/**
 * The one HTML document of the dashboard, served for every `/ui/*` path so deep links load; the
 * client script renders the page for the path it finds.
 */
export function Shell(props: ShellProps) {
  return (
    <html lang="en" data-ui-base={props.base} data-api-base={props.apiBase}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <meta name="referrer" content="no-referrer" />
        <title>Berth</title>
        <link rel="icon" href={FAVICON} />
        <link rel="stylesheet" href={props.styleSrc} />
        <script src={props.scriptSrc} defer />
      </head>
      <body>
        <a class="skip-link" href="#main">
          Skip to content
        </a>
        <div id="app">
          <main id="main" tabindex={-1}>
            <p class="loading" role="status">
              <span class="spinner" aria-hidden="true" />
              Loading the dashboard…
            </p>
          </main>
        </div>
        <noscript>
          <p class="notice notice-error">
            The Berth dashboard needs JavaScript. The API and the berth CLI work without it.
          </p>
        </noscript>
      </body>
    </html>
  );
}
