import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import * as pulumi from "@pulumi/pulumi";
import { planOffline } from "../offline";
import { isPhaseName } from "../phases";
import { secretDigests, secretsDigestKey, secretsDigestKeyFile } from "./secret-digest";
import { parseHelmfileDiff, ReleaseChange } from "../live-diff";
import { commandScripts, SCRIPT_VARIABLES } from "../script/phase-script";
import { shQuote } from "../script/quote";
import { Engine, RegisteredResource, SECRET_MARKER, startEngine } from "./engine";
import { checkOutFolder, writeStackFolder } from "./out-folder";
import { chooseStack, Project, readProject, readStackConfig, SynthError } from "./project";

/** One resource of the plan, as written to plan.json (secrets replaced by the marker). */
export interface PlanResource {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    readonly parent?: string;
    readonly dependencies: readonly string[];
    /** A keyed digest of each secret input, by path: tells which changed, never what it is (see secret-digest.ts). */
    readonly secretDigests?: Readonly<Record<string, string>>;
    /** The provider reference it was registered with; undefined for the default provider. */
    readonly provider?: string;
    /** Pulumi refuses to delete it. */
    readonly protect?: boolean;
    /** Deleting it only removes it from the state. */
    readonly retainOnDelete?: boolean;
    readonly inputs: Record<string, unknown>;
}

export interface Plan {
    readonly project: string;
    readonly stack: string;
    readonly resources: readonly PlanResource[];
    /** What the program logged as warnings. */
    readonly warnings?: readonly string[];
}

/** A phase as synth found it: an Infrastructure's Command. */
export interface PlannedPhase {
    readonly infrastructure: string;
    readonly phase: string;
    readonly command: PlanResource;
    readonly scripts: { readonly create: string; readonly update: string; readonly delete: string };
    /** kaptain's diff action for the phase, from the Infrastructure's outputs. */
    readonly diff?: string;
}

/** What `--live` found for one phase: the releases that differ from the cluster. */
export interface LiveDiff {
    readonly infrastructure: string;
    readonly phase: string;
    readonly changes: readonly ReleaseChange[];
    /** The phase's inputs, secret ones by their digests, are as at the previous synth: what differs is drift. */
    readonly drift: boolean;
}

export interface SynthOptions {
    /** The Pulumi project directory (holds Pulumi.yaml). */
    readonly projectDirectory: string;
    readonly stack?: string;
    /** Where `<stack>/` is written. @default `<project>/out` */
    readonly outDirectory?: string;
    /** Run each phase's diff action against the cluster of this kubeconfig (`--live`). */
    readonly liveKubeconfig?: string;
}

export interface SynthResult {
    readonly plan: Plan;
    readonly previous?: Plan;
    readonly phases: readonly PlannedPhase[];
    readonly outDirectory: string;
    readonly files: readonly string[];
    readonly live?: readonly LiveDiff[];
}

const INFRASTRUCTURE = "kaptain:index:Infrastructure";
const COMMAND = "command:local:Command";

/**
 * Runs the project's real program in-process against the mock engine, with the stack's
 * config, and writes `out/<stack>/`: plan.json, manifests/ and phases/. The output is
 * built in a temporary folder and renamed into place only when everything succeeded
 * (see out-folder.ts for what synth may replace).
 */
export async function synth(options: SynthOptions): Promise<SynthResult> {
    const project = readProject(path.resolve(options.projectDirectory));
    const stack = chooseStack(project, options.stack);
    const { config, secretKeys } = readStackConfig(project, stack);
    const outRoot = path.resolve(project.directory, options.outDirectory ?? "out");
    // A folder synth may not write is refused before anything runs.
    checkOutFolder(outRoot, stack);
    const engine = await runProgram(project, stack, config, secretKeys);
    const { resources, outputs } = engine;
    const warnings = [...engine.warnings];

    const key = secretsDigestKey();
    if (key === undefined) {
        warnings.push(
            `no key for secret digests can be kept in ${secretsDigestKeyFile()}: ` +
                "this plan cannot tell whether a secret value changed",
        );
    }
    const plan: Plan = {
        project: project.name,
        stack,
        resources: resources.map(r => ({
            urn: r.urn,
            type: r.type,
            name: r.name,
            parent: r.parent,
            dependencies: r.dependencies,
            ...(r.provider !== undefined ? { provider: r.provider } : {}),
            ...(r.protect ? { protect: true } : {}),
            ...(r.retainOnDelete ? { retainOnDelete: true } : {}),
            inputs: r.redactedInputs,
            ...withSecretDigests(key && secretDigests(r.inputs, r.redactedInputs, key)),
        })),
        warnings,
    };
    const phases = plannedPhases(plan, outputs);
    const outDirectory = path.join(outRoot, stack);
    const previous = readPreviousPlan(outDirectory);
    const live =
        options.liveKubeconfig === undefined
            ? undefined
            : liveDiffs(project.directory, phases, resources, path.resolve(options.liveKubeconfig), previous);
    const files = writeOutput(outRoot, stack, plan, phases, resources, live);
    return { plan, previous, phases, outDirectory, files, live: live?.map(({ output: _output, ...d }) => d) };
}

