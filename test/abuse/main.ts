// The abuse suite, full run: `npm run fuzz` (builds first). Options:
//   --inputs N      random inputs in all (default 120000)
//   --seed S        the random seed (default: from the clock; printed, so a run can be repeated)
//   --max-rss MIB   the control plane's peak RSS bound (default 1024)
// Exits 1 when anything must-not-happen happened (the table says what).
import { formatReport, runAbuse } from "./abuse.js";

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};

const report = await runAbuse({
  inputs: arg("inputs", 120_000),
  seed: arg("seed", Date.now() % 2 ** 31),
  maxPeakRssBytes: arg("max-rss", 1024) * 1024 * 1024,
  log: (line) => process.stderr.write(`fuzz: ${line}\n`),
});
process.stdout.write(`${formatReport(report)}\n`);
process.exitCode = report.problems.length === 0 ? 0 : 1;
