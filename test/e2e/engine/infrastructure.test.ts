/**
 * Engine scenarios 1-9: the Infrastructure through the real Pulumi engine (inline
 * Automation API program, the pinned CLI, the kubernetes provider built from its Go
 * module, the command provider from where the user keeps it), on the e2e fixture: two
 * namespaces of one repository, a chart with a `file://` dependency, 24 releases each.
 *
 * The stack is configured the way the example is: `infrastructureArgsFromConfig()` reading
 * `Pulumi.<stack>.yaml`, the kubeconfig a secret. Cluster B is the stack's; the ambient
 * KUBECONFIG of the CLI, the providers and the scripts points at cluster A. The CLI runs
 * in the engine's own project folder, not in the test's directory.
 *
 * Scenarios run in order on one stack. Every assertion reads the cluster (helm revisions,
 * object UIDs), the stack's state or the engine's events: never what the program printed.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { changed, EngineRun, EngineStack } from "./harness";
import { commandPluginOrSkipLines } from "./plugins";
import { EngineWorld, kubeconfigCredentials, startWorld } from "./setup";

const NAMESPACES = ["shop", "depot"] as const;
const FLEET = Array.from({ length: 20 }, (_, i) => `fleet-${i}`);
const RELEASES = ["embedded-configs", "app", "web", "seed", ...FLEET].sort();
const PHASES = ["config", "install", "provision"] as const;
const SECRET_VALUES = ["e2e-db-password-0001", "e2e-api-token-0002"];

/** The scenarios, by the numbers: titles for vitest and for the skip lines. */
const SCENARIO = {
    freshUp: "1. a fresh up deploys both namespaces' releases, the namespace Secret, ConfigMap and rclone-config",
    ambient: "4. nothing reached the ambient cluster",
    noop: "2. a second preview and up change nothing: every resource same, every helm revision unchanged",
    edit: "3. one release's values file edited: only the install phases update, naming that release, and only it is upgraded",
    shared: "3b. a shared file, a hook, a chart and the helmfile template, each edited: every phase of the namespaces updates, its shared inputs named",
    secrets:
        "5. the state and the whole CLI output hold no secret.yaml value, rclone.conf content or kubeconfig credential",
    failure:
        "6. a chart that fails to render: the error names phase, step and cause, without the script; fixed, up succeeds",
    refresh: "7. refresh, then preview: no change",
    guard: "10. a namespace change stops at the namespace guard before anything deploys, naming the releases left behind",
    rename: "8. a rename with aliases replaces and deletes nothing; without, preview shows the destroy and protect stops it",
    phaseOff: "9. a phase turned off runs its uninstall; destroy removes everything, provision, install, then config",
} as const;

const hasCommandPlugin = commandPluginOrSkipLines(Object.values(SCENARIO));

let world: EngineWorld;
let stack: EngineStack;
/** What the inline program builds: the component's name and aliases change in scenario 8. */
const program = { name: "shop", aliases: [] as string[] };

/** Every phase Command of both namespaces, by resource name. */
function phaseNames(prefix = program.name): string[] {
    return [prefix, "depot"].flatMap(n => PHASES.map(p => `${n}-${p}`));
}

function helmReleases(clusterIndex: number, namespace: string): Record<string, number> {
    const list = JSON.parse(world.helm(world.clusters[clusterIndex], "list", "-n", namespace, "-a", "-o", "json")) as {
        name: string;
        revision: string;
    }[];
    return Object.fromEntries(list.map(r => [r.name, Number(r.revision)]));
}

function revisions(): Record<string, Record<string, number>> {
    return Object.fromEntries(NAMESPACES.map(ns => [ns, helmReleases(1, ns)]));
}

function uid(kind: string, name: string, namespace: string): string | undefined {
    try {
        return world.kubectl(world.clusters[1], "get", kind, name, "-n", namespace, "-o", "jsonpath={.metadata.uid}");
    } catch {
        return undefined;
    }
}

function expectOnlyUpdates(run: EngineRun, names: string[]): void {
    expect(changed(run)).toEqual(Object.fromEntries(names.map(n => [n, "update"])));
}

function edit(file: string, from: string, to: string): void {
    const abs = path.join(world.repo, file);
    const text = fs.readFileSync(abs, "utf8");
    expect(text).toContain(from);
    fs.writeFileSync(abs, text.replace(from, to));
}