/**
 * Runs each phase's diff action the way the command provider would run its scripts (its
 * dir, the process environment plus its environment), with the given kubeconfig. It
 * changes nothing: hooks pack but upload nothing, helmfile only diffs.
 */
function liveDiffs(
    projectDirectory: string,
    phases: readonly PlannedPhase[],
    resources: readonly RegisteredResource[],
    kubeconfig: string,
    previous: Plan | undefined,
): Array<LiveDiff & { output: string }> {
    if (!fs.existsSync(kubeconfig)) {
        throw new SynthError(`--kubeconfig ${kubeconfig}: no such file`);
    }
    return phases.map(p => {
        const command = resources.find(r => r.urn === p.command.urn)!;
        const inputs = command.inputs as { dir: string; environment?: Record<string, string> };
        if (p.diff === undefined) {
            throw new SynthError(`${p.infrastructure} ${p.phase}: the program registered no diff script`);
        }
        const run = spawnSync("bash", ["-c", p.diff], {
            cwd: path.resolve(projectDirectory, inputs.dir),
            env: { ...process.env, ...(inputs.environment ?? {}), KAPTAIN_KUBECONFIG: kubeconfig },
            encoding: "utf8",
            maxBuffer: 256 * 1024 * 1024,
        });
        if (run.status !== 0) {
            // Only pulumi-kaptain's own lines: helmfile's and the hooks' output may show values.
            const tail = run.stderr
                .split("\n")
                .filter(l => l.startsWith("kaptain: "))
                .join("\n");
            throw new SynthError(
                `--live: the diff of ${p.infrastructure} ${p.phase} failed against ${kubeconfig}:\n${tail}`,
            );
        }
        const before = previous?.resources.find(r => r.urn === p.command.urn);
        const unchanged = before !== undefined && sameInputs(before, p.command);
        const changes = parseHelmfileDiff(run.stdout);
        return {
            infrastructure: p.infrastructure,
            phase: p.phase,
            changes,
            drift: unchanged && changes.length > 0,
            output: run.stdout,
        };
    });
}

/**
 * Whether a resource's inputs are as in the previous plan, secret ones compared by their
 * digests (the input fingerprint is secret). Never when secrets could not be digested.
 */
function sameInputs(before: PlanResource, after: PlanResource): boolean {
    const comparable =
        after.secretDigests !== undefined || !JSON.stringify(after.inputs).includes(`"${SECRET_MARKER}"`);
    return (
        comparable &&
        JSON.stringify(before.inputs) === JSON.stringify(after.inputs) &&
        JSON.stringify(before.secretDigests) === JSON.stringify(after.secretDigests)
    );
}

/**
 * Runs the project's program to its end as the Pulumi CLI would, and throws a SynthError
 * with every error it raised, each of which fails a `pulumi up`: thrown, rejected (a check
 * inside `apply` rejects a resource's input, and that resource is never registered),
 * unhandled, in an exported Output, or logged with `pulumi.log.error`.
 */
