import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import { CHROMIUM } from "./requires.js";

/** How a new tab looks at the page. */
export interface PageOptions {
  /** Default 1400×900 (desktop); a phone is 390×844. */
  viewport?: { width: number; height: number };
  /** prefers-color-scheme, default light. */
  colorScheme?: "light" | "dark";
}

/** A headless Chromium with a fresh profile; close() ends it and removes the profile. */
export interface TestBrowser {
  /** A new tab that records uncaught page errors in `errors`. */
  newPage(options?: PageOptions): Promise<Page & { errors: string[] }>;
  close(): Promise<void>;
}

/** One axe-core finding, as much as a failure message needs. */
export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

let axeSource: string | undefined;

/**
 * Runs axe-core (the dev dependency, injected from node_modules: nothing is
 * fetched) on the page as it is now and answers its violations of `impacts`
 * (default serious and critical), with where they are. Evaluated through the
 * DevTools protocol, so a Content-Security-Policy cannot block it.
 */
export async function axeViolations(page: Page, impacts: string[] = ["serious", "critical"]): Promise<AxeViolation[]> {
  axeSource ??= readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
  if (!(await page.evaluate(() => "axe" in globalThis))) await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    // In the page: axe and the document are its globals (this file has no DOM types).
    const { axe, document } = globalThis as unknown as {
      axe: { run: (context: unknown, options: object) => Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] }> };
      document: unknown;
    };
    const result = await axe.run(document, { resultTypes: ["violations"] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => String(n.target.join(" "))) }));
  });
  return violations.filter((v) => v.impact !== null && impacts.includes(v.impact));
}

/**
 * Starts headless Debian Chromium through playwright-core: no browser
 * download, no network besides loopback, a throwaway profile.
 */
export async function launchBrowser(): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), "fw-chromium-"));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1400, height: 900 },
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    });
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw new Error(`cannot start ${CHROMIUM} (apt-get install chromium): ${String(err)}`);
  }
  // A persistent context opens with one blank tab; tests use their own.
  await Promise.all(context.pages().map((p) => p.close()));
  return {
    async newPage(options = {}) {
      const page = (await context.newPage()) as Page & { errors: string[] };
      if (options.viewport) await page.setViewportSize(options.viewport);
      await page.emulateMedia({ colorScheme: options.colorScheme ?? "light" });
      page.errors = [];
      page.on("pageerror", (err) => page.errors.push(err.message));
      return page;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A test file's browser (see {@link browserSession}). */
export interface BrowserSession {
  /** A new tab on `url`; closed after the test, which fails on the tab's uncaught errors. */
  open(url: string, options?: PageOptions): Promise<Page & { errors: string[] }>;
  /** Tabs the current test opened, oldest first. */
  readonly pages: readonly (Page & { errors: string[] })[];
  /** Clients to close after the test. */
  readonly clients: { close(): Promise<void> }[];
}

/**
 * One Chromium for a test file (its hooks registered here): tabs from
 * `open` and the clients pushed on `clients` are closed after each test,
 * and a test fails if a tab it opened threw an uncaught error.
 */
export function browserSession(): BrowserSession {
  let browser: TestBrowser | undefined;
  const session = { pages: [] as (Page & { errors: string[] })[], clients: [] as { close(): Promise<void> }[] };
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    const errors = session.pages.flatMap((p) => p.errors);
    await Promise.all(session.pages.map((p) => p.close()));
    session.pages.length = 0;
    await Promise.all(session.clients.map((c) => c.close()));
    session.clients.length = 0;
    expect(errors, "uncaught errors in the page").toEqual([]);
  });
  return {
    ...session,
    async open(url, options) {
      const p = await browser!.newPage(options);
      session.pages.push(p);
      await p.goto(url);
      return p;
    },
  };
}
