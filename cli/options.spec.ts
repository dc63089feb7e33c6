import { Command, type Option } from "commander";
import { describe, expect, it } from "vitest";
import * as options from "./options.js";

const shared = [
  options.tokenOption(),
  options.clusterOption(),
  options.beaconPortOption(),
  options.serverOption(),
  options.discoveryTimeoutOption(6000),
  options.tasksOption(),
  options.concurrencyOption(),
  options.drainTimeoutOption(),
  options.logLevelOption(),
  options.logFormatOption(),
];

/** Parses argv with one shared option, with these FW_ variables set meanwhile. */
function parse(option: Option, argv: string[], env: Record<string, string> = {}): unknown {
  Object.assign(process.env, env);
  try {
    const program = new Command().exitOverride().configureOutput({ writeErr: () => undefined }).addOption(option);
    program.parse(argv, { from: "user" });
    return program.opts()[option.attributeName()];
  } finally {
    for (const key of Object.keys(env)) delete process.env[key];
  }
}

describe("shared CLI options", () => {
  it("each reads FW_<FLAG> from the environment", () => {
    for (const option of shared) expect(option.envVar).toBe(`FW_${option.long!.slice(2).toUpperCase().replaceAll("-", "_")}`);
  });

  it("keep their documented defaults", () => {
    expect(parse(options.tokenOption(), [])).toBeUndefined();
    expect(parse(options.clusterOption(), [])).toBe("default");
    expect(parse(options.beaconPortOption(), [])).toBe(50051);
    expect(parse(options.discoveryTimeoutOption(6000), [])).toBe(6000);
    expect(options.discoveryTimeoutOption(6000).defaultValueDescription).toBe("6");
    expect(options.discoveryTimeoutOption(0).defaultValueDescription).toBe("0");
    expect(parse(options.concurrencyOption(), [])).toBe(16);
    expect(parse(options.drainTimeoutOption(), [])).toBe(30_000);
    expect(parse(options.logLevelOption(), [])).toBe("info");
  });

  it("parse flags and variables alike, and refuse bad values", () => {
    expect(parse(options.beaconPortOption(), ["--beacon-port", "40000"])).toBe(40000);
    expect(parse(options.beaconPortOption(), [], { FW_BEACON_PORT: "40001" })).toBe(40001);
    expect(parse(options.discoveryTimeoutOption(0), [], { FW_DISCOVERY_TIMEOUT: "1.5" })).toBe(1500);
    expect(parse(options.tasksOption(), ["--tasks", "a.mjs", "--tasks", "b.mjs"])).toEqual(["a.mjs", "b.mjs"]);
    expect(() => parse(options.beaconPortOption(), ["--beacon-port", "0"])).toThrow(/expected a whole number from 1 to 65535/);
    expect(() => parse(options.logFormatOption(), ["--log-format", "xml"])).toThrow(/Allowed choices are pretty, json/);
  });
});
