import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { ArgProblem, problem, throwIfProblems } from "./errors";
import { FingerprintGroup, fingerprintEntries, fingerprintRepository } from "./fingerprint";
import { namespaceProblem, RepositoryLayout, resolveLayout } from "./layout";
import { createPhaseCommand, defaultSelectors, Phase } from "./phase";
import { isPhaseName, PHASE_ORDER, PhaseName } from "./phases";
import { ProvisionConfigs, ProvisionConfigsArgs } from "./provision-configs";
import { toolsUsedByHooks } from "./script/helpers";
import { parseValues } from "./values";

/** How helmfile is called. */
export interface HelmfileOptions {
    /**
     * The helmfile binary: a name looked up on PATH, or a path.
     * @default "helmfile"
     */
    readonly binary?: pulumi.Input<string>;
    /**
     * Helmfile environment (`--environment`).
     * @default none: helmfile's `default` environment
     */
    readonly environment?: pulumi.Input<string>;
    /**
     * `--concurrency` of `helmfile sync`; 0 passes no flag. kaptain's `KAPTAIN_HELMFILE_CONCURRENCY`.
     * @default 4
     */
    readonly concurrency?: pulumi.Input<number>;
    /**
     * The helmfile state file, resolved against the namespace directory, then the working
     * directory. Plain: it is located when the program runs.
     * @default helmfile's own lookup in the namespace directory, else the working directory's helmfile.yaml
     */
    readonly file?: string;
    /**
     * `--kube-context`.
     * @default none: the kubeconfig's current context
     */
    readonly kubeContext?: pulumi.Input<string>;
    /**
     * More global flags, placed before the subcommand (for example `["--debug"]`).
     * @default []
     */
    readonly extraArgs?: pulumi.Input<pulumi.Input<string>[]>;
}

/** Options of one phase. */
export interface PhaseOptions {
    /**
     * `--concurrency` for this phase's sync.
     * @default `helmfile.concurrency`
     */
    readonly concurrency?: pulumi.Input<number>;
    /**
     * Flags placed after `sync` (for example `["--wait"]`).
     * @default []
     */
    readonly syncArgs?: pulumi.Input<pulumi.Input<string>[]>;
    /**
     * Label selectors of the releases the phase syncs and, on delete, destroys.
     * @default [`action=<phase>`]
     */
    readonly selectors?: readonly string[];
}

/** `true` runs the phase with defaults, `false` leaves it out (and deletes it if it was deployed). */
export type PhaseSetting = boolean | PhaseOptions;

/** Which phases run. */
export type PhasesArgs = { readonly [P in PhaseName]?: PhaseSetting };

/** The phases that run when `phases` does not say otherwise. Provision is optional in kaptain. */
export const DEFAULT_PHASES: Readonly<Record<PhaseName, boolean>> = { config: true, install: true, provision: false };

export interface InfrastructureArgs {
    /**
     * The Kubernetes namespace, a DNS-1123 label. Selects `namespaces/<namespace>` as the
     * namespace directory when that folder exists. Plain: it decides which files are read.
     */
    readonly namespace: string;
    /**
     * The Helmfile repository (kaptain's working directory), relative to the program's directory.
     * @default the program's directory (`process.cwd()`)
     */
    readonly workingDirectory?: string;
    /** How helmfile is called. @default {} */
    readonly helmfile?: HelmfileOptions;
    /**
     * The cluster's kubeconfig: a path, or the kubeconfig content (for example a cluster's
     * output). Always stored as a Pulumi secret and handed to the script through its
     * environment; content is written to a private temporary file for the run.
     * @default none: the environment's `KUBECONFIG`, which must then be set when Pulumi runs
     */
    readonly kubeconfig?: pulumi.Input<string>;
    /**
     * The hooks file, resolved against the namespace directory, then the working
     * directory; `false` runs no hooks.
     * @default `hooks.sh` in the namespace directory when it exists
     */
    readonly hooks?: string | false;
    /** Which phases run, each `true`, `false` or its options. @default {@link DEFAULT_PHASES} */
    readonly phases?: PhasesArgs;
    /**
     * Extra environment variables for hooks and helmfile (for `requiredEnv` in templates).
     * Names starting with `KAPTAIN_` are reserved.
     * @default {}
     */
    readonly environment?: Record<string, pulumi.Input<string>>;
    /**
     * Relative paths (files or folders) of the repository that helmfile never reads, left
     * out of the change-detection fingerprint. `.git`, `node_modules` and other
     * namespaces' folders are always left out.
     * @default []
     */
    readonly fingerprintExclude?: readonly string[];
    /**
     * The namespace Secret, ConfigMap and rclone-config Secret as native objects, created
     * before the config phase. Given fields override what is found in the repository;
     * `false` leaves them to the repository's own provision-configs chart.
     * @default on when the repository has a `secret.yaml`, an `rclone.conf` in the namespace
     * directory or `configKeys` in `configs/provision-configs/values.yaml`, and no
     * `provision-configs` release in its helmfile
     */
    readonly provisionConfigs?: InfrastructureProvisionConfigs | false;
}

