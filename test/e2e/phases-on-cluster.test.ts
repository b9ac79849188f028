/**
 * The phase scripts for real: the scripts the Infrastructure's Commands carry (built by
 * the real program under Pulumi's mocks), run the way the command provider runs them
 * (bash -c, the Command's dir, the process environment plus its environment), with the
 * real helmfile and helm, against real kube-apiservers on loopback. Every assertion reads
 * the cluster (kubectl, helm) or the files, not what a script printed.
 *
 * The ambient KUBECONFIG points at cluster A while the Infrastructure's kubeconfig is
 * cluster B's content: everything must land in B, nothing in A.
 *
 * What this suite cannot show is the Pulumi engine around the scripts (preview, no-op
 * updates, state): the command provider cannot be built here (see the README).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CapturedCommand, captured, commandOf, runProgram } from "../support/program";
import { runCaptured, ScriptRun, startCaptured } from "../support/run-script";
import { kaptain } from "../support/synth-project";
import { Cluster, startCluster } from "./cluster/cluster";
import { REPO_ROOT, tool, ToolEnvironment, toolEnvironment, toolchain } from "./support/tools";

const NAMESPACE = "shop";
const FLEET = Array.from({ length: 20 }, (_, i) => `fleet-${i}`);
const INSTALL_RELEASES = ["app", "web", ...FLEET];

let env: ToolEnvironment;
let clusterA: Cluster;
let clusterB: Cluster;
let repo: string;
let remote: string;
let record: string;
let phases: Record<"config" | "install" | "provision", CapturedCommand>;
/** The install phase with kaptain's strategy, `sync`: every release upgraded. */
let syncedInstall: CapturedCommand;
const programDirectory = process.cwd();

function kubectl(cluster: Cluster, ...args: string[]): string {
    return tool(env, "kubectl", ["--kubeconfig", cluster.kubeconfig, ...args]);
}

function exists(cluster: Cluster, ...args: string[]): boolean {
    try {
        kubectl(cluster, "get", ...args);
        return true;
    } catch {
        return false;
    }
}

function configMapData(cluster: Cluster, name: string): Record<string, string> {
    return (
        JSON.parse(kubectl(cluster, "get", "configmap", name, "-n", NAMESPACE, "-o", "json")) as {
            data: Record<string, string>;
        }
    ).data;
}

interface HelmRelease {
    name: string;
    revision: string;
    status: string;
}
function releases(cluster: Cluster): Record<string, HelmRelease> {
    const list = JSON.parse(
        tool(env, "helm", ["--kubeconfig", cluster.kubeconfig, "list", "-n", NAMESPACE, "-o", "json"]),
    ) as HelmRelease[];
    return Object.fromEntries(list.map(r => [r.name, r]));
}

function postHooks(): string[] {
    const file = path.join(record, "post-hooks");
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim().split("\n") : [];
}

/** Runs a phase's script as the command provider would, with cluster A ambient. */
function phase(name: keyof typeof phases, which: "create" | "delete"): ScriptRun {
    return runCaptured(phases[name], which, {
        programDirectory,
        stubHelmfile: false,
        env: { ...env.env, KUBECONFIG: clusterA.kubeconfig },
    });
}

function expectSucceeded(run: ScriptRun): void {
    expect(run.stderr, run.stderr).toContain("kaptain: ");
    expect(run.status, run.stderr).toBe(0);
}

function expectCleanedUp(): void {
    expect(fs.existsSync(path.join(repo, "namespaces", NAMESPACE, "provision-configs", ".kaptain"))).toBe(false);
    expect(fs.existsSync(path.join(repo, "namespaces", NAMESPACE, ".kaptain-lock"))).toBe(false);
    expect(fs.readdirSync(env.env.XDG_RUNTIME_DIR)).toEqual([]);
}

beforeAll(async () => {
    const tools = toolchain();
    env = toolEnvironment(tools);
    [clusterA, clusterB] = await Promise.all([
        startCluster({ binDir: tools.binDir }),
        startCluster({ binDir: tools.binDir }),
    ]);
    repo = path.join(env.dir, "repo");
    fs.cpSync(path.join(REPO_ROOT, "test/e2e/fixture"), repo, { recursive: true });
    remote = path.join(env.dir, "remote");
    record = path.join(env.dir, "record");
    fs.mkdirSync(remote);
    fs.mkdirSync(record);
    const kubeconfigB = fs.readFileSync(clusterB.kubeconfig, "utf8");
    const engine = await runProgram(async () => {
        const { Infrastructure } = await import("../../sdk");
        new Infrastructure("shop", {
            namespace: NAMESPACE,
            workingDirectory: repo,
            kubeconfig: kubeconfigB,
            phases: { config: true, install: true, provision: true },
            logging: "all",
            environment: { E2E_RECORD: record, RCLONE_CONFIG_KAPTAIN_REMOTE: `store:${remote}` },
        });
        new Infrastructure("kaptain-way", {
            namespace: NAMESPACE,
            workingDirectory: repo,
            kubeconfig: kubeconfigB,
            helmfile: { strategy: "sync" },
            environment: { E2E_RECORD: record, RCLONE_CONFIG_KAPTAIN_REMOTE: `store:${remote}` },
        });
    });
    syncedInstall = captured(commandOf(engine, "kaptain-way-install"));
    phases = {
        config: captured(commandOf(engine, "shop-config")),
        install: captured(commandOf(engine, "shop-install")),
        provision: captured(commandOf(engine, "shop-provision")),
    };
}, 40 * 60_000);

