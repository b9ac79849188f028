/**
 * Adoption of what kaptain deployed: a namespace deployed by the kaptain wrapper (helmfile
 * sync, the seed's provision-configs chart rendering the namespace Secret, ConfigMap and
 * rclone-config Secret), then `kaptain init` and the first `kaptain install <ns>` through
 * pulumi-kaptain, the CLI run as a user runs it.
 *
 * - take-over (`kaptain init --provision-configs take-over`): the first install upgrades no
 *   release and the stack takes the three objects over in place (same UIDs); once the
 *   templates leave the chart, helm upgrades the release and keeps the objects
 *   (`helm.sh/resource-policy: keep`), and a secret.yaml edit updates the Secret in place;
 * - keep (the default): the first install upgrades no release and the chart keeps them.
 *
 * All along, a watcher follows the three objects (the API server's watch, and a poll every
 * 50 ms): the scenarios fail on any DELETED event, any poll that finds one missing, or a
 * UID that changes.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { init } from "../../../sdk/init/init";
import { INIT_SOURCES, linkSdk } from "../../support/init-project";
import { kaptainCli, kaptainWrapperDeploy, ObjectWatch, watchObjects, WatchedObject } from "../support/verbs";
import { commandPluginOrSkipLines } from "./plugins";
import { EngineWorld, startWorld } from "./setup";

const SCENARIO = {
    takeOver:
        "take-over: the first kaptain install upgrades no release and takes the three objects over in place, the Secret there at every moment",
    takenOver:
        "take-over, completed: the templates leave the chart, helm upgrades the release and keeps the objects; a secret.yaml edit updates the Secret in place",
    keep: "keep: the first kaptain install upgrades no release and leaves the three objects to the chart",
} as const;

const hasCommandPlugin = commandPluginOrSkipLines(Object.values(SCENARIO));

let world: EngineWorld;
let env: Record<string, string>;
/** The repository whose stack takes the objects over (namespace shop), and the one that keeps the chart's (prod). */
let takeOver: string;
let keep: string;

function objects(namespace: string): WatchedObject[] {
    return [
        { resource: "secrets", name: namespace },
        { resource: "configmaps", name: namespace },
        { resource: "secrets", name: "rclone-config" },
    ];
}

function revisions(namespace: string): Record<string, number> {
    const list = JSON.parse(world.helm(world.clusters[0], "list", "-n", namespace, "-o", "json")) as {
        name: string;
        revision: string;
    }[];
    return Object.fromEntries(list.map(r => [r.name, Number(r.revision)]));
}

interface Live {
    metadata: { uid: string; annotations?: Record<string, string> };
    data?: Record<string, string>;
}

function live(namespace: string, object: WatchedObject): Live {
    return JSON.parse(
        world.kubectl(world.clusters[0], "get", object.resource, object.name, "-n", namespace, "-o", "json"),
    ) as Live;
}

function uids(namespace: string): string[] {
    return objects(namespace).map(o => live(namespace, o).metadata.uid);
}

function decoded(object: Live): Record<string, string> {
    return Object.fromEntries(
        Object.entries(object.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]),
    );
}

/** The resources of a stack's state, by type, from `pulumi stack export` run as the user would. */
function stateTypes(repo: string, stack: string): string[] {
    const exported = JSON.parse(
        execFileSync("pulumi", ["stack", "export", "--stack", stack], {
            cwd: repo,
            env: { ...process.env, ...env },
            encoding: "utf8",
            maxBuffer: 256 * 1024 * 1024,
        }),
    ) as { deployment: { resources?: { type: string }[] } };
    return (exported.deployment.resources ?? []).map(r => r.type);
}

/** What the watcher saw: nothing deleted, never missing, every UID the first one. */
async function expectAlwaysThere(watch: ObjectWatch, before: string[]): Promise<void> {
    await watch.stop();
    expect(watch.polls).toBeGreaterThan(0);
    expect(watch.gaps).toEqual([]);
    expect(watch.events.filter(e => e.type === "DELETED")).toEqual([]);
    expect([...new Set(watch.events.map(e => e.uid))].sort()).toEqual([...before].sort());
}

/** A copy of the adoption fixture named `name`, made a project by `kaptain init`, deployed first by the kaptain wrapper. */
function kaptainRepository(name: string, namespace: string, choice: "keep" | "take-over"): string {
    const repo = path.join(world.engine.root, "repos", name);
    fs.cpSync(INIT_SOURCES.chart, repo, { recursive: true });
    kaptainWrapperDeploy(repo, namespace, env);
    init({ directory: repo, provisionConfigs: choice });
    linkSdk(repo);
    return repo;
}

