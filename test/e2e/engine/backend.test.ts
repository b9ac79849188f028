/**
 * Engine scenario 10: the state in a real shared backend, Pulumi's DIY PostgreSQL backend
 * (`postgres://`, Debian's postgresql started on loopback by the test). A second `up` of
 * the same stack, started while the first one runs, fails with Pulumi's lock error; the
 * first completes, and the state is whole afterwards. The program is a ProvisionConfigs
 * (kubernetes plugin only), so this always runs.
 */
import * as fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EngineStack } from "./harness";
import { Postgres, startPostgres } from "../support/postgres";
import { EngineWorld, provisionConfigsProgram, startWorld } from "./setup";

let world: EngineWorld;
let postgres: Postgres;
let stack: EngineStack;

beforeAll(async () => {
    postgres = await startPostgres();
    world = await startWorld(1, { backendUrl: postgres.url });
    stack = await world.engine.stack(
        "shared",
        provisionConfigsProgram(world.repo, "ledger"),
        {},
        {
            "e2e:kubeconfig": fs.readFileSync(world.clusters[0].kubeconfig, "utf8"),
        },
    );
}, 40 * 60_000);

afterAll(async () => {
    await world?.stop();
    await postgres?.stop();
}, 120_000);

describe("a shared PostgreSQL backend", () => {
    it("an up started while another runs on the same stack fails with the lock error; the state is whole", async () => {
        let started: () => void = () => undefined;
        const firstIsRunning = new Promise<void>(resolve => (started = resolve));
        const first = stack.run("up", { onEvent: event => event.resourcePreEvent && started() });
        await firstIsRunning;
        const second = await stack.up({ expectFailure: true });
        const done = await first;

        expect(done.error).toBeUndefined();
        expect(done.summary.create).toBe(7);
        expect(second.error).toBeDefined();
        expect(second.output).toMatch(/the stack is currently locked/);
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
