import { afterEach, describe, expect, it } from "vitest";
import type { PriorityName } from "../common/priority.js";
import { Client } from "./client.js";

let client: Client | undefined;
afterEach(async () => {
  await client?.close();
  client = undefined;
});

describe("Client", () => {
  it("answers bad input to submit() and result() with a rejected promise, never a throw", async () => {
    // Nothing listens at port 1, and none of these gets as far as connecting.
    client = new Client({ server: "127.0.0.1:1" });
    const calls = [
      () => client!.submit("t", 10n),
      () => client!.submit("t", {}, { priority: "urgent" as PriorityName }),
      () => client!.result(undefined as unknown as string),
      () => client!.result(""),
    ];
    for (const call of calls) {
      let returned: Promise<unknown> | undefined;
      expect(() => (returned = call())).not.toThrow();
      await expect(returned).rejects.toThrow();
    }
  });
});
