// npm run bench:live -- [--runs 3]
//
// What kaptain's diff costs and what the apply strategy saves, against a real loopback
// cluster (the e2e toolchain: first run builds it), on the e2e fixture repository (25
// releases, 22 of them install releases):
//   - plain `helmfile diff` of the install releases, next to the install phase's diff
//     action (hooks in dry run, make-config, the same diff) and to `kaptain synth --live`
//     (the program, then the diff action of all three phases);
//   - the helm upgrades a one-release edit costs with `apply`, next to kaptain's `sync`;
//   - `pulumi preview` through the real engine with `liveDiff` on and off, next to a plain
//     `helmfile diff` of the same (all) releases. The last line, `preview/helmfile-diff=`,
//     is the preview with live diff over that plain diff, from one run.
// Prints one line per figure. Not part of npm test.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { median, timed } from "./measure";
import { startCluster } from "../e2e/cluster/cluster";
import { REPO_ROOT, tool, toolchain, toolEnvironment } from "../e2e/support/tools";
import { captured, commandOf, runProgram } from "../support/program";
import { Engine } from "../e2e/engine/harness";
import { missingCommandPluginLine, pluginBinaries } from "../e2e/engine/plugins";
import { runCaptured } from "../support/run-script";

const { values } = parseArgs({ options: { runs: { type: "string", default: "3" } } });
const runs = Number(values.runs);

async function main(): Promise<void> {
    const tools = toolchain();
    // The program runs in this process, and ProvisionConfigs renders its values with the helm on PATH.
    process.env.PATH = `${tools.binDir}${path.delimiter}${process.env.PATH ?? ""}`;
    const env = toolEnvironment(tools);
    const cluster = await startCluster({ binDir: tools.binDir });
    try {
        const repo = path.join(env.dir, "repo");
        fs.cpSync(path.join(REPO_ROOT, "test/e2e/fixture"), repo, { recursive: true });
        const remote = path.join(env.dir, "remote");
        const record = path.join(env.dir, "record");
        fs.mkdirSync(record);
        const environment = { E2E_RECORD: record, RCLONE_CONFIG_KAPTAIN_REMOTE: `store:${remote}` };
        const engine = await runProgram(async () => {
            const { Infrastructure } = await import("../../sdk");
            const args = { namespace: "shop", workingDirectory: repo, kubeconfig: cluster.kubeconfig, environment };
            new Infrastructure("shop", { ...args, phases: { provision: true } });
            new Infrastructure("kaptain", { ...args, helmfile: { strategy: "sync" } });
        });
        const scriptEnv = { ...env.env, KUBECONFIG: cluster.kubeconfig };
        const phase = (name: string) => captured(commandOf(engine, name));
        const runPhase = (name: string, which: "create" | "delete" = "create") => {
            const run = runCaptured(phase(name), which, {
                programDirectory: process.cwd(),
                stubHelmfile: false,
                env: scriptEnv,
            });
            if (run.status !== 0) throw new Error(`${name} ${which} failed:\n${run.stderr}`);
        };
        for (const name of ["shop-config", "shop-install", "shop-provision"]) runPhase(name);

        const namespaceDirectory = path.join(repo, "namespaces/shop");
        const plainDiff = () => {
            const run = spawnSync(
                "helmfile",
                [
                    "--file",
                    "../../helmfile.yaml.gotmpl",
                    "--selector",
                    "action=install",
                    "diff",
                    "--skip-needs",
                    "--concurrency",
                    "4",
                ],
                {
                    cwd: namespaceDirectory,
                    env: {
                        ...process.env,
                        ...scriptEnv,
                        KAPTAIN_NAMESPACE: "shop",
                        KAPTAIN_NAMESPACE_DIRECTORY: namespaceDirectory,
                    },
                },
            );
            if (run.status !== 0) throw new Error(`helmfile diff failed: ${run.stderr}`);
        };
        const diffAction = () => {
            const outputs = engine.outputs.get(engine.find("kaptain:index:Infrastructure", "shop")!.urn)!;
            const script = (outputs.diffScripts as Record<string, string>).install;
            const cmd = phase("shop-install");
            const run = spawnSync("bash", ["-c", script], {
                cwd: path.resolve(process.cwd(), cmd.dir),
                env: { ...process.env, ...scriptEnv, ...cmd.environment },
            });
            if (run.status !== 0) throw new Error(`diff action failed: ${run.stderr}`);
        };
        const project = path.join(env.dir, "project");
        fs.mkdirSync(project);
        fs.writeFileSync(path.join(project, "Pulumi.yaml"), "name: shop\nruntime: nodejs\n");
        fs.writeFileSync(
            path.join(project, "index.ts"),
            `import { Infrastructure, infrastructureArgsFromConfig } from ${JSON.stringify(path.join(REPO_ROOT, "sdk"))};\n` +
                'new Infrastructure("shop", infrastructureArgsFromConfig());\n',
        );
        fs.writeFileSync(
            path.join(project, "Pulumi.bench.yaml"),
            `config:\n  kaptain:namespace: shop\n  kaptain:workingDirectory: ${JSON.stringify(repo)}\n` +
                `  kaptain:kubeconfig: ${JSON.stringify(cluster.kubeconfig)}\n  kaptain:phases: {provision: true}\n` +
                `  kaptain:environment: ${JSON.stringify(environment)}\n`,
        );
        const synthLive = () => {
            const run = spawnSync(
                process.execPath,
                [
                    path.join(REPO_ROOT, "sdk/dev-cli.cjs"),
                    "synth",
                    "--project",
                    project,
                    "--stack",
                    "bench",
                    "--live",
                    "--kubeconfig",
                    cluster.kubeconfig,
                ],
                { env: { ...process.env, ...scriptEnv } },
            );
            if (run.status !== 0) throw new Error(`synth --live failed: ${run.stderr}`);
        };

        const plain = median(Array.from({ length: runs }, () => timed(plainDiff)));
        const action = median(Array.from({ length: runs }, () => timed(diffAction)));
        const live = median(Array.from({ length: runs }, () => timed(synthLive)));

        const upgradesOf = (name: string) => {
            const revisions = () =>
                Object.fromEntries(
                    (
                        JSON.parse(
                            tool(env, "helm", ["--kubeconfig", cluster.kubeconfig, "list", "-n", "shop", "-o", "json"]),
                        ) as Array<{
                            name: string;
                            revision: string;
                        }>
                    ).map(r => [r.name, r.revision]),
                );
            const before = revisions();
            fs.appendFileSync(path.join(repo, "configs/fleet/5.yaml"), `# ${name} ${Date.now()}\nvalue: "5-${name}"\n`);
            runPhase(name);
            const after = revisions();
            return Object.keys(after).filter(r => after[r] !== before[r]).length;
        };
        const applyUpgrades = upgradesOf("shop-install");
        const syncUpgrades = upgradesOf("kaptain-install");

        const preview = await previewFigures(tools, repo, cluster.kubeconfig, environment, scriptEnv);

        const line = (label: string, value: string) => console.log(`${label.padEnd(58)} ${value}`);
        line("releases in the repository (install phase)", "25 (22)");
        line("plain helmfile diff, install releases (median)", `${plain.toFixed(0)} ms`);
        line(
            "install phase's diff action (hooks dry run + same diff)",
            `${action.toFixed(0)} ms (${(action / plain).toFixed(2)} x)`,
        );
        line("kaptain synth --live, all three phases", `${live.toFixed(0)} ms (${(live / plain).toFixed(2)} x)`);
        line("helm upgrades for a one-release edit, apply (default)", String(applyUpgrades));
        line("helm upgrades for a one-release edit, sync (kaptain)", String(syncUpgrades));
        if (preview === undefined) {
            console.log(missingCommandPluginLine("bench:live pulumi preview"));
            console.log("preview/helmfile-diff=skipped");
            return;
        }
        line("plain helmfile diff, all 25 releases (one run)", `${preview.plainAll.toFixed(0)} ms`);
        line("pulumi preview, liveDiff off (one run)", `${preview.off.toFixed(0)} ms`);
        line(
            "pulumi preview, liveDiff on: one diff for 3 phases (one run)",
            `${preview.on.toFixed(0)} ms (${(preview.on / preview.plainAll).toFixed(2)} x)`,
        );
        console.log(`preview/helmfile-diff=${(preview.on / preview.plainAll).toFixed(2)}`);
    } finally {
        await cluster.stop();
        env.remove();
    }
}

