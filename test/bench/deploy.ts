// npm run bench:deploy -- [--runs 1] [--releases 300] [--verbose]
//
// What a deploy costs through the real Pulumi engine, next to kaptain on a twin cluster
// (issue 17). The e2e toolchain and engine harness (test/e2e/engine): the pinned Pulumi CLI
// through the Automation API with inline programs, a private PULUMI_HOME, a file:// backend,
// the command plugin from where the e2e suite finds it; two loopback clusters, A for
// pulumi-kaptain and B for kaptain. Prints one `name=value` line per figure:
//
//   1. the engine's floor: `up` of an empty program on a fresh stack, then again;
//   2. the e2e fixture (namespaces shop and depot, 24 releases each, a chart with a file://
//      dependency) deployed on both clusters, all three phases: A by one `up` of a program
//      with one Infrastructure per namespace, B the kaptain way (below);
//   3. on the fixture, `noop` (nothing changed) and `edit` (configs/fleet/3.yaml, which
//      fleet-3 of both namespaces reads): `up` on A, kaptain's `install` of the namespaces
//      that read what changed on B, each with its wall time and its helm upgrades (the sum of
//      every release's revision increase), and where the `up`'s time went (engine events);
//   4. `noop` on a generated repository of `--releases` releases in one namespace (0 skips it).
// The last two lines are `noop/kaptain=<ratio>` and `edit/kaptain=<ratio>` on the fixture:
// pulumi-kaptain's time over kaptain's. One run each by default; `--runs N` repeats each
// measurement and prints medians (and every run). Wall times on a shared machine are noisy.
//
// The kaptain way: the phase scripts pulumi-kaptain generates, with `helmfile.strategy:
// "sync"`, run as the command provider runs them (bash, the repository as working
// directory, the Command's environment), as bench:live runs its `kaptain` Infrastructure.
// They do what kaptain's actions do, in its order: the `pre-<action>` hook, make-config
// (embed_config, rclone_config), `helmfile sync` with the action's selectors from the
// namespace folder (KAPTAIN_NAMESPACE, KAPTAIN_NAMESPACE_DIRECTORY exported as kaptain_init
// does), then `post-<action>`; plus pulumi-kaptain's own checks and lock around them (tens
// of ms a phase on an idle machine: see `npm run bench`), which kaptain does not pay. The deploy runs the
// three phases (config; install and provision with --skip-needs). kaptain's `install`, what
// `noop` and `edit` compare with, is one script: pre-install, make-config, `helmfile
// --selector action=config --selector action=install sync`, post-install (README, "Where
// pulumi-kaptain differs"): an install phase with both selectors.
//
// Not part of npm test. Nothing is left behind: the clusters are stopped and the engine's
// folder (repositories, backend, PULUMI_HOME, every process running in it) reaped, on
// failure too, and by the watchdogs should this process be killed.
import "../e2e/support/helm-on-path";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import type { InfrastructureArgs } from "../../sdk";
import { Cluster } from "../e2e/cluster/cluster";
import { EngineStack } from "../e2e/engine/harness";
import { findPluginBinary, missingCommandPluginLine } from "../e2e/engine/plugins";
import { EngineWorld, startWorld } from "../e2e/engine/setup";
import { REPO_ROOT } from "../e2e/support/tools";
import { CapturedCommand } from "../support/program";
import { invocation } from "../support/run-script";
import { generateRepository } from "./generate";
import { median } from "./measure";
import type { ScriptsRequest } from "./kaptain-scripts";

const { values } = parseArgs({
    options: {
        runs: { type: "string", default: "1" },
        releases: { type: "string", default: "300" },
        // Also a line per resource of each `up` broken down: when its step began and ended.
        verbose: { type: "boolean", default: false },
    },
});
const RUNS = Number(values.runs);
const GENERATED_RELEASES = Number(values.releases);
if (!Number.isInteger(RUNS) || RUNS < 1 || !Number.isInteger(GENERATED_RELEASES) || GENERATED_RELEASES < 0) {
    throw new Error("--runs must be a whole number ≥ 1 and --releases one ≥ 0");
}

