/**
 * Engine scenarios 11-15: `liveDiff` (`kaptain:liveDiff`), the phases' diff against the
 * cluster during `pulumi preview` and `pulumi up`, through the real engine on a loopback
 * cluster: the release lines under a phase, drift made an update and put back, and no
 * flip-flop after it. Every assertion reads the cluster (helm revisions, object UIDs), the
 * remote the hooks upload to, or the engine's events (steps, diff keys, diagnostics).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { changed, EngineRun, EngineStack } from "./harness";
import { commandPluginOrSkipLines } from "./plugins";
import { EngineWorld, startWorld } from "./setup";
import { freePorts } from "../cluster/cluster";

const SCENARIO = {
    fresh: "11. with liveDiff on, a fresh up deploys; the two previews after it report every resource same",
    edit: "12. a values edit: the preview names that one release under the install phase, and up upgrades only it",
    drift:
        "13. a hand-made helm upgrade --set and a deleted object: the preview shows the install phase as an update " +
        "for drift alone, without changing a revision or uploading; up puts both back; the two previews after are same",
    unreachable: "14. a cluster that cannot be reached: the preview fails with one error naming the context",
    off: "15. liveDiff turned off, then on again, while the cluster matches: nothing to do either way",
} as const;

const hasCommandPlugin = commandPluginOrSkipLines(Object.values(SCENARIO));

let world: EngineWorld;
let stack: EngineStack;
let remote: string;

const program = async () => {
    const { Infrastructure, infrastructureArgsFromConfig } = await import("../../../sdk");
    new Infrastructure("shop", infrastructureArgsFromConfig());
};

function revisions(): Record<string, number> {
    const list = JSON.parse(world.helm(world.clusters[0], "list", "-n", "shop", "-a", "-o", "json")) as {
        name: string;
        revision: string;
    }[];
    return Object.fromEntries(list.map(r => [r.name, Number(r.revision)]));
}

/** A ConfigMap's UID in the shop namespace. */
function configMapUid(name: string): string {
    return world.kubectl(world.clusters[0], "get", "configmap", name, "-n", "shop", "-o", "jsonpath={.metadata.uid}");
}

/** The releases whose revision went up between two readings. */
function upgraded(before: Record<string, number>, after: Record<string, number>): string[] {
    return Object.keys(after)
        .filter(r => after[r] !== before[r])
        .sort();
}

/** Every file of the hooks' remote, with its size and modification time. */
function remoteListing(): string[] {
    const out: string[] = [];
    const walk = (dir: string) => {
        for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
            const file = path.join(dir, entry.name);
            if (entry.isDirectory()) walk(file);
            else {
                const st = fs.statSync(file);
                out.push(`${path.relative(remote, file)} ${st.size} ${st.mtimeMs}`);
            }
        }
    };
    walk(remote);
    return out.sort();
}

/** The live-diff lines the engine reported under a resource, by resource name. */
function liveLines(run: EngineRun): Record<string, string> {
    return Object.fromEntries(
        run.diagnostics
            .filter(d => d.urn !== undefined && d.message.includes("live diff:"))
            .map(d => [d.urn!.split("::").pop()!, d.message]),
    );
}

async function expectTwoQuietPreviews(): Promise<void> {
    for (let i = 0; i < 2; i++) {
        const run = await stack.preview({ diff: true });
        const shown = JSON.stringify({ diffs: run.diffs, lines: liveLines(run) });
        expect(changed(run), shown).toEqual({});
        expect(liveLines(run)).toEqual({});
    }
}

