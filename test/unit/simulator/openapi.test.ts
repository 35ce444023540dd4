/**
 * How SDK failures map to our typed errors (the HTTP paths are covered by the integration tests).
 */
import { describe, expect, it } from "vitest";

import { AlibabaApiError, classifyRpcFailure } from "../../../src/alibaba/openapi.js";
import { RateLimitedError, UpstreamError } from "../../../src/errors.js";

const responseError = (statusCode: number, code: string) => ({
  name: "ResponseError",
  code,
  statusCode,
  data: { RequestId: "R-1", Message: "m", statusCode },
});

describe("classifyRpcFailure", () => {
  it("maps throttling codes to RateLimitedError", () => {
    expect(classifyRpcFailure("A", responseError(400, "Throttling.User"))).toBeInstanceOf(
      RateLimitedError,
    );
    expect(classifyRpcFailure("A", responseError(400, "Throttling"))).toBeInstanceOf(
      RateLimitedError,
    );
  });

  it("maps 5xx and network failures to retryable UpstreamError", () => {
    expect(classifyRpcFailure("A", responseError(503, "ServiceUnavailable"))).toBeInstanceOf(
      UpstreamError,
    );
    const net = classifyRpcFailure(
      "A",
      Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }),
    );
    expect(net).toBeInstanceOf(UpstreamError);
    expect(net.retryable).toBe(true);
  });

  it("maps other 4xx answers to a non-retryable AlibabaApiError carrying the Alibaba code", () => {
    const err = classifyRpcFailure("A", responseError(404, "InvalidAccessKeyId.NotFound"));
    expect(err).toBeInstanceOf(AlibabaApiError);
    expect(err).toMatchObject({
      code: "InvalidAccessKeyId.NotFound",
      retryable: false,
      statusCode: 404,
      requestId: "R-1",
    });
  });

  it("keeps request headers (signature, STS token) out of the error", () => {
    const raw = Object.assign(new Error("boom"), {
      name: "UnretryableError",
      data: { lastRequest: { headers: { "x-acs-security-token": "TOKEN-SECRET" } } },
    });
    const err = classifyRpcFailure("A", raw);
    expect(JSON.stringify(err)).not.toContain("TOKEN-SECRET");
    expect(err.message).not.toContain("TOKEN-SECRET");
    expect(err.cause).toBeUndefined();
  });
});