const NAMESPACES = ["shop", "depot"] as const;
const PHASES = ["config", "install", "provision"] as const;
/** The fixture file one fleet release reads (`configs/fleet/{{ $i }}.yaml`), in both namespaces. */
const EDITED = "configs/fleet/3.yaml";
/** A kaptain script that runs longer than this is stopped, and the bench fails naming it. */
const SCRIPT_TIMEOUT_MS = 30 * 60_000;

function line(name: string, value: string | number): void {
    console.log(`${name}=${value}`);
}

/** Milliseconds since `start`, whole. */
function since(start: number): number {
    return Math.round(performance.now() - start);
}

/** A figure of one or more runs: the median, and with several runs every run. */
function figure(name: string, runs: number[], unit = "ms"): number {
    const m = median(runs);
    line(name, `${Math.round(m)} ${unit}`);
    if (runs.length > 1) {
        line(`${name}/runs`, runs.map(r => Math.round(r)).join(","));
    }
    return m;
}

/** The sum of the helm revisions of every release in `namespaces` (helm list, all states). */
function revisionSum(world: EngineWorld, cluster: Cluster, namespaces: readonly string[]): number {
    const list = JSON.parse(world.helm(cluster, "list", "--all-namespaces", "--all", "--max", "0", "-o", "json")) as {
        namespace: string;
        revision: string;
    }[];
    return list.filter(r => namespaces.includes(r.namespace)).reduce((sum, r) => sum + Number(r.revision), 0);
}

function releaseCount(world: EngineWorld, cluster: Cluster, namespaces: readonly string[]): number {
    const list = JSON.parse(world.helm(cluster, "list", "--all-namespaces", "--all", "--max", "0", "-o", "json")) as {
        namespace: string;
    }[];
    return list.filter(r => namespaces.includes(r.namespace)).length;
}

/**
 * The phase Commands of the kaptain twins, generated by pulumi-kaptain's own program under
 * Pulumi's mocks in a child process (kaptain-scripts.ts), by Command name.
 */
function kaptainCommands(world: EngineWorld, request: ScriptsRequest): Record<string, CapturedCommand> {
    const dir = fs.mkdtempSync(path.join(world.engine.root, "kaptain-scripts-"));
    const requestFile = path.join(dir, "request.json");
    const outFile = path.join(dir, "commands.json");
    fs.writeFileSync(requestFile, JSON.stringify(request));
    const run = spawnSync(
        process.execPath,
        [require.resolve("tsx/cli"), path.join(__dirname, "kaptain-scripts.ts"), requestFile, outFile],
        { cwd: REPO_ROOT, encoding: "utf8", env: { ...process.env, ...world.engine.env } },
    );
    if (run.status !== 0) {
        throw new Error(`generating the kaptain scripts failed:\n${run.stderr}`);
    }
    return JSON.parse(fs.readFileSync(outFile, "utf8")) as Record<string, CapturedCommand>;
}

/** Runs kaptain scripts one after the other, as the command provider would; their wall time, in all and each. */
function runKaptain(
    world: EngineWorld,
    commands: Record<string, CapturedCommand>,
    names: string[],
): { ms: number; each: string } {
    const start = performance.now();
    const each: string[] = [];
    for (const name of names) {
        const began = performance.now();
        const cmd = commands[name];
        if (cmd === undefined) {
            throw new Error(`no kaptain script ${name}; there are ${Object.keys(commands).join(", ")}`);
        }
        const { bin, args, cwd, env, stdin } = invocation(cmd, "create", {
            programDirectory: REPO_ROOT,
            stubHelmfile: false,
            env: world.engine.env,
        });
        const run = spawnSync(bin, args, {
            cwd,
            env,
            input: stdin,
            encoding: "utf8",
            timeout: SCRIPT_TIMEOUT_MS,
            maxBuffer: 256 * 1024 * 1024,
        });
        if (run.error !== undefined || run.status !== 0) {
            throw new Error(
                `kaptain script ${name} failed (${run.error?.message ?? `exit ${run.status}`}):\n${run.stderr.slice(-4000)}`,
            );
        }
        each.push(`${name} ${since(began)}`);
    }
    return { ms: since(start), each: each.join(", ") };
}

