/**
 * The call explorer's pure parts: escaping in templates, number masking in stored bodies, the
 * sealed search link, cursors and the recording link's expiry.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { buildCallSearch, likePrefix } from "../../src/store/explorer/callSearch.js";
import { html } from "../../src/ui/html.js";
import { maskText } from "../../src/ui/mask.js";
import { recordingExpiry } from "../../src/ui/pages/call.js";
import {
  createSealer,
  decodeCallCursor,
  encodeCursor,
  searchFormSchema,
} from "../../src/ui/searchForm.js";

describe("html``", () => {
  it("escapes every interpolated string: no data can open a tag or end an attribute", () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const out = html`<td title="${s}">${s}</td>`.text;
        expect(out).toMatch(/^<td title="[^<>"]*">[^<>"]*<\/td>$/);
      }),
    );
  });

  it("keeps nested fragments as markup and drops null, undefined and false", () => {
    expect(html`<p>${html`<b>${"<i>"}</b>`}${null}${undefined}${false}${[1, "&"]}</p>`.text).toBe(
      "<p><b>&lt;i&gt;</b>1&amp;</p>",
    );
  });
});

describe("maskText", () => {
  const number = fc.stringMatching(/^1[3-9]\d{9}$/);
  const key = fc.constantFrom("caller", "callee", "caller_show_num", "calleeShowNumber", "phone");

  it("leaves only the last four digits of a number under a number key, in JSON and XML", () => {
    fc.assert(
      fc.property(number, key, fc.boolean(), (n, k, xml) => {
        const text = xml
          ? `<Message><${k}>${n}</${k}><call_id>116012^${n}</call_id></Message>`
          : JSON.stringify({ [k]: n, other: "x" }, null, 2);
        const masked = maskText(text, false);
        expect(masked.replace(/116012\^\d+/, "")).not.toContain(n);
        expect(masked).toContain(`*******${n.slice(-4)}`);
        expect(maskText(text, true)).toBe(text);
      }),
    );
  });
});

describe("the sealed search", () => {
  const sealer = createSealer("a-token");
  const form = searchFormSchema.parse({ number: "138 0013 8000", out_id: "order-", status: "" });

  it("opens to the same criteria, and the number is not in the link", () => {
    const q = sealer.seal(form);
    expect(q).not.toContain("13800138000");
    expect(Buffer.from(q, "base64url").toString("latin1")).not.toContain("13800138000");
    expect(sealer.open(q)).toEqual({ number: "13800138000", out_id: "order-" });
  });

  it("refuses a link sealed with another token, or altered", () => {
    const q = sealer.seal(form);
    expect(createSealer("another-token").open(q)).toBeUndefined();
    fc.assert(
      fc.property(fc.nat({ max: q.length - 1 }), (i) => {
        const flipped = q.slice(0, i) + (q[i] === "A" ? "B" : "A") + q.slice(i + 1);
        // A base64url text's last character may carry unused bits: alter the bytes themselves.
        fc.pre(!Buffer.from(flipped, "base64url").equals(Buffer.from(q, "base64url")));
        expect(sealer.open(flipped)).toBeUndefined();
      }),
    );
  });

  it("refuses numbers that are not digits, and a from after the to", () => {
    expect(searchFormSchema.safeParse({ number: "12" }).success).toBe(false);
    expect(searchFormSchema.safeParse({ number: "1380013800a" }).success).toBe(false);
    expect(searchFormSchema.safeParse({ from: "2026-12-02", to: "2026-12-01" }).success).toBe(
      false,
    );
    expect(searchFormSchema.safeParse({ from: "2026-02-30" }).success).toBe(false);
  });
});

describe("cursors and patterns", () => {
  it("round-trip a cursor; anything else is no cursor", () => {
    const c = { time: "2026-12-02 20:35:44.123456+00", callId: "1^2" };
    expect(decodeCallCursor(encodeCursor(c))).toEqual(c);
    fc.assert(fc.property(fc.string(), (s) => decodeCallCursor(s) === undefined || s !== ""));
    expect(
      decodeCallCursor(encodeCursor({ time: "now'); drop table calls; --", callId: "x" })),
    ).toBe(undefined);
  });

  it("matches LIKE metacharacters literally, and passes every value as a parameter", () => {
    expect(likePrefix("a%b_c\\")).toBe("a\\%b\\_c\\\\%");
    const q = buildCallSearch(
      { outIdPrefix: "x'--", number: "5678", status: "none" },
      undefined,
      51,
    );
    expect(q.text).not.toContain("x'--");
    expect(q.values).toEqual(["x'--%", "8765%", 51]);
  });
});

describe("recordingExpiry", () => {
  const received = new Date("2026-12-01T00:00:00Z");
  it("reads Expires from a signed link", () => {
    expect(
      recordingExpiry({
        record_file: "http://h/r.wav?Expires=1796000000&Signature=x",
        received_at: received,
      }),
    ).toEqual(new Date(1796000000 * 1000));
  });
  it("else gives the link 7 days from its receipt", () => {
    expect(recordingExpiry({ record_file: "not a url", received_at: received })).toEqual(
      new Date("2026-12-08T00:00:00Z"),
    );
  });
});
