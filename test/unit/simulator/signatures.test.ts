/**
 * Signature algorithms against published worked examples (MNS) and against the official
 * openapi-util implementation (POP V3 and V1).
 */
import { createRequire } from "node:module";

import { describe, expect, it } from "vitest";

import { CredentialStore } from "../../../src/simulator/credentials.js";
import { SimClock } from "../../../src/simulator/clock.js";
import {
  MAX_DATE_SKEW_MS,
  mnsSignature,
  mnsStringToSign,
  verifyMnsRequest,
} from "../../../src/simulator/mnsSignature.js";
import {
  acs3CanonicalRequest,
  acs3Signature,
  sha256Hex,
  v1Signature,
} from "../../../src/simulator/rpcSignature.js";

const require = createRequire(import.meta.url);
const OpenApiUtil = (require("@alicloud/openapi-util") as { default: OpenApiUtilStatics }).default;

interface OpenApiUtilStatics {
  getAuthorization(
    request: {
      pathname: string;
      method: string;
      query: Record<string, string>;
      headers: Record<string, string>;
    },
    algorithm: string,
    payload: string,
    accessKeyId: string,
    secret: string,
  ): string;
  getRPCSignature(params: Record<string, string>, method: string, secret: string): string;
}

describe("MNS signature V2", () => {
  it.each([
    {
      secret: "ACCESS_KEY_SECRET",
      input: {
        method: "PUT",
        contentMd5: "574683b3684e3cff610afa155cc2506d",
        contentType: "text/xml",
        date: "Tue, 11 Apr 2017 10:09:19 GMT",
        resource: "/",
      },
      signature: "A9zehggaYHHujmuRMxGIDrhWwx8=",
    },
    {
      secret: "TestAccessSecret",
      input: {
        method: "GET",
        contentMd5: undefined,
        contentType: undefined,
        date: "Thu, 09 Jul 2015 03:01:34 GMT",
        resource: "/MyQueue",
      },
      signature: "uwx3yeWoILzgmvesW0BQSgfM7b8=",
    },
    {
      secret: "accessKeySecret111",
      input: {
        method: "PUT",
        contentMd5: undefined,
        contentType: "text/xml;charset=UTF-8",
        date: "Tue, 03 Jun 2025 11:23:48 GMT",
        resource: "/queues/TestQueue",
      },
      signature: "HCSlBi5KuXGNf06tZKFiQlNDt4c=",
    },
  ])("reproduces the published example signed with $secret", ({ secret, input, signature }) => {
    const stringToSign = mnsStringToSign({
      ...input,
      mnsHeaders: { "x-mns-version": "2015-06-06" },
    });
    expect(mnsSignature(secret, stringToSign)).toBe(signature);
  });

  it("sorts x-mns-* headers by lower-case name and ignores other headers", () => {
    const s = mnsStringToSign({
      method: "get",
      contentMd5: undefined,
      contentType: undefined,
      date: "D",
      mnsHeaders: { "X-MNS-Version": "2015-06-06", "x-mns-date": "D", host: "h" },
      resource: "/q?x=1",
    });
    expect(s).toBe("GET\n\n\nD\nx-mns-date:D\nx-mns-version:2015-06-06\n/q?x=1");
  });

  it("refuses a request whose Date is more than 15 minutes off with TimeExpired", () => {
    const clock = new SimClock();
    const store = new CredentialStore({ accessKeyId: "id", accessKeySecret: "secret" }, clock);
    const date = new Date(Date.now() - MAX_DATE_SKEW_MS - 60_000).toUTCString();
    const headers = {
      date,
      "x-mns-version": "2015-06-06",
      authorization: `MNS id:${mnsSignature("secret", mnsStringToSign({ method: "GET", contentMd5: undefined, contentType: undefined, date, mnsHeaders: { "x-mns-version": "2015-06-06" }, resource: "/queues/q/messages" }))}`,
    };
    expect(verifyMnsRequest("GET", "/queues/q/messages", headers, store, Date.now())).toMatchObject(
      {
        ok: false,
        status: 408,
        code: "TimeExpired",
      },
    );
    expect(
      verifyMnsRequest("GET", "/queues/q/messages", headers, store, Date.parse(date)),
    ).toMatchObject({
      ok: true,
    });
  });
});

describe("POP signatures", () => {
  it("computes the same ACS3-HMAC-SHA256 signature as @alicloud/openapi-util", () => {
    const query = {
      CallId: "116014888060^10281631 x",
      ProdId: "11000000300006",
      QueryDate: "1795536731122",
      "Odd*Key": "a'b(c)!",
    };
    const headers = {
      host: "127.0.0.1:9100",
      "x-acs-action": "QueryCallDetailByCallId",
      "x-acs-version": "2017-05-25",
      "x-acs-date": "2026-11-24T16:12:11Z",
      "x-acs-signature-nonce": "583467173b77b8532edb365aa55bb4a5",
      "x-acs-content-sha256": sha256Hex(""),
    };
    const official = OpenApiUtil.getAuthorization(
      { pathname: "/", method: "POST", query, headers },
      "ACS3-HMAC-SHA256",
      sha256Hex(""),
      "AKID",
      "the-secret",
    );
    const signedHeaders = Object.keys(headers).sort();
    const ours = acs3Signature(
      "the-secret",
      acs3CanonicalRequest({
        method: "POST",
        pathname: "/",
        query: Object.entries(query),
        headers,
        signedHeaders,
        payloadHash: sha256Hex(""),
      }),
    );
    expect(official).toBe(
      `ACS3-HMAC-SHA256 Credential=AKID,SignedHeaders=${signedHeaders.join(";")},Signature=${ours}`,
    );
  });

  it("computes the same V1 HMAC-SHA1 signature as @alicloud/openapi-util", () => {
    const params = {
      Action: "QueryTokenForMnsQueue",
      MessageType: "VoiceReport",
      AccessKeyId: "AKID",
      Timestamp: "2026-11-24T16:12:11Z",
      SignatureNonce: "n",
    };
    expect(v1Signature("the-secret", "GET", Object.entries(params))).toBe(
      OpenApiUtil.getRPCSignature(params, "GET", "the-secret"),
    );
  });
});
