/** Pure receipt domain: parsing, normalisation, dedup keys, status codes. No I/O anywhere below. */
export * from "./dedup.js";
export * from "./envelope.js";
export * from "./fields.js";
export * from "./json.js";
export * from "./receipt.js";
export * from "./schemas.js";
export * from "./statusCodes.js";
export * from "./time.js";
export * from "./types.js";