/** When the inline program was entered and when it returned, set by the programs below. */
const programMarks: { entered?: number; returned?: number } = {};

function marked(program: () => Promise<void>): () => Promise<void> {
    return async () => {
        programMarks.entered = performance.now();
        await program();
        programMarks.returned = performance.now();
    };
}

/** One phase Command that ran in an `up`. */
interface PhaseRun {
    readonly name: string;
    /** The engine's step: create, update, delete. */
    readonly op: string;
    /** From its pre-event to its outputs event. */
    readonly ms: number;
    /**
     * Its own steps (the `kaptain: <action>: <step>` lines it printed, as they arrived),
     * each with its milliseconds; the first, `start`, is the checks and the wait for the
     * repository's lock.
     */
    readonly parts: { step: string; ms: number }[];
}

/** One `up`: its wall time, and where the time went, read from the engine's events as they arrived. */
interface TimedUp {
    readonly ms: number;
    /** The phase Commands whose step was not `same`. */
    readonly phases: PhaseRun[];
    /** How many resources had a step other than `same`. */
    readonly changed: number;
    /** Milliseconds from the call: the program entered, returned, the first event, the first and last resource step, the summary. */
    readonly at: Record<string, number | undefined>;
    /** Each Pulumi CLI process the Automation API ran for the `up`: its subcommand and milliseconds. */
    readonly cli: { command: string; ms: number }[];
    /** Every resource: its step and when (ms from the call) its pre-event and outputs event arrived. */
    readonly resources: { name: string; op: string; began: number; ended?: number }[];
}

type CliRun = (args: string[], ...rest: unknown[]) => Promise<unknown>;

/**
 * Times every CLI process `stack` runs while `body` runs: the `up` itself, and what the
 * Automation API runs after it (`stack output` twice, `stack history`).
 */
async function timingCli<T>(stack: EngineStack, body: () => Promise<T>): Promise<{ result: T; cli: TimedUp["cli"] }> {
    const command = stack.stack.workspace.pulumiCommand as unknown as { run: CliRun };
    const original = command.run;
    const cli: TimedUp["cli"] = [];
    command.run = async (args, ...rest) => {
        const start = performance.now();
        try {
            return await original.call(command, args, ...rest);
        } finally {
            cli.push({ command: args[0] === "stack" ? `stack ${args[1]}` : args[0], ms: since(start) });
        }
    };
    try {
        return { result: await body(), cli };
    } finally {
        command.run = original;
    }
}

const PHASE_URN = /command:local:Command::(.+)$/;
const STEP_LINE = /^kaptain: [^:]+: (.+)$/;

