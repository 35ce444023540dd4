import { describe, expect, it } from "vitest";

import { MnsXmlReader } from "../../../src/replay/xmlStream.js";

const body = (value: unknown) => Buffer.from(JSON.stringify(value), "utf8").toString("base64");

const DUMP = `<?xml version="1.0" encoding="UTF-8"?>
<Messages xmlns="http://mns.aliyuncs.com/doc/v1/">
  <Message>
    <MessageId>0909FF0D9C3A630C372B8A14BD2011B6</MessageId>
    <MessageBody>${body({ call_id: "1^2" })}</MessageBody>
    <DequeueCount>1</DequeueCount>
  </Message>
  <Message><MessageId>2</MessageId><MessageBody>{&quot;call_id&quot;:&quot;&#51;^4&quot;}</MessageBody></Message>
</Messages>
<?xml version="1.0" encoding="UTF-8"?>
<Message xmlns="http://mns.aliyuncs.com/doc/v1/"><MessageId>3</MessageId><MessageBody>e30=</MessageBody></Message>
`;

function readAll(text: string, size = text.length) {
  const reader = new MnsXmlReader();
  const out = [];
  for (let i = 0; i < text.length; i += size) {
    out.push(...reader.write(text.slice(i, i + size)));
  }
  out.push(...reader.end());
  return out;
}

describe("MnsXmlReader", () => {
  it("gives each <Message> of BatchReceive and Receive dumps with its line", () => {
    expect(readAll(DUMP)).toEqual([
      {
        kind: "message",
        line: 3,
        value: {
          MessageId: "0909FF0D9C3A630C372B8A14BD2011B6",
          MessageBody: body({ call_id: "1^2" }),
          DequeueCount: "1",
        },
      },
      { kind: "message", line: 8, value: { MessageId: "2", MessageBody: '{"call_id":"3^4"}' } },
      { kind: "message", line: 11, value: { MessageId: "3", MessageBody: "e30=" } },
    ]);
  });

  it("gives the same result however the text is split", () => {
    const whole = readAll(DUMP);
    for (const size of [1, 5, 100]) {
      expect(readAll(DUMP, size)).toEqual(whole);
    }
  });

  it("reports a malformed message and goes on with the next", () => {
    const items = readAll(
      "<Messages>\n<Message><MessageBody>a</MessageBody><Oops></Message>\n" +
        "<Message><MessageBody>b</MessageBody></Message>\n</Messages>",
    );
    expect(items).toHaveLength(2);
    expect(items[0]).toMatchObject({ kind: "error", line: 2 });
    expect(items[0]?.kind === "error" && items[0].reason).toMatch(/malformed XML/);
    expect(items[1]).toMatchObject({ kind: "message", line: 3, value: { MessageBody: "b" } });
  });

  it("reports an empty message and a file that ends inside a message", () => {
    expect(readAll("<Messages><Message/></Messages>")[0]).toMatchObject({
      kind: "error",
      reason: "empty <Message/> element",
    });
    const cut = readAll("<Messages>\n<Message><MessageBody>abc");
    expect(cut).toEqual([
      {
        kind: "error",
        line: 2,
        raw: "<Message><MessageBody>abc",
        reason: "the file ends inside a <Message> element",
      },
    ]);
  });

  it("never expands document-level entities (only <Message> elements are parsed)", () => {
    const items = readAll(
      '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>\n' +
        "<Messages><Message><MessageBody>&a;</MessageBody></Message></Messages>",
    );
    expect(items).toHaveLength(1);
    expect(items[0]?.kind === "message" && items[0].value.MessageBody).not.toBe("aaaaaaaaaa");
  });
});