describe.skipIf(!hasCommandPlugin)("adopting a namespace kaptain deployed", () => {
    beforeAll(async () => {
        world = await startWorld(1);
        env = {
            ...world.engine.env,
            PULUMI_BACKEND_URL: world.engine.backendUrl,
            // As with kaptain: the cluster is the one of KUBECONFIG.
            KUBECONFIG: world.clusters[0].kubeconfig,
        };
        takeOver = kaptainRepository("shop-platform", "shop", "take-over");
        keep = kaptainRepository("prod-platform", "prod", "keep");
    }, 40 * 60_000);

    afterAll(async () => {
        await world?.stop();
    }, 120_000);

    it(SCENARIO.takeOver, async () => {
        const before = {
            revisions: revisions("shop"),
            uids: uids("shop"),
            secret: decoded(live("shop", objects("shop")[0])),
        };
        expect(before.revisions).toEqual({ "provision-configs": 2, app: 1 });
        const watch = watchObjects(world.clusters[0].kubeconfig, "shop", objects("shop"));
        const run = await kaptainCli(["install", "shop", "--yes"], takeOver, env);
        await expectAlwaysThere(watch, before.uids);
        expect(run.status, `${run.stdout.slice(-4000)}\n${run.stderr}`).toBe(0);

        expect(revisions("shop")).toEqual(before.revisions);
        expect(uids("shop")).toEqual(before.uids);
        expect(decoded(live("shop", objects("shop")[0]))).toEqual(before.secret);
        for (const object of objects("shop")) {
            expect(live("shop", object).metadata.annotations?.["helm.sh/resource-policy"], object.name).toBe("keep");
        }
        const state = stateTypes(takeOver, "shop");
        expect(state.filter(t => t === "kubernetes:core/v1:Secret")).toHaveLength(2);
        expect(state.filter(t => t === "kubernetes:core/v1:ConfigMap")).toHaveLength(1);
    });

    it(SCENARIO.takenOver, async () => {
        const before = { revisions: revisions("shop"), uids: uids("shop") };
        const templates = path.join(takeOver, "namespaces/shop/provision-configs/templates");
        for (const file of ["namespace-secret.yaml", "namespace-configmap.yaml", "rclone-config-secret.yaml"]) {
            fs.rmSync(path.join(templates, file));
        }
        // What else the chart carries stays in it.
        fs.writeFileSync(
            path.join(templates, "embedded.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: embedded\ndata:\n  a: one\n",
        );
        const secretFile = path.join(takeOver, "secret.yaml");
        fs.writeFileSync(
            secretFile,
            fs.readFileSync(secretFile, "utf8").replace("adopt-db-password-0003", "adopt-db-password-0033"),
        );

        const watch = watchObjects(world.clusters[0].kubeconfig, "shop", objects("shop"));
        const run = await kaptainCli(["install", "shop", "--yes"], takeOver, env);
        await expectAlwaysThere(watch, before.uids);
        expect(run.status, `${run.stdout.slice(-4000)}\n${run.stderr}`).toBe(0);

        expect(revisions("shop")).toEqual({
            ...before.revisions,
            "provision-configs": before.revisions["provision-configs"] + 1,
        });
        expect(uids("shop")).toEqual(before.uids);
        expect(decoded(live("shop", objects("shop")[0])).dbPassword).toBe("adopt-db-password-0033");
    });

    it(SCENARIO.keep, async () => {
        const before = { revisions: revisions("prod"), uids: uids("prod") };
        expect(before.revisions).toEqual({ "provision-configs": 2, app: 1 });
        const watch = watchObjects(world.clusters[0].kubeconfig, "prod", objects("prod"));
        const run = await kaptainCli(["install", "prod", "--yes"], keep, env);
        await expectAlwaysThere(watch, before.uids);
        expect(run.status, `${run.stdout.slice(-4000)}\n${run.stderr}`).toBe(0);

        expect(revisions("prod")).toEqual(before.revisions);
        expect(uids("prod")).toEqual(before.uids);
        for (const object of objects("prod")) {
            expect(live("prod", object).metadata.annotations?.["helm.sh/resource-policy"], object.name).toBeUndefined();
        }
        const state = stateTypes(keep, "prod");
        expect(state.filter(t => t.startsWith("kubernetes:core/v1:"))).toEqual([]);
        // The namespace guard, the config and the install phase.
        expect(state.filter(t => t === "command:local:Command")).toHaveLength(3);
    });
});
