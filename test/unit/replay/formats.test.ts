import { describe, expect, it } from "vitest";

import {
  detectFormat,
  isReplayableName,
  isValidTypeName,
  typeFromPath,
} from "../../../src/replay/formats.js";

describe("detectFormat", () => {
  it("trusts .ndjson, .jsonl and .xml, with or without .gz", () => {
    expect(detectFormat("a.ndjson", "[1]\n", true)).toBe("ndjson");
    expect(detectFormat("/x/a.JSONL.gz", "{}", true)).toBe("ndjson");
    expect(detectFormat("dump.xml.gz", "{}", true)).toBe("xml");
  });

  it("reads text starting with < as XML whatever the name", () => {
    expect(detectFormat("dump.json", '<?xml version="1.0"?>\n<Messages>', false)).toBe("xml");
    expect(detectFormat("dump", "\uFEFF  <Message>", false)).toBe("xml");
  });

  it("reads a pretty-printed array or object as a JSON document", () => {
    expect(detectFormat("a.json", '[\n  {"call_id": "1"},\n  {"call_id": "2"}\n]\n', true)).toBe(
      "json",
    );
    expect(detectFormat("a.json", '{\n  "MessageBody": "eyJ9"\n}\n', true)).toBe("json");
  });

  it("reads one minified document, even one longer than the sniffed head, as JSON", () => {
    expect(detectFormat("a.json", '[{"call_id":"1"},{"call_id":"2"}]\n', true)).toBe("json");
    expect(detectFormat("a.json", '[{"call_id":"1"},{"call_id":"2"', false)).toBe("json");
  });

  it("reads one value per line as NDJSON, objects or arrays", () => {
    expect(detectFormat("a.json", '{"call_id":"1"}\n{"call_id":"2"}\n', true)).toBe("ndjson");
    expect(detectFormat("a.txt", '[{"call_id":"1"}]\r\n[{"call_id":"2"}]\r\n', true)).toBe(
      "ndjson",
    );
  });

  it("reads anything else line by line so that each bad line is reported", () => {
    expect(detectFormat("notes.json", "call_id=1\ncall_id=2\n", true)).toBe("ndjson");
  });

  it("treats an empty file as an (empty) JSON document", () => {
    expect(detectFormat("a.json", "", true)).toBe("json");
    expect(detectFormat("a.json", " \n ", true)).toBe("json");
  });
});

describe("typeFromPath", () => {
  it("finds a receipt type in the file name, case-insensitively", () => {
    expect(typeFromPath(["VoiceReport-2026-11-20.ndjson.gz"])).toBe("VoiceReport");
    expect(typeFromPath(["voicecallreport.json"])).toBe("VoiceCallReport");
    expect(typeFromPath(["Alicom-Queue-1234567890123456-VoiceRecordReport.xml"])).toBe(
      "VoiceRecordReport",
    );
  });

  it("does not mistake VoiceCallReport or VoiceRecordReport for VoiceReport", () => {
    expect(typeFromPath(["x-VoiceCallReport.json"])).toBe("VoiceCallReport");
    expect(typeFromPath(["x-VoiceRecordReport.json"])).toBe("VoiceRecordReport");
  });

  it("looks at the directories when the file name names no type, nearest first", () => {
    expect(typeFromPath(["2026-11-20.json", "VoiceCallReport", "VoiceReport"])).toBe(
      "VoiceCallReport",
    );
    expect(typeFromPath(["VoiceReport-1.json", "VoiceCallReport"])).toBe("VoiceReport");
  });

  it("gives null when no name says", () => {
    expect(typeFromPath(["receipts.json", "archive"])).toBeNull();
  });
});

describe("isReplayableName", () => {
  it("picks archives and skips other and hidden files", () => {
    for (const name of ["a.json", "a.ndjson", "a.jsonl", "a.xml", "a.json.gz", "A.XML.GZ"]) {
      expect(isReplayableName(name)).toBe(true);
    }
    for (const name of ["a.txt", "a.gz", "a.csv", ".hidden.json", "README.md"]) {
      expect(isReplayableName(name)).toBe(false);
    }
  });
});

describe("isValidTypeName", () => {
  it("accepts identifiers, unknown types included", () => {
    expect(isValidTypeName("VoiceReport")).toBe(true);
    expect(isValidTypeName("SmartCallReport2")).toBe(true);
    expect(isValidTypeName("Voice Report")).toBe(false);
    expect(isValidTypeName("")).toBe(false);
    expect(isValidTypeName("../x")).toBe(false);
  });
});