async function runProgram(
    project: Project,
    stack: string,
    config: Record<string, string>,
    secretKeys: readonly string[],
): Promise<Engine> {
    const failures: unknown[] = [];
    // A resource whose input waits on a failed one is never registered, and the program
    // never settles: stop at the first failure instead of waiting for it.
    let failed: () => void = () => undefined;
    const firstFailure = new Promise<void>(resolve => {
        failed = resolve;
    });
    const onFailure = (err: unknown) => {
        failures.push(err);
        failed();
    };
    // Nothing left to run, yet the program has not finished: an Output waits for a value
    // that never comes. Without this, the process would just end, with Pulumi's message
    // about leaked promises at best.
    const onIdle = () =>
        onFailure(
            new SynthError(
                "it never finished: an Output or a promise waits for a value that never comes " +
                    "(a dependency cycle between resources?)",
            ),
        );
    process.on("unhandledRejection", onFailure);
    process.on("uncaughtException", onFailure);
    process.on("beforeExit", onIdle);
    const cwd = process.cwd();
    let engine: Engine | undefined;
    try {
        planOffline();
        const started = await startEngine({ project: project.name, stack, config, secretKeys });
        engine = started;
        process.chdir(project.directory); // as the Pulumi CLI runs a program
        preloadProviders();
        registerTypeScript(project.main);
        const completion = (async () => {
            await settleStackOutputs(runEntry(require(project.main)));
            await started.settle();
        })().catch(onFailure);
        await Promise.race([completion, firstFailure]);
        // The other failures of the same cause arrive in the same turn of the event loop.
        await new Promise(resolve => setImmediate(resolve));
    } catch (err) {
        failures.unshift(err);
    } finally {
        process.chdir(cwd);
        process.off("unhandledRejection", onFailure);
        process.off("uncaughtException", onFailure);
        process.off("beforeExit", onIdle);
    }
    const messages = [...failures.map(describeError), ...(engine?.errors ?? []).map(m => `  ${m}`)];
    if (messages.length > 0 || engine === undefined) {
        throw new SynthError(`the program failed:\n${[...new Set(messages)].join("\n")}`);
    }
    return engine;
}

/**
 * Runs the program's entry as the Pulumi CLI does: a module that is a function
 * (`export = async () => …`) is called, and so is a default export that is one. What it
 * returns, or else the module's exports, are the stack's outputs.
 */
function runEntry(program: unknown): unknown {
    if (typeof program === "function") {
        return program();
    }
    const byDefault = (program as { default?: unknown } | undefined)?.default;
    return typeof byDefault === "function" ? byDefault() : program;
}

/** Waits for every promise and Output among the stack's outputs, as the Pulumi CLI does: one that fails, fails. */
async function settleStackOutputs(value: unknown, seen = new Set<unknown>()): Promise<void> {
    if (pulumi.Output.isInstance(value)) {
        const promise = (value as unknown as { promise(): Promise<unknown> }).promise();
        return settleStackOutputs(await promise, seen);
    }
    if (value instanceof Promise) {
        return settleStackOutputs(await value, seen);
    }
    if (typeof value !== "object" || value === null || seen.has(value) || pulumi.Resource.isInstance(value)) {
        return;
    }
    seen.add(value);
    for (const item of Object.values(value)) {
        await settleStackOutputs(item, seen);
    }
}

function describeError(err: unknown): string {
    if (err instanceof Error) {
        return `  ${err.message}`;
    }
    return `  ${String(err)}`;
}

/**
 * Loads the provider SDKs the components use before any TypeScript loader is
 * registered: a loader's require hook roughly doubles their load time.
 */
export function preloadProviders(): void {
    require("@pulumi/kubernetes/core/v1");
    require("@pulumi/command");
}

/** Lets `require` load a TypeScript program when synth itself runs as JavaScript. */
export function registerTypeScript(main: string): void {
    if (!main.endsWith(".ts") || require.extensions[".ts"] !== undefined) {
        return;
    }
    try {
        require("tsx/cjs/api").register();
        return;
    } catch {
        // fall through to ts-node, which Pulumi's own TypeScript support uses
    }
    try {
        require("ts-node").register({ transpileOnly: true });
    } catch {
        throw new SynthError(`${main} is TypeScript: install tsx or ts-node to synth it`);
    }
}

function withSecretDigests(digests: Record<string, string> | undefined): { secretDigests?: Record<string, string> } {
    return digests !== undefined ? { secretDigests: digests } : {};
}

