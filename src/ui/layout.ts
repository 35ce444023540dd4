/**
 * The page shell shared by the explorer's pages: title, navigation, the per-page "show numbers"
 * switch (a link to the same URL with `numbers=shown` toggled: never a number in it), and the
 * stylesheet.
 */
import { formatBeijingTime } from "../domain/time.js";
import { html, type Html, type Interpolation } from "./html.js";

export const UI_PATH = "/ui";

export interface PageContext {
  /** The request URL (path and query), to build the switch's link. */
  url: string;
  showNumbers: boolean;
}

export function numbersShown(query: unknown): boolean {
  return (query as Record<string, unknown> | undefined)?.numbers === "shown";
}

/** The same URL with `numbers=shown` set or removed. */
export function toggleNumbersUrl(url: string, show: boolean): string {
  const u = new URL(url, "http://ui.invalid");
  if (show) {
    u.searchParams.set("numbers", "shown");
  } else {
    u.searchParams.delete("numbers");
  }
  return `${u.pathname}${u.search}`;
}

/** A link within the explorer keeping the page's number switch. */
export function link(
  path: string,
  ctx: PageContext,
  params: Record<string, string | undefined> = {},
): string {
  const u = new URL(path, "http://ui.invalid");
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== "") {
      u.searchParams.set(k, v);
    }
  }
  if (ctx.showNumbers) {
    u.searchParams.set("numbers", "shown");
  }
  return `${u.pathname}${u.search}`;
}

/** Beijing time `YYYY-MM-DD HH:mm:ss`, as the Alibaba console and the reports show it. */
export const beijing = (d: Date | null | undefined): string => (d ? formatBeijingTime(d) : "");

const NAV: [string, string][] = [
  ["Calls", `${UI_PATH}`],
  ["Overview", `${UI_PATH}/overview`],
  ["Rejected receipts", `${UI_PATH}/rejected`],
];

export function page(
  ctx: PageContext,
  title: string,
  body: Interpolation,
  head: Interpolation = null,
): Html {
  const here = new URL(ctx.url, "http://ui.invalid").pathname;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>${title} · voice-receipts</title>
        <link rel="stylesheet" href="${UI_PATH}/assets/ui.css" />
        ${head}
      </head>
      <body>
        <header>
          <strong>voice-receipts</strong>
          <nav>
            ${NAV.map(
              ([name, path]) =>
                html`<a
                  href="${link(path, ctx)}"
                  ${here === path ? html` aria-current="page"` : null}
                  >${name}</a
                >`,
            )}
          </nav>
          <a class="numbers" href="${toggleNumbersUrl(ctx.url, !ctx.showNumbers)}"
            >${ctx.showNumbers ? "Hide numbers" : "Show numbers"}</a
          >
        </header>
        <main>
          <h1>${title}</h1>
          ${body}
        </main>
      </body>
    </html>`;
}