/**
 * `pulumi preview` of the shop namespace through the real engine (inline program, the
 * toolchain's CLI, the command plugin the machine has), with `liveDiff` off and on, after
 * an `up` that matches the cluster, and a plain `helmfile diff` of all the namespace's
 * releases, which is what the three phases' diffs compare. One run each. Undefined when
 * the command plugin is missing.
 */
async function previewFigures(
    tools: ReturnType<typeof toolchain>,
    repo: string,
    kubeconfig: string,
    environment: Record<string, string>,
    scriptEnv: Record<string, string>,
): Promise<{ plainAll: number; off: number; on: number } | undefined> {
    const plugins = pluginBinaries(tools.binDir);
    if (plugins.command === undefined) {
        return undefined;
    }
    const engine = new Engine({ binDir: tools.binDir, helmPlugins: tools.helmPlugins, plugins });
    try {
        await engine.start();
        const stack = await engine.stack(
            "bench",
            async () => {
                const { Infrastructure, infrastructureArgsFromConfig } = await import("../../sdk");
                new Infrastructure("shop", infrastructureArgsFromConfig());
            },
            {
                "kaptain:namespace": "shop",
                "kaptain:workingDirectory": repo,
                "kaptain:phases": { config: true, install: true, provision: true },
                "kaptain:environment": environment,
                "kaptain:kubeconfig": kubeconfig,
            },
        );
        await stack.up();
        const t0 = performance.now();
        await stack.preview();
        const off = performance.now() - t0;
        stack.writeConfig({ "kaptain:liveDiff": true });
        const t1 = performance.now();
        await stack.preview();
        const on = performance.now() - t1;

        const namespaceDirectory = path.join(repo, "namespaces/shop");
        const plainAll = timed(() => {
            const run = spawnSync("helmfile", ["--file", "../../helmfile.yaml.gotmpl", "diff", "--concurrency", "4"], {
                cwd: namespaceDirectory,
                env: {
                    ...process.env,
                    ...scriptEnv,
                    KUBECONFIG: kubeconfig,
                    KAPTAIN_NAMESPACE: "shop",
                    KAPTAIN_NAMESPACE_DIRECTORY: namespaceDirectory,
                },
            });
            if (run.status !== 0) throw new Error(`helmfile diff failed: ${run.stderr}`);
        });
        return { plainAll, off, on };
    } finally {
        engine.remove();
    }
}

main().then(
    () => process.exit(0),
    err => {
        console.error(err);
        process.exit(1);
    },
);