/** The phases of every Infrastructure, in registration (deploy) order. */
export function plannedPhases(
    plan: Plan,
    outputs: ReadonlyMap<string, Record<string, unknown>> = new Map(),
): PlannedPhase[] {
    const infrastructures = new Map(plan.resources.filter(r => r.type === INFRASTRUCTURE).map(r => [r.urn, r.name]));
    return plan.resources.flatMap(r => {
        const infra = r.parent !== undefined ? infrastructures.get(r.parent) : undefined;
        const phase = infra !== undefined ? r.name.slice(infra.length + 1) : "";
        // Not the namespace guard, the other Command of an Infrastructure.
        if (r.type !== COMMAND || infra === undefined || !r.name.startsWith(`${infra}-`) || !isPhaseName(phase)) {
            return [];
        }
        const { create = "", delete: del = "" } = commandScripts(r.inputs);
        const diffScripts = outputs.get(r.parent!)?.diffScripts as Record<string, string> | undefined;
        return [
            {
                infrastructure: infra,
                phase,
                command: r,
                // The command provider runs `create` again on update.
                scripts: { create, update: create, delete: del },
                ...(diffScripts?.[phase] !== undefined ? { diff: diffScripts[phase] } : {}),
            },
        ];
    });
}

function readPreviousPlan(outDirectory: string): Plan | undefined {
    try {
        return JSON.parse(fs.readFileSync(path.join(outDirectory, "plan.json"), "utf8")) as Plan;
    } catch {
        return undefined;
    }
}

function writeOutput(
    outRoot: string,
    stack: string,
    plan: Plan,
    phases: readonly PlannedPhase[],
    resources: readonly RegisteredResource[],
    live: ReadonlyArray<LiveDiff & { output: string }> | undefined,
): string[] {
    return writeStackFolder(outRoot, stack, write => {
        write("plan.json", `${JSON.stringify(plan, null, 2)}\n`);
        for (const r of resources.filter(x => x.type.startsWith("kubernetes:"))) {
            const manifest = redactedManifest(r);
            const meta = (manifest.metadata ?? {}) as { name?: string; namespace?: string };
            const base = [meta.namespace, String(manifest.kind ?? r.type).toLowerCase(), meta.name ?? r.name]
                .filter(Boolean)
                .join(".");
            write(`manifests/${base}.yaml`, YAML.stringify(manifest, { lineWidth: 0 }));
        }
        const single = new Set(phases.map(p => p.infrastructure)).size <= 1;
        for (const p of phases) {
            const prefix = single ? `phases/${p.phase}` : `phases/${p.infrastructure}/${p.phase}`;
            write(`${prefix}.create.sh`, p.scripts.create);
            write(`${prefix}.update.sh`, p.scripts.update);
            write(`${prefix}.delete.sh`, p.scripts.delete);
            write(`${prefix}.env`, phaseEnvFile(p));
            if (p.diff !== undefined) {
                write(`${prefix}.diff.sh`, p.diff);
            }
            const found = live?.find(d => d.infrastructure === p.infrastructure && d.phase === p.phase);
            if (found !== undefined) {
                // The full diff: Secret objects are suppressed, but other objects may show
                // values that came from secrets. Readable by the owner only.
                write(`${single ? "live" : `live/${p.infrastructure}`}/${p.phase}.diff`, found.output, 0o600);
            }
        }
    });
}

/** A Kubernetes object as it would be applied, secret values (not keys) redacted. */
function redactedManifest(r: RegisteredResource): Record<string, unknown> {
    const manifest: Record<string, unknown> = { ...r.redactedInputs };
    if (manifest.kind === "Secret") {
        for (const field of ["data", "stringData"]) {
            const revealed = r.inputs[field];
            if (typeof revealed === "object" && revealed !== null) {
                manifest[field] = Object.fromEntries(Object.keys(revealed).map(k => [k, SECRET_MARKER]));
            }
        }
    }
    return manifest;
}

/** The environment a phase runs with, as a file a reviewer (or `set -a; source`) can read. */
function phaseEnvFile(p: PlannedPhase): string {
    const inputs = p.command.inputs as { dir?: string; interpreter?: string[]; environment?: Record<string, string> };
    return [
        `# ${p.infrastructure} ${p.phase}: run in ${inputs.dir} with ${(inputs.interpreter ?? []).join(" ")} <script>`,
        "# The process environment plus these variables; secret values are redacted.",
        ...Object.entries(inputs.environment ?? {})
            // The scripts themselves are the .sh files beside this one.
            .filter(([k]) => !(Object.values(SCRIPT_VARIABLES) as string[]).includes(k))
            .sort(([a], [b]) => (a < b ? -1 : 1))
            .map(([k, v]) => `${k}=${shQuote(String(v))}`),
        "",
    ].join("\n");
}
