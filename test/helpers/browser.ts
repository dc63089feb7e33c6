import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { CHROMIUM } from "./requires.js";

/** A headless Chromium with a fresh profile; close() ends it and removes the profile. */
export interface TestBrowser {
  /** A new tab that records uncaught page errors in `errors`. */
  newPage(): Promise<Page & { errors: string[] }>;
  close(): Promise<void>;
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
    async newPage() {
      const page = (await context.newPage()) as Page & { errors: string[] };
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
