/**
 * kaptain's verbs through the real engine: a repository made a project by `kaptain init`,
 * the `kaptain` CLI run as a user runs it (stdin not a terminal, the Pulumi CLI on PATH,
 * the cluster of KUBECONFIG), one verb after another on one stack. Every assertion reads
 * the cluster (helm releases and revisions), the stack's state (`pulumi stack export`) or
 * the CLI's exit status.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { init } from "../../../sdk/init/init";
import { INIT_SOURCES, linkSdk } from "../../support/init-project";
import { CliRun, kaptainCli } from "../support/verbs";
import { commandPluginOrSkipLines } from "./plugins";
import { EngineWorld, kubeconfigCredentials, startWorld } from "./setup";

const SCENARIO = {
    config: "kaptain config on a new stack deploys the config releases only",
    install: "kaptain install deploys the install releases and upgrades no config release",
    diff: "kaptain diff shows the phase an edit re-runs, naming the release whose own file changed, and the release it upgrades; it changes nothing",
    refuse: "kaptain uninstall without a terminal and without --yes lists what it removes and removes nothing",
    uninstall: "kaptain uninstall --yes removes the install releases only; kaptain config then leaves them removed",
    provision:
        "kaptain provision refuses a phase the stack file leaves off, then deploys it once turned on, install still removed",
    up: "kaptain up deploys what the stack file says: install back, the edit applied to its release only",
    upRemoves: "kaptain up asks before it removes a phase the stack file turns off, and refuses without a terminal",
    failure: "a failed deploy exits with the Pulumi CLI's status and names the phase",
    destroy: "kaptain destroy --yes removes every release and empties the state",
    phasesInCode: "kaptain uninstall on a program that sets its phases in code says so, and removes nothing",
    secrets: "nothing the CLI printed holds a kubeconfig credential or a secret.yaml value",
} as const;

const hasCommandPlugin = commandPluginOrSkipLines(Object.values(SCENARIO));

let world: EngineWorld;
let env: Record<string, string>;
let repo: string;

/** Everything the CLI printed, all runs together. */
let printed = "";

async function kaptain(...args: string[]): Promise<CliRun> {
    const run = await kaptainCli(args, repo, env);
    printed += run.stdout + run.stderr;
    return run;
}

/** The Pulumi CLI in the project, on the stack. */
function pulumi(...args: string[]): string {
    return execFileSync("pulumi", [...args, "--stack", "shop"], {
        cwd: repo,
        env: { ...process.env, ...env },
        encoding: "utf8",
        // A stack export holds every phase's scripts, in inputs and outputs: over 1 MiB.
        maxBuffer: 256 * 1024 * 1024,
    });
}

function expectSuccess(run: CliRun): void {
    expect(run.status, `${run.stdout.slice(-4000)}\n${run.stderr}`).toBe(0);
}

function revisions(): Record<string, number> {
    const list = JSON.parse(world.helm(world.clusters[0], "list", "-n", "shop", "-o", "json")) as {
        name: string;
        revision: string;
    }[];
    return Object.fromEntries(list.map(r => [r.name, Number(r.revision)]));
}

/** The phases in the stack's state. */
function phasesInState(): string[] {
    const exported = JSON.parse(pulumi("stack", "export")) as {
        deployment: { resources?: { urn: string; type: string }[] };
    };
    return (
        (exported.deployment.resources ?? [])
            .filter(r => r.type === "command:local:Command")
            .map(r => r.urn.split("::").pop()!.replace("shop-platform-", ""))
            // The namespace guard is no phase.
            .filter(name => name !== "namespace-guard")
    );
}

function edit(file: string, from: string, to: string): void {
    const abs = path.join(repo, file);
    const text = fs.readFileSync(abs, "utf8");
    expect(text).toContain(from);
    fs.writeFileSync(abs, text.replace(from, to));
}

