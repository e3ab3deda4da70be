import { decode, encode, Message, newMessage, OrderedSender } from "./wire";

describe("encode / decode", () => {
  it("round-trips a signed message with routing identities", () => {
    const parent = newMessage("execute_request", { code: "1" });
    parent.identities = [Buffer.from("client-1")];
    const reply = newMessage("execute_reply", { status: "ok" }, parent);
    const back = decode("secret", encode("secret", reply));
    expect(back.identities.map(String)).toEqual(["client-1"]);
    expect(back.header.msg_type).toBe("execute_reply");
    expect(back.parent_header.msg_id).toBe(parent.header.msg_id);
    expect(back.content).toEqual({ status: "ok" });
  });

  it("rejects a wrong signature and a missing delimiter", () => {
    const frames = encode("secret", newMessage("status", {}));
    expect(() => decode("other", frames)).toThrow("Jupyter message: invalid signature.");
    expect(() => decode("secret", frames.slice(1))).toThrow("Jupyter message: missing <IDS|MSG> delimiter.");
  });
});

describe("OrderedSender", () => {
  it("sends one message at a time, in order, merging queued stream chunks of one stream", async () => {
    const sent: Message[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const socket = {
      async send(frames: Buffer[]) {
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        await new Promise((r) => setTimeout(r, 1));
        sent.push(decode("k", frames));
        inFlight--;
      },
    };
    const sender = new OrderedSender(socket, "k");
    const parent = newMessage("execute_request", {});
    for (let i = 0; i < 1000; i++) sender.send(newMessage("stream", { name: "stdout", text: `${i}\n` }, parent));
    sender.send(newMessage("display_data", { data: {} }, parent));
    sender.send(newMessage("stream", { name: "stdout", text: "last\n" }, parent));
    await sender.flushed();
    expect(maxInFlight).toBe(1);
    const text = sent.filter((m) => m.header.msg_type === "stream").map((m) => m.content.text).join("");
    expect(text).toBe([...Array.from({ length: 1000 }, (_, i) => `${i}\n`), "last\n"].join(""));
    expect(sent.length).toBeLessThan(10);
    expect(sent[sent.length - 2].header.msg_type).toBe("display_data");
  });
});