async function timedUp(stack: EngineStack): Promise<TimedUp> {
    delete programMarks.entered;
    delete programMarks.returned;
    const start = performance.now();
    const pre = new Map<string, { op: string; at: number; lines: { step: string; at: number }[] }>();
    const phases: PhaseRun[] = [];
    const resources: TimedUp["resources"] = [];
    const at: Record<string, number | undefined> = {};
    let changed = 0;
    const onEvent = (event: EngineEvent) => {
        const now = performance.now();
        at.firstEvent ??= now - start;
        if (event.resourcePreEvent !== undefined) {
            at.firstStep ??= now - start;
            const { urn, op } = event.resourcePreEvent.metadata;
            pre.set(urn, { op, at: now, lines: [] });
            resources.push({ name: urn.split("::").pop()!, op, began: Math.round(now - start) });
        }
        const diagnostic = event.diagnosticEvent;
        if (diagnostic?.urn !== undefined) {
            for (const text of diagnostic.message.split("\n")) {
                // The step's name, without what follows it (the lock holder, its process).
                const step = STEP_LINE.exec(text.trim())?.[1].split(/ \(|: /)[0];
                if (step !== undefined) {
                    pre.get(diagnostic.urn)?.lines.push({ step, at: now });
                }
            }
        }
        if (event.resOutputsEvent !== undefined) {
            at.lastOutputs = now - start;
            const { urn } = event.resOutputsEvent.metadata;
            const name = urn.split("::").pop()!;
            const resource = [...resources].reverse().find(r => r.name === name);
            if (resource !== undefined) {
                resource.ended = Math.round(now - start);
            }
            const began = pre.get(urn);
            if (began === undefined || began.op === "same") {
                return;
            }
            changed++;
            if (!PHASE_URN.test(urn)) {
                return;
            }
            const marks = [{ step: "start", at: began.at }, ...began.lines, { step: "end", at: now }];
            const parts = marks.slice(0, -1).map((m, i) => ({ step: m.step, ms: Math.round(marks[i + 1].at - m.at) }));
            phases.push({ name, op: began.op, ms: Math.round(now - began.at), parts });
        }
        if (event.summaryEvent !== undefined) {
            at.summary = now - start;
        }
    };
    const { cli } = await timingCli(stack, () => stack.run("up", { onEvent }));
    const ms = since(start);
    at.programEntered = programMarks.entered !== undefined ? programMarks.entered - start : undefined;
    at.programReturned = programMarks.returned !== undefined ? programMarks.returned - start : undefined;
    return { ms, phases, changed, at, cli, resources };
}

/** Where an `up`'s time went: its timeline, the CLI processes, and each phase that ran, step by step. */
function printBreakdown(name: string, up: TimedUp): void {
    const at = (key: string) => (up.at[key] !== undefined ? `${Math.round(up.at[key]!)}` : "-");
    line(
        `${name}/timeline-ms`,
        `first event ${at("firstEvent")}, program entered ${at("programEntered")}, returned ${at("programReturned")}, ` +
            `first step ${at("firstStep")}, last outputs ${at("lastOutputs")}, summary ${at("summary")}, up returned ${up.ms}`,
    );
    line(`${name}/cli-processes-ms`, up.cli.map(c => `${c.command} ${c.ms}`).join(", "));
    line(`${name}/not-same`, `${up.changed} resources, ${up.phases.length} phases`);
    if (values.verbose) {
        line(
            `${name}/resources-ms`,
            up.resources.map(r => `${r.name} ${r.op} ${r.began}-${r.ended ?? "?"}`).join(", "),
        );
    }
    for (const phase of up.phases) {
        line(
            `${name}/phase/${phase.name}`,
            `${phase.op} ${phase.ms} ms: ${phase.parts.map(p => `${p.step} ${p.ms}`).join(", ")}`,
        );
    }
}

async function engineFloor(world: EngineWorld): Promise<void> {
    const fresh: number[] = [];
    const again: number[] = [];
    for (let run = 0; run < RUNS; run++) {
        const stack = await world.engine.stack(
            `floor-${run}`,
            marked(async () => undefined),
        );
        const first = await timedUp(stack);
        const second = await timedUp(stack);
        fresh.push(first.ms);
        again.push(second.ms);
        if (run === 0) {
            printBreakdown("floor/fresh-up", first);
            printBreakdown("floor/noop-up", second);
        }
    }
    figure("floor/fresh-up", fresh);
    figure("floor/noop-up", again);
}

/** A program of one Infrastructure per namespace, all three phases, on `kubeconfig`. */
function infrastructureProgram(
    namespaces: readonly string[],
    args: Omit<InfrastructureArgs, "namespace">,
): () => Promise<void> {
    return marked(async () => {
        const { Infrastructure } = await import("../../sdk");
        for (const namespace of namespaces) {
            new Infrastructure(namespace, {
                ...args,
                namespace,
                phases: { config: true, install: true, provision: true },
            });
        }
    });
}

/** The kaptain twins of `namespaces`: `kaptain-<ns>` (three phases, sync) and `kaptain-install-<ns>` (kaptain's install). */
function twinRequest(namespaces: readonly string[], args: Omit<InfrastructureArgs, "namespace">): ScriptsRequest {
    return {
        infrastructures: namespaces.flatMap(namespace => [
            {
                name: `kaptain-${namespace}`,
                args: {
                    ...args,
                    namespace,
                    helmfile: { strategy: "sync" },
                    phases: { config: true, install: true, provision: true },
                },
            },
            {
                name: `kaptain-install-${namespace}`,
                args: {
                    ...args,
                    namespace,
                    phases: {
                        config: false,
                        install: { strategy: "sync", selectors: ["action=config", "action=install"] },
                        provision: false,
                    },
                },
            },
        ]),
    };
}

const deployScripts = (namespaces: readonly string[]) =>
    namespaces.flatMap(ns => PHASES.map(phase => `kaptain-${ns}-${phase}`));
const installScripts = (namespaces: readonly string[]) => namespaces.map(ns => `kaptain-install-${ns}-install`);

interface CaseResult {
    readonly pulumiKaptain: number;
    readonly kaptain: number;
}

/**
 * One case: `change` (run before each measurement), then `up` on A and kaptain's `install`
 * of `kaptainNamespaces` on B, each timed, with the helm upgrades each side made.
 */
async function measureCase(
    world: EngineWorld,
    name: string,
    stack: EngineStack,
    commands: Record<string, CapturedCommand>,
    namespaces: readonly string[],
    kaptainNamespaces: readonly string[],
    change: (run: number) => void = () => undefined,
): Promise<CaseResult> {
    const [a, b] = world.clusters;
    const ups: number[] = [];
    const kaptains: number[] = [];
    const upgradesA: number[] = [];
    const upgradesB: number[] = [];
    for (let run = 0; run < RUNS; run++) {
        change(run);
        const beforeA = revisionSum(world, a, namespaces);
        const up = await timedUp(stack);
        upgradesA.push(revisionSum(world, a, namespaces) - beforeA);
        ups.push(up.ms);
        if (run === 0) {
            printBreakdown(`${name}/pulumi-kaptain`, up);
        }
        const beforeB = revisionSum(world, b, namespaces);
        const kaptain = runKaptain(world, commands, installScripts(kaptainNamespaces));
        kaptains.push(kaptain.ms);
        if (run === 0) {
            line(`${name}/kaptain/scripts-ms`, kaptain.each);
        }
        upgradesB.push(revisionSum(world, b, namespaces) - beforeB);
    }
    const pulumiKaptain = figure(`${name}/pulumi-kaptain-time`, ups);
    line(`${name}/pulumi-kaptain-upgrades`, upgradesA.join(","));
    const kaptain = figure(`${name}/kaptain-time`, kaptains);
    line(`${name}/kaptain-upgrades`, upgradesB.join(","));
    line(`${name}/kaptain-does`, `install of ${kaptainNamespaces.join(" and ")}`);
    return { pulumiKaptain, kaptain };
}

/** Deploys a repository on both clusters, all three phases; prints both times and the releases. */
async function deployTwins(
    world: EngineWorld,
    name: string,
    stack: EngineStack,
    commands: Record<string, CapturedCommand>,
    namespaces: readonly string[],
): Promise<void> {
    const [a, b] = world.clusters;
    const up = await timedUp(stack);
    line(`${name}/deploy/pulumi-kaptain-time`, `${up.ms} ms`);
    printBreakdown(`${name}/deploy/pulumi-kaptain`, up);
    const kaptain = runKaptain(world, commands, deployScripts(namespaces));
    line(`${name}/deploy/kaptain-time`, `${kaptain.ms} ms`);
    line(`${name}/deploy/kaptain/scripts-ms`, kaptain.each);
    line(
        `${name}/releases`,
        `pulumi-kaptain ${releaseCount(world, a, namespaces)}, kaptain ${releaseCount(world, b, namespaces)}`,
    );
}

function edit(repo: string, run: number): void {
    const file = path.join(repo, EDITED);
    const text = fs.readFileSync(file, "utf8");
    const edited = text.replace(/^value: .*$/m, `value: "3-bench-${run}"`);
    if (edited === text) {
        throw new Error(`${file}: no value line to edit`);
    }
    fs.writeFileSync(file, edited);
}

async function fixtureCases(world: EngineWorld): Promise<{ noop: CaseResult; edit: CaseResult }> {
    const [a, b] = world.clusters;
    // One copy of the repository per side: nothing kaptain's runs leave can reach the
    // fingerprint of pulumi-kaptain's, and the other way round.
    const repoA = world.repo;
    const repoB = path.join(world.engine.root, "repo-kaptain");
    fs.cpSync(path.join(REPO_ROOT, "test/e2e/fixture"), repoB, { recursive: true });
    const remote = path.join(world.engine.root, "remote");
    const record = path.join(world.engine.root, "record");
    fs.mkdirSync(remote);
    fs.mkdirSync(record);
    // What the fixture's hooks need: a folder for the post hooks' record, a remote for rclone_config.
    const environment = { E2E_RECORD: record, RCLONE_CONFIG_KAPTAIN_REMOTE: `store:${remote}` };

    const stack = await world.engine.stack(
        "fixture",
        infrastructureProgram(NAMESPACES, {
            workingDirectory: repoA,
            kubeconfig: fs.readFileSync(a.kubeconfig, "utf8"),
            environment,
        }),
    );
    const commands = kaptainCommands(
        world,
        twinRequest(NAMESPACES, { workingDirectory: repoB, kubeconfig: b.kubeconfig, environment }),
    );
    await deployTwins(world, "fixture", stack, commands, NAMESPACES);
    const noop = await measureCase(world, "noop", stack, commands, NAMESPACES, NAMESPACES);
    // fleet-3 reads configs/fleet/3.yaml in both namespaces: kaptain would install both.
    const edited = await measureCase(world, "edit", stack, commands, NAMESPACES, NAMESPACES, run => {
        edit(repoA, run);
        edit(repoB, run);
    });
    return { noop, edit: edited };
}

async function generatedNoop(world: EngineWorld): Promise<void> {
    const [a, b] = world.clusters;
    const namespaces = ["ns-0"];
    const size = { releases: GENERATED_RELEASES, files: GENERATED_RELEASES, megabytes: 1, namespaces: 1 };
    const repoA = path.join(world.engine.root, "generated");
    const repoB = path.join(world.engine.root, "generated-kaptain");
    generateRepository(repoA, size, { installable: true });
    fs.cpSync(repoA, repoB, { recursive: true });
    const name = `generated-${GENERATED_RELEASES}`;
    line(`${name}/repository`, `${GENERATED_RELEASES} releases in namespace ns-0, one ConfigMap each`);
    const stack = await world.engine.stack(
        "generated",
        infrastructureProgram(namespaces, {
            workingDirectory: repoA,
            kubeconfig: fs.readFileSync(a.kubeconfig, "utf8"),
        }),
    );
    const commands = kaptainCommands(
        world,
        twinRequest(namespaces, { workingDirectory: repoB, kubeconfig: b.kubeconfig }),
    );
    await deployTwins(world, name, stack, commands, namespaces);
    const noop = await measureCase(world, `${name}/noop`, stack, commands, namespaces, namespaces);
    line(`${name}/noop/kaptain`, (noop.pulumiKaptain / noop.kaptain).toFixed(3));
}

async function main(): Promise<void> {
    if (findPluginBinary("command") === undefined) {
        console.warn(missingCommandPluginLine("npm run bench:deploy (every figure)"));
        return;
    }
    const started = performance.now();
    const world = await startWorld(2);
    try {
        await engineFloor(world);
        const fixture = await fixtureCases(world);
        if (GENERATED_RELEASES > 0) {
            await generatedNoop(world);
        }
        line("bench/total-time", `${Math.round(since(started) / 1000)} s`);
        line("noop/kaptain", (fixture.noop.pulumiKaptain / fixture.noop.kaptain).toFixed(3));
        line("edit/kaptain", (fixture.edit.pulumiKaptain / fixture.edit.kaptain).toFixed(3));
    } finally {
        await world.stop();
    }
}

main().then(
    () => process.exit(0),
    err => {
        console.error(err);
        process.exit(1);
    },
);
