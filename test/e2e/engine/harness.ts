/**
 * The real Pulumi engine for the end-to-end scenarios: the pinned CLI (test/e2e/toolchain)
 * through the Automation API with inline programs (the engine talks to a language server
 * inside the test process, so no Node.js language host binary is needed), real provider
 * plugins installed into a private PULUMI_HOME, a `file://` backend in a temporary folder.
 *
 * What a scenario asserts on comes from the engine, not from what the program printed:
 * the change summary, each resource's step (`same`, `update`, `replace`, …) and diff keys
 * from the engine's events, the stack export, diagnostics.
 */
import { ChildProcess, execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { EngineEvent, LocalWorkspace, OpMap, PulumiCommand, PulumiFn, Stack } from "@pulumi/pulumi/automation";
import { reap, startReaper, stopReaper } from "../support/reaper";
import { PluginBinaries, PLUGINS } from "./plugins";

export const PASSPHRASE = "kaptain-e2e-passphrase";

const execFileAsync = promisify(execFile);

export interface EngineOptions {
    /** The toolchain's bin folder: pulumi, helmfile, helm, kubectl. */
    readonly binDir: string;
    /** The helm-diff plugin folder (HELM_PLUGINS). */
    readonly helmPlugins: string;
    readonly plugins: PluginBinaries;
    /** The backend URL; a `file://` folder of the engine's own by default. */
    readonly backendUrl?: string;
    /** The ambient KUBECONFIG of the CLI and the providers. @default a file that does not exist */
    readonly ambientKubeconfig?: string;
}

/** What one engine operation did, read from the engine's events and result. */
export interface EngineRun {
    /** The engine's change summary: counts per step kind. */
    readonly summary: OpMap;
    /** Each resource's step by name (the last part of its URN). */
    readonly steps: Record<string, string>;
    /** The resources' names in the order the engine started their steps. */
    readonly order: string[];
    /** Each resource's changed properties by name (property paths, `environment.X`), for steps that change it. */
    readonly diffs: Record<string, string[]>;
    /** The engine's diagnostics (errors, warnings, provider logs), message by message. */
    readonly diagnostics: { severity: string; urn?: string; message: string }[];
    /** Everything the CLI printed, stdout and stderr. */
    readonly output: string;
    /** The error, when the operation failed. */
    readonly error?: Error;
}

export type Operation = "preview" | "up" | "refresh" | "destroy";

/** A private Pulumi: its home, backend and project folder, removed by {@link Engine.remove}. */
export class Engine {
    readonly root: string;
    readonly pulumiHome: string;
    readonly workDir: string;
    readonly backendUrl: string;
    /** The environment the CLI (and so the providers and the phase scripts) run with. */
    readonly env: Record<string, string>;
    private pulumi?: PulumiCommand;
    private readonly reaper: ChildProcess;

    constructor(private readonly options: EngineOptions) {
        this.root = fs.mkdtempSync(path.join(os.tmpdir(), "kaptain-engine-"));
        // Should this process die without remove(): the CLI, the plugins and the phase
        // scripts run in this folder, and go with it.
        this.reaper = startReaper(this.root);
        this.pulumiHome = path.join(this.root, "pulumi-home");
        // The project folder the CLI (and the providers it starts) run in: not the test's
        // working directory, as with an Automation API program's default workDir.
        this.workDir = path.join(this.root, "project");
        const backend = path.join(this.root, "backend");
        for (const dir of [this.pulumiHome, this.workDir, backend, path.join(this.root, "run")]) {
            fs.mkdirSync(dir, { recursive: true });
        }
        this.backendUrl = options.backendUrl ?? `file://${backend}`;
        this.env = {
            PATH: `${options.binDir}:${process.env.PATH}`,
            PULUMI_HOME: this.pulumiHome,
            PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
            PULUMI_SKIP_UPDATE_CHECK: "true",
            // The plugins installed into PULUMI_HOME, never a pulumi-resource-* found on PATH
            // (the toolchain folder holds the kubernetes one).
            PULUMI_IGNORE_AMBIENT_PLUGINS: "true",
            PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
            // The ambient kubeconfig points nowhere: whatever reaches a cluster must have
            // been told which one.
            KUBECONFIG: options.ambientKubeconfig ?? path.join(this.root, "no-such-kubeconfig"),
            HELM_PLUGINS: options.helmPlugins,
            HELM_CACHE_HOME: path.join(this.root, "helm", "cache"),
            HELM_CONFIG_HOME: path.join(this.root, "helm", "config"),
            HELM_DATA_HOME: path.join(this.root, "helm", "data"),
            XDG_RUNTIME_DIR: path.join(this.root, "run"),
            TMPDIR: path.join(this.root, "run"),
        };
    }

    /** Installs the plugins into the private PULUMI_HOME, the way a user installs a local build. */
    async start(): Promise<void> {
        this.pulumi = await PulumiCommand.get({ root: path.dirname(this.options.binDir), skipVersionCheck: true });
        const install = (name: string, version: string, file: string) =>
            execFileSync(
                path.join(this.options.binDir, "pulumi"),
                ["plugin", "install", "resource", name, version, "--file", file],
                { env: { ...process.env, ...this.env }, stdio: ["ignore", "pipe", "pipe"] },
            );
        install("kubernetes", PLUGINS.kubernetes, this.options.plugins.kubernetes);
        if (this.options.plugins.command !== undefined) {
            install("command", PLUGINS.command, this.options.plugins.command);
        }
    }

    /** Creates (or selects) a stack of project `kaptain-e2e` running `program` inline. */
    async stack(
        name: string,
        program: PulumiFn,
        config: Record<string, unknown> = {},
        secrets: Record<string, string> = {},
    ): Promise<EngineStack> {
        const stack = await LocalWorkspace.createOrSelectStack(
            { stackName: name, projectName: "kaptain-e2e", program },
            {
                workDir: this.workDir,
                pulumiHome: this.pulumiHome,
                pulumiCommand: this.pulumi,
                envVars: this.env,
                projectSettings: { name: "kaptain-e2e", runtime: "nodejs", backend: { url: this.backendUrl } },
            },
        );
        const handle = new EngineStack(stack, this.workDir, this.env);
        handle.writeConfig(config);
        for (const [key, value] of Object.entries(secrets)) {
            await stack.setConfig(key, { value, secret: true });
        }
        return handle;
    }

    /** Kills anything of this engine still running (CLI, plugins, phase scripts) and removes its folders. */
    remove(): void {
        reap(this.root);
        stopReaper(this.reaper);
    }
}

/** One stack, with operations that report what the engine did. */
export class EngineStack {
    /** Everything the CLI printed for this stack so far. */
    allOutput = "";

    constructor(
        readonly stack: Stack,
        private readonly workDir: string,
        private readonly env: Record<string, string>,
    ) {}

    /** The stack's settings file, `Pulumi.<stack>.yaml`, as a user writes it. */
    get settingsFile(): string {
        return path.join(this.workDir, `Pulumi.${this.stack.name}.yaml`);
    }

    /**
     * Writes plain `config:` keys into the stack's settings file, keeping what the CLI put
     * there (the encryption salt, secure values).
     */
    writeConfig(config: Record<string, unknown>): void {
        const current = fs.existsSync(this.settingsFile)
            ? ((YAML.parse(fs.readFileSync(this.settingsFile, "utf8")) as Record<string, unknown> | null) ?? {})
            : {};
        const merged = { ...current, config: { ...((current.config as object) ?? {}), ...config } };
        fs.writeFileSync(this.settingsFile, YAML.stringify(merged));
    }

    async run(
        operation: Operation,
        options: { expectFailure?: boolean; diff?: boolean; onEvent?: (event: EngineEvent) => void } = {},
    ): Promise<EngineRun> {
        const steps: Record<string, string> = {};
        const order: string[] = [];
        const diffs: Record<string, string[]> = {};
        const diagnostics: EngineRun["diagnostics"] = [];
        let output = "";
        const onEvent = (event: EngineEvent) => {
            options.onEvent?.(event);
            const pre = event.resourcePreEvent?.metadata;
            if (pre !== undefined) {
                const name = pre.urn.split("::").pop()!;
                steps[name] = pre.op;
                order.push(name);
                const paths = Object.keys(pre.detailedDiff ?? {});
                const changedKeys = paths.length > 0 ? paths : [...(pre.diffs ?? [])];
                if (changedKeys.length > 0) {
                    diffs[name] = changedKeys.sort();
                }
            }
            const d = event.diagnosticEvent;
            if (d !== undefined) {
                diagnostics.push({ severity: d.severity, urn: d.urn, message: d.message });
            }
        };
        const onOutput = (text: string) => {
            output += text;
        };
        const common = { onEvent, onOutput, color: "never" as const };
        let summary: OpMap = {};
        let error: Error | undefined;
        try {
            if (operation === "preview") {
                const r = await this.stack.preview({ ...common, diff: options.diff });
                summary = r.changeSummary;
                output += r.stderr;
            } else if (operation === "up") {
                const r = await this.stack.up({ ...common, diff: options.diff });
                summary = r.summary.resourceChanges ?? {};
                output += r.stderr;
            } else if (operation === "refresh") {
                const r = await this.stack.refresh({ ...common });
                summary = r.summary.resourceChanges ?? {};
                output += r.stderr;
            } else {
                const r = await this.stack.destroy({ ...common });
                summary = r.summary.resourceChanges ?? {};
                output += r.stderr;
            }
        } catch (err) {
            error = err as Error;
            output += `\n${error.message}`;
            if (!options.expectFailure) {
                const messages = diagnostics.filter(d => d.severity === "error").map(d => d.message);
                throw new Error(`pulumi ${operation} failed: ${messages.join("\n") || error.message}`, { cause: err });
            }
        }
        this.allOutput += output;
        return { summary, steps, order, diffs, diagnostics, output, error };
    }

    preview(options?: { expectFailure?: boolean; diff?: boolean }): Promise<EngineRun> {
        return this.run("preview", options);
    }
    up(options?: { expectFailure?: boolean }): Promise<EngineRun> {
        return this.run("up", options);
    }
    refresh(): Promise<EngineRun> {
        return this.run("refresh");
    }
    destroy(options?: { expectFailure?: boolean }): Promise<EngineRun> {
        return this.run("destroy", options);
    }

    /**
     * The stack's state as `pulumi stack export` gives it: secrets encrypted. (The
     * Automation API's `exportStack` adds `--show-secrets`, which decrypts them.)
     */
    async exportedState(): Promise<string> {
        const { stdout } = await execFileAsync(
            this.stack.workspace.pulumiCommand.command,
            ["stack", "export", "--stack", this.stack.name],
            { cwd: this.workDir, env: { ...process.env, ...this.env }, maxBuffer: 256 * 1024 * 1024 },
        );
        return stdout;
    }

    /** The stack's resources from its state, by name. */
    async resources(): Promise<Record<string, { type: string; id?: string; protect?: boolean }>> {
        const deployment = (JSON.parse(await this.exportedState()) as { deployment: unknown }).deployment as {
            resources?: { urn: string; type: string; id?: string; protect?: boolean }[];
        };
        return Object.fromEntries(
            (deployment.resources ?? []).map(r => [
                r.urn.split("::").pop()!,
                { type: r.type, id: r.id, protect: r.protect },
            ]),
        );
    }
}

/** Steps other than `same` in a run, by resource name. */
export function changed(run: EngineRun): Record<string, string> {
    return Object.fromEntries(Object.entries(run.steps).filter(([, op]) => op !== "same"));
}
