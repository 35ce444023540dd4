import { describe, expect, it } from "vitest";

import { badRecord, expandValue, MAX_RAW_CHARS } from "../../../src/replay/records.js";

const base64 = (value: unknown) => Buffer.from(JSON.stringify(value), "utf8").toString("base64");
const REPORT = { call_id: "1^2", status_code: "200000", duration: "3" };

describe("expandValue", () => {
  it("gives one receipt for an object and one per item for an array", () => {
    expect(expandValue(REPORT, "f:1")).toEqual([
      { kind: "receipt", raw: REPORT, location: "f:1", type: null },
    ]);
    expect(expandValue([REPORT, { call_id: "3^4" }], "f:2").map((r) => r.kind)).toEqual([
      "receipt",
      "receipt",
    ]);
  });

  it("reports an array nested in an array", () => {
    const [r] = expandValue([[REPORT]], "f:3");
    expect(r).toMatchObject({ kind: "bad", location: "f:3" });
    expect(r?.kind === "bad" && r.reason).toMatch(/array inside an array/);
  });

  it("decodes the Base64 body of an MNS message and keeps its type", () => {
    const message = {
      MessageId: "A1",
      MessageBody: base64(REPORT),
      MessageType: "VoiceReport",
      DequeueCount: "1",
    };
    expect(expandValue(message, "m:7")).toEqual([
      { kind: "receipt", raw: REPORT, location: "m:7", type: "VoiceReport" },
    ]);
    expect(expandValue({ messageBody: base64([REPORT, REPORT]) }, "m:8")).toHaveLength(2);
  });

  it("reports an MNS message whose body does not decode, with its id", () => {
    const [r] = expandValue({ MessageId: "B2", MessageBody: "%%%not base64%%%" }, "m:9");
    expect(r).toMatchObject({ kind: "bad", raw: "%%%not base64%%%", location: "m:9" });
    expect(r?.kind === "bad" && r.reason).toMatch(/B2.*neither JSON nor Base64/);
  });

  it("expands a BatchReceiveMessage answer converted to JSON", () => {
    const m = { MessageBody: base64(REPORT) };
    expect(expandValue({ Messages: [m, m] }, "w:1")).toHaveLength(2);
    expect(expandValue({ Messages: { Message: [m] } }, "w:1")).toHaveLength(1);
    expect(expandValue({ Messages: { Message: m } }, "w:1")).toHaveLength(1);
  });

  it("takes the type from a MessageType or messageType property of the receipt", () => {
    expect(expandValue({ ...REPORT, messageType: "VoiceReport" }, "f:1")[0]).toMatchObject({
      type: "VoiceReport",
    });
  });

  it("passes non-objects on as receipts (intake rejects them with its reason)", () => {
    expect(expandValue(42, "f:1")).toEqual([
      { kind: "receipt", raw: 42, location: "f:1", type: null },
    ]);
  });
});

describe("badRecord", () => {
  it("cuts a huge input and says so", () => {
    const r = badRecord("x".repeat(MAX_RAW_CHARS + 10), "not JSON", "f:1");
    expect(r.raw).toHaveLength(MAX_RAW_CHARS);
    expect(r.reason).toMatch(/^not JSON \(input cut/);
  });
});
