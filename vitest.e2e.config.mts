import { defineConfig } from "vitest/config";

// `npm run test:e2e`: the real Pulumi CLI, helmfile and helm against loopback clusters.
// The scenarios of one file run in order on one stack; each file gets its own process.
export default defineConfig({
    test: {
        // Every temporary folder a test file made is removed after it.
        setupFiles: ["test/support/cleanup.ts", "test/e2e/support/helm-on-path.ts"],
        include: ["test/e2e/**/*.test.ts"],
        pool: "forks",
        isolate: true,
        fileParallelism: false,
        testTimeout: 15 * 60_000,
        hookTimeout: 40 * 60_000,
    },
});
