import { randomBytes } from "node:crypto";
import { createSocket } from "node:dgram";

/**
 * A UDP port nobody on this host listens on right now, so that tests running
 * at the same time never hear each other's beacons. (Bound and released:
 * another process could take it in between, which a random cluster name
 * per test makes harmless.)
 */
export async function freeUdpPort(): Promise<number> {
  const socket = createSocket({ type: "udp4" });
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(0, "0.0.0.0", () => resolve());
  });
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** A cluster name no other test uses. */
export function randomCluster(prefix = "test"): string {
  return `${prefix}-${randomBytes(5).toString("hex")}`;
}

/**
 * Sends datagrams to a port on the loopback broadcast address (never
 * anywhere else), one after the other; resolves when all were handed to
 * the kernel.
 */
export async function sendToLoopback(port: number, datagrams: readonly Buffer[], address = "127.255.255.255"): Promise<void> {
  if (!address.startsWith("127.")) throw new Error(`tests send datagrams only to loopback, not ${address}`);
  const socket = createSocket({ type: "udp4" });
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
  socket.setBroadcast(true);
  try {
    for (const datagram of datagrams) {
      await new Promise<void>((resolve, reject) => socket.send(datagram, port, address, (err) => (err ? reject(err) : resolve())));
    }
  } finally {
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}