describe.skipIf(!hasCommandPlugin)("the Infrastructure through the engine", () => {
    beforeAll(async () => {
        world = await startWorld(2, { ambientCluster: 0 });
        const remote = path.join(world.engine.root, "remote");
        const record = path.join(world.engine.root, "record");
        fs.mkdirSync(remote);
        fs.mkdirSync(record);
        stack = await world.engine.stack(
            "e2e",
            async () => {
                const { Infrastructure, infrastructureArgsFromConfig } = await import("../../../sdk");
                const args = infrastructureArgsFromConfig();
                const shop = new Infrastructure(program.name, args, {
                    aliases: program.aliases.map(name => ({ name })),
                });
                // A second namespace of the same repository: it shares the charts. Its kubeconfig
                // is over 128 KiB (a comment pads it), more than an environment variable may hold.
                const padding = `\n# ${"padding ".repeat(20_000)}\n`;
                new Infrastructure("depot", {
                    ...args,
                    namespace: "depot",
                    kubeconfig: pulumi.secret(pulumi.output(args.kubeconfig!).apply(k => `${k}${padding}`)),
                });
                return { phases: Object.keys(shop.phases) };
            },
            {
                "kaptain:namespace": "shop",
                "kaptain:workingDirectory": world.repo,
                "kaptain:phases": { config: true, install: true, provision: true },
                "kaptain:environment": { E2E_RECORD: record, RCLONE_CONFIG_KAPTAIN_REMOTE: `store:${remote}` },
            },
            { "kaptain:kubeconfig": fs.readFileSync(world.clusters[1].kubeconfig, "utf8") },
        );
    }, 40 * 60_000);

    afterAll(async () => {
        await world?.stop();
    }, 120_000);

    it(SCENARIO.freshUp, async () => {
        const run = await stack.up();
        expect(run.summary.create).toBeGreaterThan(0);
        expect(Object.values(run.steps).every(op => op === "create")).toBe(true);
        for (const ns of NAMESPACES) {
            const releases = helmReleases(1, ns);
            expect(Object.keys(releases).sort()).toEqual(RELEASES);
            expect(new Set(Object.values(releases))).toEqual(new Set([1]));
            const secret = JSON.parse(
                world.kubectl(world.clusters[1], "get", "secret", ns, "-n", ns, "-o", "json"),
            ) as {
                data: Record<string, string>;
            };
            expect(Buffer.from(secret.data.dbPassword, "base64").toString()).toBe(SECRET_VALUES[0]);
            expect(uid("configmap", ns, ns)).toBeTruthy();
        }
        expect(uid("secret", "rclone-config", "shop")).toBeTruthy();
        // logging "stderr" (the default) keeps helm's release notes, which may show values, out.
        expect(run.output).not.toContain("web-release-notes-marker");
        // The chart rendered what make-config embedded.
        expect(
            world.kubectl(world.clusters[1], "get", "configmap", "embedded-app", "-n", "shop", "-o", "name"),
        ).toContain("embedded-app");
    });

    it(SCENARIO.ambient, () => {
        for (const ns of NAMESPACES) {
            expect(helmReleases(0, ns)).toEqual({});
        }
        const namespaces = world.kubectl(world.clusters[0], "get", "namespaces", "-o", "name");
        expect(namespaces).not.toContain("namespace/shop");
        expect(namespaces).not.toContain("namespace/depot");
    });

    it(SCENARIO.noop, async () => {
        const before = revisions();
        const preview = await stack.preview();
        expect(changed(preview)).toEqual({});
        const up = await stack.up();
        expect(Object.keys(up.summary)).toEqual(["same"]);
        expect(revisions()).toEqual(before);
    });

    it(SCENARIO.edit, async () => {
        const before = revisions();
        edit("configs/fleet/7.yaml", "7", "seven");
        const preview = await stack.preview();
        // fleet-7 alone reads it (helmfile build says so): only the phases that deploy fleet-7.
        const installs = NAMESPACES.map(ns => `${ns === "shop" ? program.name : ns}-install`);
        expectOnlyUpdates(preview, installs);
        for (const name of installs) {
            expect(preview.diffs[name]).toEqual(["environment.KAPTAIN_RELEASE_fleet_7"]);
        }
        const up = await stack.up();
        expectOnlyUpdates(up, installs);
        const after = revisions();
        for (const ns of NAMESPACES) {
            expect(after[ns]).toEqual({ ...before[ns], "fleet-7": before[ns]["fleet-7"] + 1 });
        }
        // Each install phase ran helmfile for fleet-7 alone (its step line, from the engine's
        // diagnostics of that Command).
        for (const name of installs) {
            const lines = up.diagnostics
                .filter(d => d.urn?.endsWith(`::${name}`))
                .map(d => d.message)
                .join("\n");
            expect(lines, name).toContain("releases whose inputs changed: fleet-7 (helmfile runs for them only)");
        }
        expect(changed(await stack.preview())).toEqual({});
    });

    it(SCENARIO.shared, async () => {
        const cases: Array<[string, string, string, string]> = [
            ["a shared values file", "global.yaml", "", "# edited\n"],
            ["a hook", "namespaces/shop/hooks.sh", "", "# edited\n"],
            ["a chart", "charts/fleet/templates/configmap.yaml", "", "# edited\n"],
            ["the helmfile template", "helmfile.yaml.gotmpl", "", "# edited\n"],
        ];
        for (const [what, file, , appended] of cases) {
            const abs = path.join(world.repo, file);
            const original = fs.readFileSync(abs, "utf8");
            fs.writeFileSync(abs, original + appended);
            try {
                const preview = await stack.preview();
                // The hook is shop's: depot reads its own folder's, or none.
                const expected = file.startsWith("namespaces/shop/")
                    ? phaseNames().filter(n => !n.startsWith("depot"))
                    : phaseNames();
                expect(changed(preview), what).toEqual(Object.fromEntries(expected.map(n => [n, "update"])));
                for (const name of expected) {
                    expect(preview.diffs[name], `${what}: ${name}`).toContain("environment.KAPTAIN_SHARED");
                    expect(
                        preview.diffs[name].some(k => k.startsWith("environment.KAPTAIN_RELEASE_")),
                        what,
                    ).toBe(false);
                }
            } finally {
                fs.writeFileSync(abs, original);
            }
        }
        expect(changed(await stack.preview())).toEqual({});
    });

    it(SCENARIO.secrets, async () => {
        const run = await stack.preview();
        const state = await stack.exportedState();
        const credentials = kubeconfigCredentials(world.clusters[1].kubeconfig);
        const rclone = fs.readFileSync(path.join(world.repo, "namespaces/shop/rclone.conf"), "utf8");
        for (const text of [state, run.output, stack.allOutput]) {
            for (const secret of [...SECRET_VALUES, ...credentials, "/nonexistent-e2e-remote", rclone.trim()]) {
                expect(text).not.toContain(secret);
            }
        }
    });

    it(SCENARIO.failure, async () => {
        const chart = "charts/app/templates/configmap.yaml";
        const [good, bad] = ["greeting: {{ .Values.greeting | quote }}", '{{ fail "e2e-broken-chart" }}'];
        edit(chart, good, bad);
        let failed: EngineRun;
        let pending: EngineRun;
        try {
            failed = await stack.up({ expectFailure: true });
            pending = await stack.preview();
        } finally {
            edit(chart, bad, good);
        }
        expect(failed.error).toBeDefined();
        const errors = failed.diagnostics.filter(d => d.severity === "error" && d.urn?.endsWith("::shop-install"));
        expect(errors).toHaveLength(1);
        const message = errors[0].message;
        expect(message).toContain("kaptain: install: error: failed during step 'helmfile apply'");
        expect(message).toContain("e2e-broken-chart");
        // The command, not the script: no helper of the 16 KB script in the error, which
        // holds the step, helmfile's error and where the rest of the output is.
        expect(message).toMatch(
            /^exit status 1: running "exec bash -c \\"\$KAPTAIN_SCRIPT_CREATE\\" kaptain-install":\n/,
        );
        expect(message).not.toContain("kaptain_init");
        expect(message).toContain("set logging to 'all' to see it");
        expect(message.length, message).toBeLessThan(8 * 1024);
        expect(helmReleases(1, "shop").app).toBe(1);
        // The failed update is still to do.
        expect(pending.steps["shop-install"]).toBe("update");

        await stack.up();
        expect(changed(await stack.preview())).toEqual({});
    });

    it(SCENARIO.refresh, async () => {
        const refresh = await stack.refresh();
        expect(Object.keys(refresh.summary)).toEqual(["same"]);
        expect(changed(await stack.preview())).toEqual({});
    });

    it(SCENARIO.guard, async () => {
        const before = revisions();
        stack.writeConfig({ "kaptain:namespace": "shop-moved" });
        let moved: EngineRun;
        try {
            moved = await stack.up({ expectFailure: true });
        } finally {
            stack.writeConfig({ "kaptain:namespace": "shop" });
        }
        expect(moved.error).toBeDefined();
        const errors = moved.diagnostics.filter(
            d => d.severity === "error" && d.urn?.endsWith("::shop-namespace-guard"),
        );
        expect(errors).toHaveLength(1);
        // The real command provider handed the guard its previous stdout.
        expect(errors[0].message).toContain(
            "kaptain: namespace-guard: error: the phases deployed into namespace shop and would now deploy into shop-moved",
        );
        // Listed by the real helm, with the kubeconfig the phases get.
        const listed = /releases in namespace shop now: (.*)/.exec(errors[0].message)?.[1] ?? "";
        expect(listed.split(", ").sort()).toEqual(RELEASES);
        expect(moved.steps["shop-install"]).not.toBe("update");
        expect(revisions()).toEqual(before);
        expect(helmReleases(1, "shop-moved")).toEqual({});
        expect(changed(await stack.preview())).toEqual({});
    });

    it(SCENARIO.rename, async () => {
        const before = revisions();
        program.name = "shop-renamed";
        program.aliases = ["shop"];
        const aliased = await stack.preview();
        expect(changed(aliased)).toEqual({});
        await stack.up();
        expect(revisions()).toEqual(before);

        stack.writeConfig({ "kaptain:protect": true });
        await stack.up();
        try {
            program.name = "shop";
            program.aliases = [];
            const renamed = await stack.preview({ expectFailure: true });
            // Pulumi plans the new phases (which sync) and the delete of the old ones (whose
            // delete script is helmfile destroy)...
            expect(renamed.steps["shop-install"]).toBe("create");
            const deletes = Object.entries(renamed.steps).filter(([, op]) => op === "delete");
            expect(deletes.length).toBeGreaterThan(0);
            expect(deletes.every(([name]) => name.startsWith("shop-renamed-"))).toBe(true);
            // ...and protect refuses it: the preview fails on the protected phase.
            const refused = renamed.diagnostics.filter(
                d =>
                    d.severity === "error" &&
                    /cannot be deleted[\s\S]*protected|protected[\s\S]*cannot be deleted/.test(d.message),
            );
            expect(refused.length, JSON.stringify(renamed.diagnostics)).toBeGreaterThan(0);
            expect(renamed.error).toBeDefined();
            expect(revisions()).toEqual(before);
        } finally {
            // Back to the deployed name, unprotected.
            program.name = "shop-renamed";
            program.aliases = ["shop"];
            stack.writeConfig({ "kaptain:protect": false });
        }
        const unprotect = await stack.up();
        expect(Object.values(unprotect.steps).every(op => op === "same")).toBe(true);
        expect(revisions()).toEqual(before);
    });

    it(SCENARIO.phaseOff, async () => {
        stack.writeConfig({ "kaptain:phases": { config: true, install: true, provision: false } });
        const off = await stack.up();
        expect(off.steps["shop-renamed-provision"]).toBe("delete");
        expect(helmReleases(1, "shop").seed).toBeUndefined();
        expect(helmReleases(1, "shop").app).toBeDefined();

        const destroy = await stack.destroy();
        expect(destroy.summary.delete).toBeGreaterThan(0);
        // Reverse deploy order: install's releases go before config's, and the
        // provision-configs objects (created after config) between the two.
        const at = (name: string) => destroy.order.indexOf(name);
        expect(at("shop-renamed-install")).toBeGreaterThanOrEqual(0);
        expect(at("shop-renamed-install")).toBeLessThan(at("shop-renamed-provision-configs-namespace-secret"));
        expect(at("shop-renamed-provision-configs-namespace-secret")).toBeLessThan(at("shop-renamed-config"));
        for (const ns of NAMESPACES) {
            expect(helmReleases(1, ns)).toEqual({});
            expect(uid("secret", ns, ns)).toBeUndefined();
        }
        expect(await stack.resources()).toEqual({});
    });
});
