/**
 * The dashboard stylesheet, served from `/ui/assets/app.css`. A string in a module (not a file
 * read at run time) so that Workers and Deno serve it exactly like Node. System fonts only: the
 * page fetches nothing from outside the control plane.
 */
export const styles = /* css */ `
:root {
  color-scheme: light dark;
  --bg: #f4f6f9;
  --surface: #ffffff;
  --surface-2: #f8f9fb;
  --border: #e1e5eb;
  --border-strong: #c9d0da;
  --text: #18202a;
  --muted: #5a6472;
  --accent: #3451d1;
  --accent-strong: #2640b3;
  --accent-soft: #eaeefc;
  --on-accent: #ffffff;
  --focus: #f0a500;
  --top: #121826;
  --top-text: #e6e9ef;
  --top-muted: #9aa3b2;
  --ok: #1a7f37; --ok-bg: #e3f4e8;
  --info: #1f5fbf; --info-bg: #e6eefb;
  --warn: #8a5a00; --warn-bg: #fff1cf;
  --bad: #c0262d; --bad-bg: #fde8e8;
  --neutral: #545e6b; --neutral-bg: #edf0f3;
  --shadow: 0 1px 2px rgba(16, 24, 40, 0.05), 0 1px 3px rgba(16, 24, 40, 0.06);
  --radius: 10px;
  --mono: ui-monospace, SFMono-Regular, 'SF Mono', Menlo, Consolas, 'Liberation Mono', monospace;
  --sans: system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', 'Liberation Sans', Ubuntu, Cantarell, sans-serif;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0e131b;
    --surface: #161c26;
    --surface-2: #1b2230;
    --border: #273041;
    --border-strong: #36415a;
    --text: #e4e8ee;
    --muted: #9ba5b4;
    --accent: #8ea2ff;
    --accent-strong: #aab9ff;
    --accent-soft: #222b4a;
    --on-accent: #0e131b;
    --top: #0a0e15;
    --ok: #5fcf80; --ok-bg: #14301f;
    --info: #7fb0ff; --info-bg: #142640;
    --warn: #f0c05a; --warn-bg: #33280f;
    --bad: #ff8a8f; --bad-bg: #3b1719;
    --neutral: #aeb7c4; --neutral-bg: #232b38;
    --shadow: 0 1px 2px rgba(0, 0, 0, 0.4);
  }
}
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0;
  background: var(--bg);
  color: var(--text);
  font: 14px/1.5 var(--sans);
  min-height: 100vh;
}
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
code, pre, .mono { font-family: var(--mono); font-size: 12.5px; }
h1, h2 { margin: 0; line-height: 1.25; }
h1 { font-size: 24px; font-weight: 650; letter-spacing: -0.01em; }
h2 { font-size: 15px; font-weight: 620; }
:focus { outline: none; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; border-radius: 4px; }
h1:focus-visible, main:focus-visible { outline: none; }

.skip-link {
  position: absolute; left: 12px; top: -48px; z-index: 100;
  background: var(--accent); color: var(--on-accent);
  padding: 8px 14px; border-radius: 6px; font-weight: 600;
  transition: top 0.1s;
}
.skip-link:focus { top: 10px; text-decoration: none; }
.sr-only {
  position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px;
  overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0;
}
.muted { color: var(--muted); }
.small { font-size: 12.5px; }

/* ---- top bar ---- */
.topbar { background: var(--top); color: var(--top-text); position: sticky; top: 0; z-index: 20; }
.topbar-inner {
  max-width: 1440px; margin: 0 auto; height: 56px; padding: 0 28px;
  display: flex; align-items: center; gap: 28px;
}
.brand { display: flex; align-items: center; gap: 9px; color: #fff; font-weight: 700; font-size: 17px; letter-spacing: -0.01em; }
.brand:hover { text-decoration: none; }
.logo { width: 26px; height: 26px; fill: #7f95ff; }
.topbar nav ul { display: flex; gap: 4px; list-style: none; margin: 0; padding: 0; }
.topbar nav a {
  display: block; color: var(--top-muted); padding: 7px 12px; border-radius: 7px; font-weight: 550;
}
.topbar nav a:hover { color: #fff; background: rgba(255, 255, 255, 0.07); text-decoration: none; }
.topbar nav a[aria-current='page'] { color: #fff; background: rgba(127, 149, 255, 0.2); }
.who { margin-left: auto; display: flex; align-items: center; gap: 12px; }
.who-id { display: flex; align-items: center; gap: 8px; color: var(--top-text); }
.who-name { font-weight: 550; }
.role {
  font-size: 11px; font-weight: 700; text-transform: uppercase; letter-spacing: 0.05em;
  padding: 2px 8px; border-radius: 999px; background: rgba(255, 255, 255, 0.12); color: #dfe4ff;
}
.role-admin { background: rgba(127, 149, 255, 0.28); }
.role-viewer { background: rgba(255, 255, 255, 0.1); color: #c5ccd8; }
.topbar .btn-ghost { color: var(--top-text); border-color: rgba(255, 255, 255, 0.2); }
.topbar .btn-ghost:hover { background: rgba(255, 255, 255, 0.08); }
/* Ten pages' links and the signed-in token share one bar: tighter below 1500px, and past what fits
   the links scroll inside the bar rather than pushing the page sideways. */
.topbar nav { min-width: 0; overflow-x: auto; scrollbar-width: thin; }
.who { flex-shrink: 0; white-space: nowrap; }
@media (max-width: 1500px) {
  .topbar-inner { gap: 16px; padding: 0 20px; }
  .topbar nav ul { gap: 2px; }
  .topbar nav a { padding: 7px 7px; font-size: 13.5px; }
}

/* ---- page ---- */
main { max-width: 1440px; margin: 0 auto; padding: 24px 28px 64px; display: block; }
.page-head {
  display: flex; align-items: flex-end; justify-content: space-between; gap: 20px;
  flex-wrap: wrap; margin-bottom: 18px;
}
.page-title { min-width: 0; }
.page-side { display: flex; gap: 10px; align-items: center; }
.sub { margin: 6px 0 0; color: var(--muted); display: flex; align-items: center; gap: 6px; flex-wrap: wrap; }
.crumbs ol { list-style: none; display: flex; gap: 6px; margin: 0 0 6px; padding: 0; color: var(--muted); font-size: 13px; }
.crumbs li + li::before { content: '/'; margin-right: 6px; color: var(--border-strong); }
.crumbs a { color: var(--muted); }
.crumbs a:hover { color: var(--accent); }
.live { display: inline-flex; align-items: center; gap: 6px; font-weight: 550; color: var(--ok); }
.live-dot { width: 8px; height: 8px; border-radius: 50%; background: currentColor; animation: pulse 2s ease-in-out infinite; }
.live-stale { color: var(--warn); }

.grid { display: grid; gap: 18px; margin-bottom: 18px; }
.grid-2 { grid-template-columns: minmax(0, 1.15fr) minmax(0, 1fr); }
.grid > .card, .column > .card:last-child { margin-bottom: 0; }
.column { display: flex; flex-direction: column; min-width: 0; }
@media (max-width: 1100px) { .grid-2 { grid-template-columns: minmax(0, 1fr); } }

.card {
  background: var(--surface); border: 1px solid var(--border); border-radius: var(--radius);
  box-shadow: var(--shadow); margin-bottom: 18px; min-width: 0;
}
.card-flush { overflow: hidden; }
.card-head {
  display: flex; align-items: center; justify-content: space-between; gap: 12px;
  padding: 14px 18px; border-bottom: 1px solid var(--border);
}
.card-actions { display: flex; gap: 8px; }
.card-body { padding: 16px 18px; }
.card-body > .table-wrap { margin: -16px -18px; }
.scroll-card .table-wrap { max-height: 420px; overflow: auto; }

/* ---- notices ---- */
.notice { border-radius: 8px; padding: 12px 14px; margin: 0 0 16px; border: 1px solid transparent; }
.notice p { margin: 4px 0 0; }
.notice-error { background: var(--bad-bg); color: var(--text); border-color: color-mix(in srgb, var(--bad) 35%, transparent); }
.notice-error strong { color: var(--bad); }
.notice-info { background: var(--info-bg); border-color: color-mix(in srgb, var(--info) 25%, transparent); }
.problem-errors { margin: 6px 0 0; padding-left: 18px; }
.problem-errors code { font-weight: 600; }
/* Notifications float bottom-right so the page does not jump when one appears. */
.flashes {
  position: fixed; right: 20px; bottom: 20px; z-index: 50; width: min(440px, calc(100vw - 40px));
  display: flex; flex-direction: column; gap: 8px;
}
.signin .flashes { position: static; width: auto; margin-bottom: 12px; }
.signin .flashes:empty { display: none; }
.flash {
  display: flex; align-items: flex-start; justify-content: space-between; gap: 12px;
  padding: 10px 12px 10px 14px; border-radius: 8px; border: 1px solid var(--border);
  background: var(--surface); box-shadow: 0 8px 24px rgba(16, 24, 40, 0.18); border-left-width: 4px;
}
.flash-ok { border-left-color: var(--ok); }
.flash-info { border-left-color: var(--info); }
.flash-error { border-left-color: var(--bad); background: var(--bad-bg); }
.flash-error strong { color: var(--bad); }
.flash-text { padding-top: 3px; }
.empty { color: var(--muted); padding: 28px 18px; margin: 0; text-align: center; }
.loading { display: flex; align-items: center; gap: 10px; color: var(--muted); padding: 20px 18px; margin: 0; }
.spinner {
  width: 16px; height: 16px; border-radius: 50%;
  border: 2px solid var(--border-strong); border-top-color: var(--accent);
  animation: spin 0.8s linear infinite;
}

/* ---- buttons and forms ---- */
.btn {
  display: inline-flex; align-items: center; justify-content: center; gap: 6px;
  font: inherit; font-weight: 600; font-size: 13.5px; line-height: 1;
  padding: 9px 14px; border-radius: 8px; cursor: pointer; white-space: nowrap;
  border: 1px solid var(--border-strong); background: var(--surface); color: var(--text);
  transition: background 0.12s, border-color 0.12s, box-shadow 0.12s;
}
.btn:hover { background: var(--surface-2); border-color: var(--muted); }
.btn:disabled, .btn[aria-busy='true'] { opacity: 0.6; cursor: progress; }
.btn-primary { background: var(--accent); border-color: var(--accent); color: var(--on-accent); }
.btn-primary:hover { background: var(--accent-strong); border-color: var(--accent-strong); }
.btn-danger { color: var(--bad); border-color: color-mix(in srgb, var(--bad) 45%, transparent); }
.btn-danger:hover { background: var(--bad-bg); border-color: var(--bad); }
.btn-ghost { background: transparent; }
.btn-small { padding: 6px 10px; font-size: 12.5px; }
.btn-block { width: 100%; padding: 11px 14px; font-size: 14.5px; }
input[type='text'], input[type='password'], input[type='number'], input:not([type]) {
  font: inherit; color: var(--text); background: var(--surface);
  border: 1px solid var(--border-strong); border-radius: 8px; padding: 8px 11px; min-width: 0;
}
input:focus-visible { outline: 3px solid var(--focus); outline-offset: 1px; border-color: var(--accent); }
input[aria-invalid='true'] { border-color: var(--bad); }
label { font-weight: 600; }
.ns-picker { display: flex; align-items: center; gap: 8px; }
.ns-picker label { color: var(--muted); font-weight: 550; }
.ns-picker input { width: 190px; }
.inline-form { display: flex; align-items: center; gap: 10px; margin-top: 16px; padding-top: 16px; border-top: 1px solid var(--border); }
.inline-form input { width: 96px; }
.stack { display: flex; flex-direction: column; gap: 8px; }
.stack label { margin-top: 4px; }
.stack input { padding: 11px 12px; }

/* ---- the namespace policy form: each field's problem sits under it ---- */
.policy-grid { align-items: start; }
.policy-form { display: flex; flex-direction: column; gap: 14px; }
.policy-form .notice { margin: 0; }
.field { display: flex; flex-direction: column; gap: 5px; min-width: 0; }
.field input { width: 100%; }
.field-row { display: grid; grid-template-columns: repeat(auto-fit, minmax(120px, 1fr)); gap: 12px; align-items: start; }
.field-check { flex-direction: row; align-items: center; gap: 9px; }
.field-check input { width: 17px; height: 17px; margin: 0; accent-color: var(--accent); }
.field-check label { font-weight: 550; }
.field-hint { margin: 0; }
.field-error { margin: 0; color: var(--bad); font-size: 12.5px; font-weight: 550; display: flex; flex-direction: column; gap: 2px; }
.field-error code { font-weight: 650; }
.form-actions { display: flex; align-items: center; gap: 12px; flex-wrap: wrap; padding-top: 14px; border-top: 1px solid var(--border); }

/* ---- tables ---- */
.table-wrap { overflow-x: auto; }
table.data { width: 100%; border-collapse: collapse; }
table.data th, table.data td { padding: 11px 14px; text-align: left; vertical-align: middle; border-bottom: 1px solid var(--border); }
table.data thead th {
  font-size: 11.5px; font-weight: 650; text-transform: uppercase; letter-spacing: 0.05em;
  color: var(--muted); background: var(--surface-2); white-space: nowrap; position: sticky; top: 0; z-index: 1;
}
table.data tbody tr:last-child > * { border-bottom: 0; }
table.data tbody tr:hover { background: var(--surface-2); }
table.data tbody th { font-weight: 600; }
table.data td.num, table.data th.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
table.data td.message { color: var(--muted); max-width: 420px; overflow-wrap: anywhere; }
table.data td.actions { text-align: right; white-space: nowrap; }
table.data tr.selected { background: var(--accent-soft); }
table.data tr.selected:hover { background: var(--accent-soft); }
table.data tr.current th { color: var(--ok); }
table.data tr.warning td.message { color: var(--text); }
/* A failing certificate's error is the page's news: the old certificate hides it from visitors until it expires. */
table.data tr.failing td.message { color: var(--bad); }
table.data tr.failing th { color: var(--bad); }
table.data td time { white-space: nowrap; }
.expired { color: var(--bad); font-weight: 600; }
table.data th:first-child, table.data td:first-child { padding-left: 18px; }
table.data th:last-child, table.data td:last-child { padding-right: 18px; }
.name-link { font-weight: 650; font-size: 14.5px; }
.image { display: inline-block; max-width: 320px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; vertical-align: bottom; color: var(--text); }
.image-cell .image { display: block; }
.id { color: var(--text); }
.ready { font-weight: 700; font-variant-numeric: tabular-nums; font-size: 14.5px; }
.ready-ok { color: var(--ok); }
.ready-wait { color: var(--info); }
.yes { color: var(--ok); font-weight: 600; }
.no { color: var(--muted); }
.rollout-cell { min-width: 230px; }
.rollout-line { display: flex; align-items: center; gap: 10px; }
.rollout-line .bar { flex: 1; max-width: 120px; }
.rollout-line.wide { margin-top: 16px; }
.rollout-line.wide .bar { max-width: none; height: 8px; }

/* ---- badges, chips, bars ---- */
.badge {
  display: inline-flex; align-items: center; gap: 6px; white-space: nowrap;
  font-size: 12px; font-weight: 650; padding: 3px 9px; border-radius: 999px;
}
.badge::before { content: ''; width: 7px; height: 7px; border-radius: 50%; background: currentColor; }
.badge-ok { color: var(--ok); background: var(--ok-bg); }
.badge-info { color: var(--info); background: var(--info-bg); }
.badge-warn { color: var(--warn); background: var(--warn-bg); }
.badge-bad { color: var(--bad); background: var(--bad-bg); }
.badge-neutral { color: var(--neutral); background: var(--neutral-bg); }
.badge-live::before { animation: pulse 1.2s ease-in-out infinite; }
.badges { display: flex; gap: 6px; }
.chips { display: flex; flex-wrap: wrap; gap: 6px; list-style: none; margin: 0; padding: 0; }
.plain-list { list-style: none; margin: 0; padding: 0; }
.plain-list li + li { margin-top: 2px; }
.chip {
  font-family: var(--mono); font-size: 11.5px; padding: 2px 8px; border-radius: 6px;
  background: var(--neutral-bg); color: var(--text); border: 1px solid var(--border);
}
.chip-k { color: var(--muted); }
.bar { display: block; position: relative; height: 6px; border-radius: 999px; background: var(--neutral-bg); overflow: hidden; }
.bar-fill { display: block; height: 100%; width: 0; border-radius: inherit; transition: width 0.5s ease; }
.bar-ok { background: var(--ok); }
.bar-info { background: var(--info); }
.bar-warn { background: #d89a00; }
.bar-bad { background: var(--bad); }
.bar-neutral { background: var(--neutral); }

/* ---- facts and stats ---- */
.facts { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 9px 18px; margin: 0; }
.facts dt { color: var(--muted); font-weight: 550; }
.facts dd { margin: 0; min-width: 0; overflow-wrap: anywhere; }
.facts.compact { gap: 4px 14px; margin-bottom: 14px; }
.stats { display: grid; grid-template-columns: repeat(4, minmax(0, 1fr)); gap: 12px; }
.stat { background: var(--surface-2); border: 1px solid var(--border); border-radius: 8px; padding: 10px 12px; display: flex; flex-direction: column; }
.stat-num { font-size: 24px; font-weight: 700; font-variant-numeric: tabular-nums; line-height: 1.2; }
.stat-label { color: var(--muted); font-size: 12px; font-weight: 550; }
.stats + .facts { margin-top: 16px; }

/* ---- conditions ---- */
.conditions { list-style: none; margin: -4px 0; padding: 0; }
.condition { padding: 10px 0; border-bottom: 1px solid var(--border); }
.condition:last-child { border-bottom: 0; }
.condition-head { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; }
.condition-reason { font-family: var(--mono); font-size: 12.5px; }
.condition-time { margin-left: auto; }
.condition p { margin: 4px 0 0; }

/* ---- logs ---- */
.logs {
  margin: 0; max-height: 360px; overflow: auto; padding: 12px 14px; border-radius: 8px;
  background: #0f141c; color: #d7dde6; line-height: 1.55; white-space: pre-wrap; overflow-wrap: anywhere;
}

/* ---- pods: containers, log picker, volumes ---- */
.ctrs { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 6px 22px; }
.ctr { display: flex; align-items: center; gap: 6px; font-size: 12.5px; white-space: nowrap; }
table.data tr.has-ctrs > * { border-bottom: 0; padding-bottom: 4px; }
table.data tr.ctrs-row > td { padding-top: 0; }
table.data tbody tr.has-ctrs:hover + tr.ctrs-row { background: var(--surface-2); }
table.data tbody tr.selected.has-ctrs:hover + tr.ctrs-row { background: var(--accent-soft); }
.ctr .badge { font-size: 11.5px; }
.ctr-name { color: var(--text); }
.ctr-role {
  font-size: 10.5px; font-weight: 650; text-transform: uppercase; letter-spacing: 0.04em;
  padding: 1px 6px; border-radius: 4px; background: var(--neutral-bg); color: var(--muted);
}
.ctr-sidecar { background: var(--info-bg); color: var(--info); }
.ctr-reason { font-family: var(--mono); color: var(--muted); }
.ctr-fact { color: var(--muted); font-variant-numeric: tabular-nums; }
.ctr-tight { color: var(--warn); }
.log-picker { display: flex; flex-wrap: wrap; gap: 6px; margin-bottom: 12px; }
.log-picker .btn[aria-pressed='true'],
.log-follow[aria-pressed='true'] { background: var(--accent-soft); border-color: var(--accent); color: var(--text); }
.logs-card [data-follow] { margin: 12px 0 0; }
.log-ended .btn { margin-left: 4px; }

/* ---- ConfigMaps ---- */
.cm-data { margin: 0; display: flex; flex-direction: column; gap: 6px; }
.cm-data dt { font-weight: 600; }
.cm-data dd { margin: 0 0 10px; }
.cm-value {
  margin: 0; max-height: 320px; overflow: auto; padding: 10px 12px; border-radius: 8px;
  background: var(--surface-2); border: 1px solid var(--border); white-space: pre-wrap; overflow-wrap: anywhere;
  font-size: 12.5px; line-height: 1.5;
}

/* ---- nodes ---- */
.node-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(330px, 1fr)); gap: 18px; }
.node-card { margin: 0; display: flex; flex-direction: column; }
.node-card .card-body { display: flex; flex-direction: column; flex: 1; }
.node-down { border-color: color-mix(in srgb, var(--bad) 45%, var(--border)); }
.resource { margin-bottom: 12px; }
.resource-head { display: flex; justify-content: space-between; gap: 10px; margin-bottom: 5px; font-size: 13px; }
.resource-name { font-weight: 600; }
.resource-num { font-variant-numeric: tabular-nums; }
.labels { margin: 4px 0 14px; }
.node-actions { display: flex; gap: 8px; margin-top: auto; padding-top: 14px; border-top: 1px solid var(--border); }

/* ---- sign-in ---- */
main.signin { display: grid; place-items: center; min-height: 100vh; padding: 24px; }
.signin-card { width: 100%; max-width: 420px; padding: 32px; margin: 0; }
.signin-card h1 { margin: 20px 0 4px; font-size: 22px; }
.signin-lead { margin: 0 0 18px; }
.signin-brand { display: flex; align-items: center; gap: 10px; font-weight: 750; font-size: 20px; }
.signin-brand .logo { width: 32px; height: 32px; fill: var(--accent); }
.signin-card .btn-block { margin-top: 8px; }
.signin-card .notice { margin-bottom: 8px; }

@keyframes pulse { 0%, 100% { opacity: 1; } 50% { opacity: 0.35; } }
@keyframes spin { to { transform: rotate(360deg); } }
@media (prefers-reduced-motion: reduce) {
  *, *::before, *::after { animation: none !important; transition: none !important; }
}
@media (max-width: 760px) {
  .topbar-inner { padding: 0 14px; gap: 12px; }
  main { padding: 16px 14px 48px; }
  .who-id { display: none; }
  .stats { grid-template-columns: repeat(2, minmax(0, 1fr)); }
}
`;
