/**
 * Engine scenario 10: the state in a real shared backend, Pulumi's DIY PostgreSQL backend
 * (`postgres://`, Debian's postgresql started on loopback by the test). Two `up` of the
 * same stack at once: one waits or fails with Pulumi's lock error, never both write, and
 * the state is whole afterwards. The program is a ProvisionConfigs (kubernetes plugin
 * only), so this always runs.
 */
import * as fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Engine, EngineStack } from "./harness";
import { postgresBin, Postgres, startPostgres } from "../support/postgres";
import { EngineWorld, provisionConfigsProgram, startWorld } from "./setup";
import { pluginBinaries } from "./plugins";

let world: EngineWorld;
let postgres: Postgres;
let engine: Engine;
let stack: EngineStack;

beforeAll(async () => {
    if (postgresBin() === undefined) {
        throw new Error("PostgreSQL is not installed: apt-get install postgresql (.ci/run does)");
    }
    world = await startWorld(1);
    postgres = await startPostgres();
    engine = new Engine({
        binDir: world.tools.binDir,
        helmPlugins: world.tools.helmPlugins,
        plugins: pluginBinaries(world.tools.binDir),
        backendUrl: postgres.url,
    });
    await engine.start();
    stack = await engine.stack(
        "shared",
        provisionConfigsProgram(world.repo, "ledger"),
        {},
        {
            "e2e:kubeconfig": fs.readFileSync(world.clusters[0].kubeconfig, "utf8"),
        },
    );
}, 40 * 60_000);

afterAll(async () => {
    engine?.remove();
    await postgres?.stop();
    await world?.stop();
}, 120_000);

describe("a shared PostgreSQL backend", () => {
    it("two up of one stack at once: one waits or fails with the lock error, and the state is whole", async () => {
        const results = await Promise.allSettled([stack.up(), stack.up()]);
        const failures = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
        expect(failures.length).toBeLessThanOrEqual(1);
        for (const failure of failures) {
            expect(String((failure.reason as Error).message)).toMatch(/lock|currently (being )?updat|in progress/i);
        }
        // Whole: every resource once, and the next preview finds nothing to do.
        const resources = await stack.resources();
        expect(Object.keys(resources).sort()).toEqual([
            "cluster",
            "kaptain-e2e-shared",
            "ledger",
            "ledger-namespace",
            "ledger-namespace-configmap",
            "ledger-namespace-secret",
            "ledger-rclone-config",
        ]);
        const preview = await stack.preview();
        expect(Object.keys(preview.summary)).toEqual(["same"]);
        expect(world.kubectl(world.clusters[0], "get", "secret", "ledger", "-n", "ledger", "-o", "name").trim()).toBe(
            "secret/ledger",
        );
    });
});