describe.skipIf(!hasCommandPlugin)("kaptain's verbs through the engine", () => {
    beforeAll(async () => {
        world = await startWorld(1);
        // The ambient KUBECONFIG points nowhere: the stack's own, a secret, is the cluster.
        env = { ...world.engine.env, PULUMI_BACKEND_URL: world.engine.backendUrl };
        repo = path.join(world.engine.root, "repos", "shop-platform");
        fs.cpSync(INIT_SOURCES.chart, repo, { recursive: true });
        init({ directory: repo });
        linkSdk(repo);
        pulumi("stack", "init");
        pulumi(
            "config",
            "set",
            "--secret",
            "kaptain:kubeconfig",
            fs.readFileSync(world.clusters[0].kubeconfig, "utf8"),
        );
    }, 40 * 60_000);

    afterAll(async () => {
        await world?.stop();
    }, 120_000);

    it(SCENARIO.config, async () => {
        expectSuccess(await kaptain("config", "shop"));
        expect(revisions()).toEqual({ "provision-configs": 1 });
        expect(phasesInState()).toEqual(["config"]);
    });

    it(SCENARIO.install, async () => {
        const run = await kaptain("install", "shop");
        expectSuccess(run);
        expect(revisions()).toEqual({ "provision-configs": 1, app: 1 });
        expect(phasesInState()).toEqual(["config", "install"]);
    });

    it(SCENARIO.diff, async () => {
        edit("configs/app/values.yaml", "hello", "bonjour");
        const before = revisions();
        const run = await kaptain("diff", "shop");
        expectSuccess(run);
        expect(run.stdout).toMatch(/~ command:local:Command: \(update\)/);
        // configs/app/values.yaml is app's alone (helmfile build says so): only its phase.
        expect(run.stdout).toMatch(/~ KAPTAIN_RELEASE_app: \[secret\] => \[secret\]/);
        expect(run.stdout).not.toContain("KAPTAIN_INPUT_configs_app");
        // The release lines: helmfile's diff of each phase against the cluster.
        expect(run.stdout).toMatch(
            /Releases each phase would change \(helmfile diff against the cluster\):\n {2}config: no release would change\n {2}install: 1 release would change\n {4}~ app {2}upgraded: 1 changed\n/,
        );
        expect(revisions()).toEqual(before);
    });

    it(SCENARIO.refuse, async () => {
        const run = await kaptain("uninstall", "shop");
        expect(run.status).toBe(2);
        expect(run.stderr).toContain(
            "- shop-platform-install (command:local:Command, delete): its delete runs helmfile destroy of the releases labelled action=install",
        );
        expect(run.stderr).toContain(
            "kaptain uninstall shop: refusing to remove without confirmation: stdin is not a terminal. Run again with --yes to remove them",
        );
        expect(revisions().app).toBe(1);
        expect(phasesInState()).toEqual(["config", "install"]);
    });

    it(SCENARIO.uninstall, async () => {
        expectSuccess(await kaptain("uninstall", "shop", "--yes"));
        expect(revisions()).toEqual({ "provision-configs": 1 });
        expect(phasesInState()).toEqual(["config"]);
        // No flip-flop: the stack file still turns install on, but only install and up deploy it.
        expectSuccess(await kaptain("config", "shop"));
        expect(revisions()).toEqual({ "provision-configs": 1 });
        expect(phasesInState()).toEqual(["config"]);
    });

    it(SCENARIO.provision, async () => {
        const refused = await kaptain("provision", "shop");
        expect(refused.status).toBe(2);
        expect(refused.stderr).toContain("Pulumi.shop.yaml leaves the provision phase off");
        expect(revisions()).toEqual({ "provision-configs": 1 });

        pulumi("config", "set", "--path", "kaptain:phases.provision", "true");
        expectSuccess(await kaptain("provision", "shop"));
        expect(revisions()).toEqual({ "provision-configs": 1, seed: 1 });
        expect(phasesInState()).toEqual(["config", "provision"]);
    });

    it(SCENARIO.up, async () => {
        expectSuccess(await kaptain("up", "shop"));
        expect(revisions()).toEqual({ "provision-configs": 1, app: 1, seed: 1 });
        expect(phasesInState().sort()).toEqual(["config", "install", "provision"]);
        const configMap = JSON.parse(
            world.kubectl(world.clusters[0], "get", "configmap", "app", "-n", "shop", "-o", "json"),
        ) as { data: Record<string, string> };
        expect(configMap.data.greeting).toBe("bonjour");
    });

    it(SCENARIO.upRemoves, async () => {
        const set = (value: string) => pulumi("config", "set", "--path", "kaptain:phases.provision", value);
        set("false");
        try {
            const run = await kaptain("up", "shop");
            expect(run.status).toBe(2);
            expect(run.stderr).toContain(
                "- shop-platform-provision (command:local:Command, delete): its delete runs helmfile destroy of the releases labelled action=provision",
            );
        } finally {
            set("true");
        }
        expect(revisions().seed).toBe(1);
        expect(phasesInState().sort()).toEqual(["config", "install", "provision"]);
    });

    it(SCENARIO.failure, async () => {
        const chart = "charts/app/templates/configmap.yaml";
        edit(chart, "greeting: {{ .Values.greeting | quote }}", '{{ fail "verbs-broken-chart" }}');
        let run: CliRun;
        try {
            run = await kaptain("install", "shop");
        } finally {
            edit(chart, '{{ fail "verbs-broken-chart" }}', "greeting: {{ .Values.greeting | quote }}");
        }
        // The Pulumi CLI's status for a failed update (its taxonomy: 1, a failure).
        expect(run.status).toBe(1);
        expect(run.stderr).toContain("kaptain install shop: pulumi failed (exit status 1); its errors are above");
        expect(run.stdout).toContain("kaptain: install: error: failed during step 'helmfile apply'");
        expect(revisions().app).toBe(1);
    });

    it(SCENARIO.destroy, async () => {
        const refused = await kaptain("destroy", "shop");
        expect(refused.status).toBe(2);
        expect(refused.stderr).toContain("- shop-platform-config (command:local:Command, delete)");
        expect(revisions()).toEqual({ "provision-configs": 1, app: 1, seed: 1 });

        expectSuccess(await kaptain("destroy", "shop", "--yes"));
        expect(revisions()).toEqual({});
        expect(phasesInState()).toEqual([]);
    });

    it(SCENARIO.phasesInCode, async () => {
        const program = path.join(repo, "index.ts");
        fs.writeFileSync(
            program,
            fs
                .readFileSync(program, "utf8")
                .replace(
                    "infrastructureArgsFromConfig())",
                    "{ ...infrastructureArgsFromConfig(), phases: { config: true, install: true } })",
                ),
        );
        expectSuccess(await kaptain("install", "shop"));
        const run = await kaptain("uninstall", "shop", "--yes");
        expect(run.status).toBe(2);
        expect(run.stderr).toContain(
            "kaptain uninstall shop: the program still registers the install phase. The verbs work on programs that " +
                "build their Infrastructure from stack config (infrastructureArgsFromConfig(), as kaptain init writes index.ts)",
        );
        expect(revisions().app).toBe(1);
        expectSuccess(await kaptain("destroy", "shop", "--yes"));
    });

    it(SCENARIO.secrets, () => {
        expect(printed).toContain("kaptain destroy shop: done");
        for (const secret of [...kubeconfigCredentials(world.clusters[0].kubeconfig), "adopt-db-password-0003"]) {
            expect(printed).not.toContain(secret);
        }
    });
});
