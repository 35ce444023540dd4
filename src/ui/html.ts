/**
 * HTML from tagged template literals: every interpolated value is escaped (escape-html) unless
 * it is itself an Html fragment built by this tag, so markup cannot be injected through data.
 * Arrays are joined; null, undefined and false render nothing. Why not a template engine:
 * README "Call explorer" (templates type-checked with the code, nothing to copy into dist).
 */
import escapeHtml from "escape-html";

export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export type Interpolation = Html | string | number | boolean | null | undefined | Interpolation[];

function render(value: Interpolation): string {
  if (value === null || value === undefined || value === false) {
    return "";
  }
  if (value instanceof Html) {
    return value.text;
  }
  if (Array.isArray(value)) {
    return value.map(render).join("");
  }
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Interpolation[]): Html {
  let out = strings[0] ?? "";
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? "");
  });
  return new Html(out);
}

/** Trusted markup (constants of this folder only: never data). */
export const trusted = (text: string) => new Html(text);

/**
 * JSON for a `<script type="application/json">` block: `<` is escaped so the data can never
 * close the script element.
 */
export const jsonScript = (id: string, data: unknown) =>
  trusted(
    `<script type="application/json" id="${escapeHtml(id)}">${JSON.stringify(data).replace(/</g, "\\u003c")}</script>`,
  );

/** A numeric column's heading, right-aligned like its cells (`class="num"`). */
export interface NumericColumn {
  num: string;
}

export const num = (label: string): NumericColumn => ({ num: label });

/** A table's `<thead>`: one heading a column, in order. */
export function thead(...columns: (string | NumericColumn)[]): Html {
  const th = (c: string | NumericColumn) =>
    typeof c === "string" ? html`<th>${c}</th>` : html`<th class="num">${c.num}</th>`;
  return html`<thead>
    <tr>
      ${columns.map(th)}
    </tr>
  </thead>`;
}
