import { describe, expect, it } from "vitest";
import { parseServerAddress } from "./address.js";

describe("parseServerAddress", () => {
  it("keeps host:port plaintext, and reads the TLS forms", () => {
    expect(parseServerAddress("127.0.0.1:50051")).toMatchObject({ target: "127.0.0.1:50051", tls: false });
    expect(parseServerAddress("[::1]:50051")).toMatchObject({ target: "[::1]:50051", tls: false });
    expect(parseServerAddress("grpcs://fw.example.com:50051")).toMatchObject({ target: "fw.example.com:50051", tls: true });
    expect(parseServerAddress("GRPCS://[::1]:7")).toMatchObject({ target: "[::1]:7", tls: true });
    expect(parseServerAddress("https://fw.example.com")).toMatchObject({ target: "fw.example.com:443", tls: true });
    expect(parseServerAddress("https://fw.example.com:8443/")).toMatchObject({ target: "fw.example.com:8443", tls: true });
    expect(parseServerAddress("grpc://h:1")).toMatchObject({ target: "h:1", tls: false });
    expect(parseServerAddress("http://h")).toMatchObject({ target: "h:80", tls: false });
  });

  it("refuses what it cannot dial, naming the forms", () => {
    for (const bad of ["", "localhost", "h:port", "ftp://h:1", "grpc://h", "grpcs://h:1/path", "https://u:p@h:1", "https://h:1?x=1", "grpcs://"]) {
      expect(() => parseServerAddress(bad), bad).toThrow(/use HOST:PORT \(plaintext\) or grpcs:\/\/HOST:PORT \(TLS\)/);
    }
  });
});
