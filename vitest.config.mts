import * as path from "node:path";
import { defineConfig } from "vitest/config";

// ProvisionConfigs renders values with `helm` from PATH: the tests' PATH (theirs only) finds
// the Helm the global setup unpacks first.
const HELM_DIRECTORY = path.resolve(import.meta.dirname, ".cache/helm/helm");

export default defineConfig({
    test: {
        // Every temporary folder a test file made is removed after it.
        setupFiles: ["test/support/cleanup.ts"],
        include: ["test/**/*.test.ts"],
        // The end-to-end suite has its own config and command: npm run test:e2e.
        exclude: ["test/e2e/**", "node_modules/**"],
        // Pulumi's mocks are process-wide: every test file gets a fresh process.
        pool: "forks",
        isolate: true,
        testTimeout: 60_000,
        hookTimeout: 120_000,
        // Unpacks the Helm binary that the provision-configs parity tests render with.
        globalSetup: ["test/support/global-setup.ts"],
        env: { PATH: `${HELM_DIRECTORY}${path.delimiter}${process.env.PATH ?? ""}` },
    },
});