/** ProvisionConfigs options inside an Infrastructure: namespace and directories come from it. */
export type InfrastructureProvisionConfigs = Omit<ProvisionConfigsArgs, "namespace" | "workingDirectory"> & {
    /**
     * Keep a `provision-configs` release in the helmfile next to the component. Only for a
     * chart that no longer renders the namespace Secret, ConfigMap or rclone-config Secret:
     * otherwise both would own the same objects.
     * @default false
     */
    readonly allowChartRelease?: boolean;
};

/** Plain arguments after defaults and construction-time checks. */
export interface ResolvedInfrastructure {
    readonly layout: RepositoryLayout;
    readonly phases: ReadonlyArray<{ readonly name: PhaseName; readonly options: PhaseOptions }>;
    readonly hookTools: readonly string[];
    /** The ProvisionConfigs to create, or undefined for none. */
    readonly provisionConfigs?: ProvisionConfigsArgs;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Applies defaults and checks every plain argument; throws one error that lists every
 * problem, each naming its argument. Never mutates `args`.
 */
export function resolveInfrastructure(args: InfrastructureArgs, programDirectory: string): ResolvedInfrastructure {
    const problems: ArgProblem[] = [];
    const nsProblem = namespaceProblem(args?.namespace);
    if (nsProblem !== undefined) {
        throwIfProblems("Infrastructure", [nsProblem]);
    }

    const phaseSettings = { ...DEFAULT_PHASES, ...(args.phases ?? {}) };
    for (const key of Object.keys(args.phases ?? {})) {
        if (!isPhaseName(key)) {
            problems.push(problem(`phases.${key}`, `is not a phase: expected one of ${PHASE_ORDER.join(", ")}`));
        }
    }
    const phases = PHASE_ORDER.flatMap(name => {
        const setting = phaseSettings[name];
        if (setting === false || setting === undefined) {
            return [];
        }
        if (setting !== true && (typeof setting !== "object" || setting === null)) {
            problems.push(problem(`phases.${name}`, `must be true, false or an options object, got ${JSON.stringify(setting)}`));
            return [];
        }
        const options: PhaseOptions = setting === true ? {} : setting;
        if (options.selectors !== undefined &&
            (!Array.isArray(options.selectors) || options.selectors.length === 0 ||
                options.selectors.some(s => typeof s !== "string" || !/^[^=\s,]+!?=[^=\s,]*$/.test(s)))) {
            problems.push(problem(`phases.${name}.selectors`,
                `must be a non-empty list of label selectors like "action=${name}", got ${JSON.stringify(options.selectors)}`));
        }
        return [{ name, options }];
    });

    for (const key of Object.keys(args.environment ?? {})) {
        if (!ENV_NAME.test(key)) {
            problems.push(problem(`environment.${key}`, "is not a valid environment variable name"));
        } else if (key.startsWith("KAPTAIN_")) {
            problems.push(problem(`environment.${key}`, "uses the reserved prefix KAPTAIN_ (set by pulumi-kaptain)"));
        }
    }

    const { layout, problems: layoutProblems } = resolveLayout({
        namespace: args.namespace,
        workingDirectory: args.workingDirectory ?? ".",
        programDirectory,
        hooks: args.hooks,
        helmfileFile: args.helmfile?.file,
    });
    problems.push(...layoutProblems);
    throwIfProblems("Infrastructure", problems);

    const hooksText = layout!.hooksFile !== undefined
        ? fs.readFileSync(path.join(layout!.namespaceDirectory, layout!.hooksFile), "utf8") : "";
    const provisionConfigs = resolveProvisionConfigsMode(args.provisionConfigs, layout!, problems);
    throwIfProblems("Infrastructure", problems);
    return { layout: layout!, phases, hookTools: toolsUsedByHooks(hooksText), provisionConfigs };
}

/** The source pairs of ProvisionConfigs: a file or a value, never both. */
const SOURCE_PAIRS = [["secretFile", "secret"], ["configKeysFile", "configKeys"], ["rcloneConfigFile", "rcloneConfig"]] as const;

/** What a kaptain repository holds for the provision-configs objects, by kaptain's conventions. */
export function detectProvisionConfigs(layout: RepositoryLayout): Partial<ProvisionConfigsArgs> {
    const found: { -readonly [K in keyof ProvisionConfigsArgs]?: ProvisionConfigsArgs[K] } = {};
    for (const dir of [layout.namespaceDirectory, layout.workingDirectory]) {
        if (found.secretFile === undefined && fs.existsSync(path.join(dir, "secret.yaml"))) {
            found.secretFile = path.relative(layout.workingDirectory, path.join(dir, "secret.yaml"));
        }
        const values = path.join(dir, "configs", "provision-configs", "values.yaml");
        if (found.configKeysFile === undefined && fs.existsSync(values) && hasConfigKeys(values)) {
            found.configKeysFile = path.relative(layout.workingDirectory, values);
        }
    }
    // kaptain copies the namespace directory's rclone.conf into the chart, no other.
    if (fs.existsSync(path.join(layout.namespaceDirectory, "rclone.conf"))) {
        found.rcloneConfigFile = path.relative(layout.workingDirectory, path.join(layout.namespaceDirectory, "rclone.conf"));
    }
    return found;
}

function hasConfigKeys(file: string): boolean {
    try {
        return "configKeys" in parseValues(fs.readFileSync(file, "utf8"), file);
    } catch {
        return true; // let ProvisionConfigs report the file's error with its line
    }
}

/** The helmfile that declares a `provision-configs` release, if any. */
export function provisionConfigsChartRelease(layout: RepositoryLayout): string | undefined {
    const candidates = [
        ...(layout.helmfileFile !== undefined ? [path.resolve(layout.namespaceDirectory, layout.helmfileFile)] : []),
        path.join(layout.namespaceDirectory, "helmfile.yaml"),
        path.join(layout.namespaceDirectory, "helmfile.yaml.gotmpl"),
        path.join(layout.workingDirectory, "helmfile.yaml"),
        path.join(layout.workingDirectory, "helmfile.yaml.gotmpl"),
    ];
    const release = /^\s*-?\s*name:\s*["']?provision-configs["']?\s*(#.*)?$/m;
    return candidates.find(f => fs.existsSync(f) && fs.statSync(f).isFile() && release.test(fs.readFileSync(f, "utf8")));
}

function resolveProvisionConfigsMode(setting: InfrastructureArgs["provisionConfigs"], layout: RepositoryLayout,
    problems: ArgProblem[]): ProvisionConfigsArgs | undefined {
    if (setting === false) {
        return undefined;
    }
    const chart = provisionConfigsChartRelease(layout);
    const detected = detectProvisionConfigs(layout);
    const base = { namespace: layout.namespace, workingDirectory: layout.workingDirectory };
    if (setting === undefined) {
        // Chart mode: the repository still deploys its own provision-configs release.
        if (chart !== undefined || Object.keys(detected).length === 0) {
            return undefined;
        }
        return { ...base, ...detected };
    }
    if (chart !== undefined && setting.allowChartRelease !== true) {
        problems.push(problem("provisionConfigs", `would create the namespace Secret, ConfigMap and rclone-config Secret ` +
            `that the provision-configs release in ${chart} also renders. Remove that release (ProvisionConfigs replaces it), ` +
            `set \`provisionConfigs: false\` to keep the chart, or \`provisionConfigs.allowChartRelease: true\` ` +
            `if the chart no longer renders these objects`));
        return undefined;
    }
    const { allowChartRelease: _ignored, ...explicit } = setting;
    const merged: Record<string, unknown> = { ...detected };
    for (const pair of SOURCE_PAIRS) {
        if (pair.some(key => explicit[key] !== undefined)) {
            pair.forEach(key => delete merged[key]);
        }
    }
    return { ...base, ...merged, ...explicit };
}

/**
 * The Command environment shared by every phase: the input fingerprint (one variable
 * per group, secret files' digests as secrets), the kubeconfig as a secret, and the
 * user's variables.
 */
export function phaseEnvironment(layout: RepositoryLayout, fingerprint: readonly FingerprintGroup[],
    programDirectory: string, args: Pick<InfrastructureArgs, "kubeconfig" | "environment">,
): Record<string, pulumi.Input<string>> {
    const environment: Record<string, pulumi.Input<string>> = { ...(args.environment ?? {}) };
    for (const [key, { value, secret }] of fingerprintEntries(fingerprint)) {
        environment[key] = secret ? pulumi.secret(value) : value;
    }
    if (args.kubeconfig !== undefined) {
        environment.KAPTAIN_KUBECONFIG = pulumi.secret(pulumi.output(args.kubeconfig).apply(k =>
            kubeconfigForScript(k, programDirectory, layout.namespaceDirectory)));
    }
    return environment;
}

/**
 * Kubeconfig content passes as is. A relative path is given relative to the program's
 * directory, but the script runs in the namespace directory: rebase it, keeping it
 * relative so that two clones of the repository give the same inputs.
 */
export function kubeconfigForScript(value: string, programDirectory: string, namespaceDirectory: string): string {
    const isContent = value.includes("\n") || value.startsWith("apiVersion:") || value.startsWith("{");
    if (isContent || path.isAbsolute(value) || value.startsWith("~")) {
        return value;
    }
    return path.relative(namespaceDirectory, path.resolve(programDirectory, value)) || ".";
}

/**
 * A kaptain Helmfile repository deployed for one namespace: the config, install and
 * provision phases as `command:local:Command` resources, run in that order, after
 * everything the component depends on.
 */
export class Infrastructure extends pulumi.ComponentResource {
    /** The namespace deployed into. */
    public readonly namespace: pulumi.Output<string>;
    /** The enabled phases by name; a disabled phase is undefined. */
    public readonly phases: { readonly [P in PhaseName]?: Phase };
    /** The change-detection fingerprint: one digest per group of input files. */
    public readonly fingerprint: pulumi.Output<FingerprintGroup[]>;
    /** The native provision-configs objects, when enabled. */
    public readonly provisionConfigs?: ProvisionConfigs;

    constructor(name: string, args: InfrastructureArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("kaptain:index:Infrastructure", name, {}, opts);
        const programDirectory = process.cwd();
        const resolved = resolveInfrastructure(args, programDirectory);
        const built = buildInfrastructure(name, this, args, resolved, programDirectory, opts);

        this.namespace = pulumi.output(resolved.layout.namespace);
        this.phases = built.phases;
        this.fingerprint = pulumi.output(built.fingerprint);
        this.provisionConfigs = built.provisionConfigs;
        this.registerOutputs({
            namespace: this.namespace,
            phases: this.phases,
            fingerprint: this.fingerprint,
            provisionConfigs: this.provisionConfigs,
        });
    }
}

/** Creates the children of an Infrastructure: one Command per enabled phase, chained. */
export function buildInfrastructure(name: string, parent: pulumi.Resource, args: InfrastructureArgs,
    resolved: ResolvedInfrastructure, programDirectory: string, opts: pulumi.ComponentResourceOptions,
): { phases: { [P in PhaseName]?: Phase }; fingerprint: FingerprintGroup[]; provisionConfigs?: ProvisionConfigs } {
    const { layout } = resolved;
    const provisionConfigs = resolved.provisionConfigs === undefined ? undefined
        : new ProvisionConfigs(`${name}-provision-configs`, resolved.provisionConfigs, { parent, dependsOn: opts.dependsOn });
    const fingerprint = fingerprintRepository({
        workingDirectory: layout.workingDirectory,
        namespace: layout.namespace,
        exclude: args.fingerprintExclude,
    });
    const environment = phaseEnvironment(layout, fingerprint, programDirectory, args);
    const helmfile = args.helmfile ?? {};

    const phases: { [P in PhaseName]?: Phase } = {};
    let previous: pulumi.Resource | undefined = provisionConfigs;
    for (const { name: phase, options } of resolved.phases) {
        const created = createPhaseCommand(name, {
            phase,
            namespace: layout.namespace,
            commandDirectory: layout.commandDirectory,
            workingFromNamespace: layout.workingFromNamespace,
            hooksFile: layout.hooksFile,
            hookTools: resolved.hookTools,
            environment,
            helmfile: {
                binary: helmfile.binary ?? "helmfile",
                environment: helmfile.environment,
                file: layout.helmfileFile,
                kubeContext: helmfile.kubeContext,
                selectors: options.selectors ?? defaultSelectors(phase),
                concurrency: options.concurrency ?? helmfile.concurrency ?? 4,
                extraArgs: helmfile.extraArgs ?? [],
                syncArgs: options.syncArgs ?? [],
            },
        }, {
            parent,
            dependsOn: withDependency(opts.dependsOn, previous),
        });
        phases[phase] = created;
        previous = created.command;
    }
    return { phases, fingerprint, provisionConfigs };
}

/**
 * Children do not inherit their component's `dependsOn`: pass it on, plus the previous
 * step of the chain.
 */
export function withDependency(dependsOn: pulumi.ComponentResourceOptions["dependsOn"],
    extra: pulumi.Resource | undefined): pulumi.Input<pulumi.Input<pulumi.Resource>[]> {
    const extras = extra === undefined ? [] : [extra];
    if (dependsOn === undefined) {
        return extras;
    }
    return pulumi.output(dependsOn as pulumi.Input<pulumi.Input<pulumi.Resource>[] | pulumi.Resource>)
        .apply(d => [...(Array.isArray(d) ? d : [d]), ...extras]) as pulumi.Input<pulumi.Input<pulumi.Resource>[]>;
}
