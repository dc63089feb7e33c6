import { vi } from "vitest";

// The unit tier starts no processes: a spec that spawns one belongs in test/ (e2e).
// Checked here so it cannot creep in: child_process is replaced for every unit spec.
vi.mock("node:child_process", () => {
  const refuse = (name: string) => () => {
    throw new Error(`child_process.${name}() in a unit spec: unit specs start no processes; move this test to test/*.test.ts (the e2e tier)`);
  };
  const api = Object.fromEntries(["spawn", "spawnSync", "exec", "execSync", "execFile", "execFileSync", "fork"].map((name) => [name, refuse(name)]));
  return { ...api, default: api };
});
