"""Dashboard tests: headless Chromium (Debian's) driven by Playwright against `usagekit serve`."""
