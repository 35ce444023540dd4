import { describe, expect, it } from "vitest";

import {
  callEventMeaning,
  earlyMediaMeaning,
  ENDED_EVENT_CODE,
  isAnswered,
  smartStatusMeaning,
  statusMeaning,
} from "../../../src/domain/statusCodes.js";

describe("status codes", () => {
  it("gives the Chinese meaning of carrier result codes, strings or numbers", () => {
    expect(statusMeaning("200000")).toBe("用户听完语音");
    expect(statusMeaning(200003)).toBe("用户收到呼叫但未接听");
    expect(statusMeaning("476")).toBe("号码强制回收");
    expect(statusMeaning("200201")).toBe("被叫响铃"); // only an in-call state
  });

  it("returns null for unknown or absent codes, including prototype names", () => {
    expect(statusMeaning("123")).toBeNull();
    expect(statusMeaning(null)).toBeNull();
    expect(statusMeaning("constructor")).toBeNull();
    expect(smartStatusMeaning("toString")).toBeNull();
  });

  it("gives in-call state meanings, with the DoubleCall wording on request", () => {
    expect(callEventMeaning("200101")).toBe("开始呼叫");
    expect(callEventMeaning("200201")).toBe("被叫响铃");
    expect(callEventMeaning("200102")).toBe("被叫接听");
    expect(callEventMeaning(ENDED_EVENT_CODE)).toBe("呼叫结束");
    expect(callEventMeaning("300000")).toBe("DTMF按键消息");
    expect(callEventMeaning("200202", { doubleCall: true })).toBe("被叫响铃");
    expect(callEventMeaning("200101", { doubleCall: true })).toBe("开始呼叫主叫");
  });

  it("gives early-media and smart status meanings", () => {
    expect(earlyMediaMeaning("200012")).toBe("呼损");
    expect(smartStatusMeaning("ANSWERED")).toBe("用户接通");
    expect(smartStatusMeaning("OPERATOR_BLOCK")).toBe("运营商拦截");
  });

  it("counts 200000, 200001 and the DoubleCall end 200100 as answered", () => {
    expect(isAnswered("200000")).toBe(true);
    expect(isAnswered(200001)).toBe(true);
    expect(isAnswered("200100")).toBe(true);
    expect(isAnswered("200003")).toBe(false);
    expect(isAnswered(null)).toBe(false);
    expect(ENDED_EVENT_CODE).toBe("200100");
  });
});
