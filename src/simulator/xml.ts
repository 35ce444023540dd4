/** XML in the MNS dialect: declaration, the v1 namespace, escaped text, strict parsing. */
import { XMLParser, XMLValidator } from "fast-xml-parser";

export const MNS_NAMESPACE = "http://mns.aliyuncs.com/doc/v1/";

export function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** A child element: `[name, text]` or `[name, children]`. */
export type XmlNode = readonly [string, string | number | readonly XmlNode[]];

function render(nodes: readonly XmlNode[]): string {
  return nodes
    .map(([name, value]) =>
      typeof value === "object"
        ? `<${name}>${render(value)}</${name}>`
        : `<${name}>${escapeXml(String(value))}</${name}>`,
    )
    .join("");
}

export function xmlDocument(root: string, children: readonly XmlNode[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${MNS_NAMESPACE}">${render(children)}</${root}>`;
}

/** Elements that repeat inside a batch request; parsed as arrays even when there is one. */
const REPEATED = new Set(["Messages.Message", "ReceiptHandles.ReceiptHandle"]);

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  ignoreDeclaration: true,
  parseTagValue: false,
  trimValues: false,
  htmlEntities: true,
  isArray: (_name, jpath) => REPEATED.has(String(jpath)),
});

/** Parse a request body; undefined when it is not well-formed XML. */
export function parseXml(body: string): Record<string, unknown> | undefined {
  if (XMLValidator.validate(body) !== true) {
    return undefined;
  }
  const parsed: unknown = parser.parse(body);
  return typeof parsed === "object" && parsed !== null
    ? (parsed as Record<string, unknown>)
    : undefined;
}

/** The text of a child element; undefined when absent, null when it is not plain text. */
export function childText(element: unknown, name: string): string | undefined | null {
  if (typeof element !== "object" || element === null) {
    return undefined;
  }
  const value = (element as Record<string, unknown>)[name];
  if (value === undefined) {
    return undefined;
  }
  return typeof value === "string" ? value : null;
}