afterAll(async () => {
    await Promise.all([clusterA?.stop(), clusterB?.stop()]);
    env?.remove();
}, 120_000);

describe("the phase scripts against real clusters", () => {
    it("config, install and provision deploy every release into the kubeconfig's cluster", () => {
        for (const name of ["config", "install", "provision"] as const) {
            expectSucceeded(phase(name, "create"));
        }
        expect(exists(clusterB, "namespace", NAMESPACE)).toBe(true); // created by helmfile in the config phase
        const deployed = releases(clusterB);
        expect(Object.keys(deployed).sort()).toEqual(["embedded-configs", "seed", ...INSTALL_RELEASES].sort());
        for (const r of Object.values(deployed)) {
            expect(r.status).toBe("deployed");
        }
        expect(configMapData(clusterB, "app")).toEqual({ greeting: "hello" });
        // The chart rendered what make-config embedded into provision-configs/.kaptain.
        expect(configMapData(clusterB, "embedded-app")).toEqual({ "app.conf": "mode = first\n" });
        expect(fs.existsSync(path.join(remote, NAMESPACE, "app-config.tar.gz"))).toBe(true);
        expect(postHooks()).toEqual(["post-config", "post-install", "post-provision"]);
        expectCleanedUp();
    });

    it("never touched cluster A, the ambient KUBECONFIG", () => {
        expect(exists(clusterA, "namespace", NAMESPACE)).toBe(false);
        expect(
            JSON.parse(tool(env, "helm", ["--kubeconfig", clusterA.kubeconfig, "list", "-A", "-o", "json"])),
        ).toEqual([]);
    });

    it("an edited config file reaches the cluster on the phase's next run", () => {
        fs.writeFileSync(path.join(repo, "configs/app/app.conf"), "mode = second\n");
        expectSucceeded(phase("config", "create"));
        expect(configMapData(clusterB, "embedded-app")).toEqual({ "app.conf": "mode = second\n" });
    });

    it("editing one release's values upgrades exactly that release; kaptain's sync upgrades all of them", () => {
        const before = releases(clusterB);
        fs.writeFileSync(path.join(repo, "configs/fleet/7.yaml"), 'value: "7-two"\n');
        expectSucceeded(phase("install", "create"));
        const afterApply = releases(clusterB);
        const upgraded = (a: Record<string, HelmRelease>, b: Record<string, HelmRelease>) =>
            Object.keys(b)
                .filter(name => b[name].revision !== a[name]?.revision)
                .sort();
        expect(upgraded(before, afterApply)).toEqual(["fleet-7"]);
        expect(configMapData(clusterB, "fleet-7")).toEqual({ value: "7-two" });

        // The same phase with kaptain's strategy: every install release gets a new revision.
        const sync = runCaptured(syncedInstall, "create", {
            programDirectory,
            stubHelmfile: false,
            env: { ...env.env, KUBECONFIG: clusterA.kubeconfig },
        });
        expectSucceeded(sync);
        expect(upgraded(afterApply, releases(clusterB))).toEqual([...INSTALL_RELEASES].sort());
    });

    it("synth --live lists what would change and drift, changes nothing, and the next apply corrects the drift", () => {
        // A Pulumi project around the same repository, for kaptain synth.
        const project = path.join(env.dir, "project");
        fs.mkdirSync(project);
        fs.writeFileSync(path.join(project, "Pulumi.yaml"), "name: shop\nruntime: nodejs\n");
        fs.writeFileSync(
            path.join(project, "index.ts"),
            `import { Infrastructure, infrastructureArgsFromConfig } from ${JSON.stringify(path.join(REPO_ROOT, "sdk"))};\n` +
                'new Infrastructure("shop", infrastructureArgsFromConfig());\n',
        );
        fs.writeFileSync(
            path.join(project, "Pulumi.e2e.yaml"),
            [
                "config:",
                `  kaptain:namespace: ${NAMESPACE}`,
                `  kaptain:workingDirectory: ${JSON.stringify(repo)}`,
                `  kaptain:kubeconfig: ${JSON.stringify(clusterB.kubeconfig)}`,
                "  kaptain:phases: {config: true, install: true, provision: true}",
                `  kaptain:environment: {E2E_RECORD: ${JSON.stringify(record)}, RCLONE_CONFIG_KAPTAIN_REMOTE: ${JSON.stringify(`store:${remote}`)}}`,
                "",
            ].join("\n"),
        );
        const live = () => {
            const run = kaptain(
                ["synth", "--project", project, "--stack", "e2e", "--live", "--kubeconfig", clusterB.kubeconfig],
                project,
                { ...env.env, KUBECONFIG: clusterA.kubeconfig },
            );
            expect(run.status, run.stderr).toBe(0);
            return run.stdout;
        };
        const uploads = () =>
            fs.readdirSync(path.join(remote, NAMESPACE)).map(f => fs.statSync(path.join(remote, NAMESPACE, f)).mtimeMs);

        expect(live()).toMatch(
            /config: no release would change\n {2}install: no release would change\n {2}provision: no release would change/,
        );
        expect(fs.statSync(path.join(project, "out/e2e/live/install.diff")).mode & 0o777).toBe(0o600);

        // An edit in the repository, and an object deleted by hand.
        fs.writeFileSync(path.join(repo, "configs/fleet/3.yaml"), 'value: "3-two"\n');
        kubectl(clusterB, "delete", "configmap", "fleet-12", "-n", NAMESPACE);
        const revisions = releases(clusterB);
        const uploaded = uploads();
        const report = live();
        expect(report).toContain("  install: 2 releases would change\n");
        expect(report).toMatch(/~ fleet-3 +upgraded: 1 changed/);
        expect(report).toMatch(/~ fleet-12 +upgraded: 1 added/);
        // A preview changes nothing: no release upgraded, nothing uploaded by rclone_config.
        expect(releases(clusterB)).toEqual(revisions);
        expect(uploads()).toEqual(uploaded);

        // The edit is reverted; run again with the same inputs: what is left is drift.
        fs.writeFileSync(path.join(repo, "configs/fleet/3.yaml"), 'value: "3-one"\n');
        live();
        const drift = live();
        expect(drift).toContain(
            "  install: 1 release would change (drift: the phase's inputs are as at the previous synth)",
        );
        expect(drift).toMatch(/~ fleet-12 +upgraded: 1 added/);

        // The install phase's next run (apply) puts it back; then nothing differs.
        expectSucceeded(phase("install", "create"));
        expect(configMapData(clusterB, "fleet-12")).toEqual({ value: "12-one" });
        expect(live()).toContain("  install: no release would change");
    });

    it("a chart that fails to render fails the phase naming the step; no post hook; nothing left; the fix deploys", () => {
        const service = path.join(repo, "charts/web/templates/service.yaml");
        const good = fs.readFileSync(service, "utf8");
        fs.appendFileSync(service, "  clusterIP: {{ .Values.missing.field }}\n");
        const before = postHooks().length;
        const failed = phase("install", "create");
        expect(failed.status).not.toBe(0);
        expect(failed.stderr).toContain("kaptain: install: error: failed during step 'helmfile apply'");
        expect(failed.stderr).toContain("nil pointer evaluating interface {}.field");
        expect(postHooks()).toHaveLength(before);
        expectCleanedUp();

        fs.writeFileSync(service, good);
        expectSucceeded(phase("install", "create"));
        expect(exists(clusterB, "service", "web", "-n", NAMESPACE)).toBe(true);
        expect(postHooks().at(-1)).toBe("post-install");
    });

    it("two phases started at once on one namespace directory both succeed, one after the other", async () => {
        const options = {
            programDirectory,
            stubHelmfile: false,
            // Whichever phase takes the lock first holds it over 2 s: the other waits, and says so.
            env: { ...env.env, KUBECONFIG: clusterA.kubeconfig, E2E_PRE_HOOK_SLEEP: "2" },
        };
        const [config, install] = await Promise.all([
            startCaptured(phases.config, "create", options),
            startCaptured(phases.install, "create", options),
        ]);
        expect(config.status, config.stderr).toBe(0);
        expect(install.status, install.stderr).toBe(0);
        expect(`${config.stderr}${install.stderr}`).toMatch(
            /waiting for the repository's lock \(up to 1800 s\), held by (config|install) of namespace /,
        );
        expect(configMapData(clusterB, "embedded-app")).toEqual({ "app.conf": "mode = second\n" });
        expectCleanedUp();
    });

    it("the delete scripts undo the phases in reverse order: kaptain's unprovision, uninstall, then the config releases", () => {
        expectSucceeded(phase("provision", "delete"));
        expect(Object.keys(releases(clusterB)).sort()).toEqual(["embedded-configs", ...INSTALL_RELEASES].sort());
        expect(exists(clusterB, "configmap", "seed", "-n", NAMESPACE)).toBe(false);
        expectSucceeded(phase("install", "delete"));
        expect(Object.keys(releases(clusterB))).toEqual(["embedded-configs"]);
        expectSucceeded(phase("config", "delete"));
        expect(releases(clusterB)).toEqual({});
        expect(postHooks().slice(-3)).toEqual(["post-unprovision", "post-uninstall", "post-unconfig"]);
        expectCleanedUp();
    });
});