describe.skipIf(!hasCommandPlugin)("liveDiff through the engine", () => {
    beforeAll(async () => {
        world = await startWorld(1);
        remote = path.join(world.engine.root, "remote");
        const record = path.join(world.engine.root, "record");
        fs.mkdirSync(remote);
        fs.mkdirSync(record);
        stack = await world.engine.stack(
            "live",
            program,
            {
                "kaptain:namespace": "shop",
                "kaptain:workingDirectory": world.repo,
                "kaptain:phases": { config: true, install: true, provision: true },
                "kaptain:environment": { E2E_RECORD: record, RCLONE_CONFIG_KAPTAIN_REMOTE: `store:${remote}` },
                "kaptain:liveDiff": true,
            },
            { "kaptain:kubeconfig": fs.readFileSync(world.clusters[0].kubeconfig, "utf8") },
        );
    }, 40 * 60_000);

    afterAll(async () => {
        await world?.stop();
    }, 120_000);

    it(
        SCENARIO.fresh,
        async () => {
            const run = await stack.up();
            expect(Object.values(run.steps).every(op => op === "create")).toBe(true);
            expect(new Set(Object.values(revisions()))).toEqual(new Set([1]));
            await expectTwoQuietPreviews();
        },
        600_000,
    );

    it(
        SCENARIO.edit,
        async () => {
            const file = path.join(world.repo, "configs/fleet/3.yaml");
            fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace('"3-one"', '"3-two"'));
            const before = revisions();
            const preview = await stack.preview();
            expect(revisions()).toEqual(before);
            const lines = liveLines(preview);
            expect(Object.keys(lines)).toEqual(["shop-install"]);
            expect(lines["shop-install"]).toMatch(/live diff: 1 release would change/);
            expect(lines["shop-install"]).toMatch(/~ fleet-3\s+upgraded: 1 changed/);
            expect(lines["shop-install"]).not.toContain("3-two");

            await stack.up();
            expect(upgraded(before, revisions())).toEqual(["fleet-3"]);
            await expectTwoQuietPreviews();
        },
        900_000,
    );

    it(
        SCENARIO.drift,
        async () => {
            world.helm(
                world.clusters[0],
                "upgrade",
                "fleet-5",
                path.join(world.repo, "charts/fleet"),
                "-n",
                "shop",
                "--reuse-values",
                "--set",
                "value=by-hand",
            );
            const uidBefore = configMapUid("fleet-7");
            world.kubectl(world.clusters[0], "delete", "configmap", "fleet-7", "-n", "shop");
            const before = revisions();
            const uploaded = remoteListing();

            const preview = await stack.preview({ diff: true });
            // Drift alone: the install phase updates, for the live diff's finding and nothing else.
            expect(changed(preview)).toEqual({ "shop-install": "update" });
            expect(preview.diffs["shop-install"]).toEqual(["environment.KAPTAIN_LIVE_DIFF"]);
            const line = liveLines(preview)["shop-install"];
            expect(line).toMatch(/~ fleet-5\s+upgraded: 1 changed/);
            expect(line).toMatch(/fleet-7\s+upgraded: 1 added/);
            expect(line).not.toContain("by-hand");
            // A preview changes nothing: no helm revision, no upload.
            expect(revisions()).toEqual(before);
            expect(remoteListing()).toEqual(uploaded);

            const up = await stack.up();
            expect(changed(up)).toEqual({ "shop-install": "update" });
            expect(upgraded(before, revisions())).toEqual(["fleet-5", "fleet-7"]);
            const value = world.kubectl(
                world.clusters[0],
                "get",
                "configmap",
                "fleet-5",
                "-n",
                "shop",
                "-o",
                "jsonpath={.data.value}",
            );
            expect(value).not.toBe("by-hand");
            const uidAfter = configMapUid("fleet-7");
            expect(uidAfter).not.toBe("");
            expect(uidAfter).not.toBe(uidBefore);
            await expectTwoQuietPreviews();
        },
        900_000,
    );

    it(
        SCENARIO.off,
        async () => {
            stack.writeConfig({ "kaptain:liveDiff": false });
            let run = await stack.preview();
            expect(changed(run)).toEqual({});
            stack.writeConfig({ "kaptain:liveDiff": true });
            run = await stack.preview();
            expect(changed(run)).toEqual({});
        },
        600_000,
    );

    it(
        SCENARIO.unreachable,
        async () => {
            const [port] = await freePorts(1);
            const kubeconfig = JSON.parse(fs.readFileSync(world.clusters[0].kubeconfig, "utf8")) as {
                clusters: { cluster: { server: string } }[];
                "current-context": string;
            };
            kubeconfig.clusters[0].cluster.server = `https://127.0.0.1:${port}`;
            const other = await world.engine.stack(
                "unreachable",
                program,
                {
                    "kaptain:namespace": "shop",
                    "kaptain:workingDirectory": world.repo,
                    "kaptain:phases": { config: false, install: true },
                    "kaptain:provisionConfigs": { enabled: false },
                    "kaptain:liveDiff": true,
                },
                { "kaptain:kubeconfig": JSON.stringify(kubeconfig) },
            );
            const run = await other.preview({ expectFailure: true });
            expect(run.error).toBeDefined();
            const errors = run.diagnostics.filter(d => d.severity === "error" && d.message.includes("live diff"));
            expect(errors).toHaveLength(1);
            expect(errors[0].message).toContain(
                `cannot reach the cluster, context ${JSON.stringify(kubeconfig["current-context"])}`,
            );
            expect(errors[0].message).toContain(`(server https://127.0.0.1:${port})`);
            expect(errors[0].message).not.toMatch(/Comparing release|helmfile\.yaml/);
        },
        600_000,
    );
});
