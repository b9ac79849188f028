import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { DEFAULTS } from "./defaults";
import { ArgProblem, problem, throwIfProblems } from "./errors";
import * as k8s from "@pulumi/kubernetes";
import { FingerprintError, FingerprintGroup, fingerprintEntries, fingerprintRepository } from "./fingerprint";
import { clusterProvider, kubeconfigForScript } from "./kubeconfig";
import { namespaceProblem, RepositoryLayout, resolveLayout } from "./layout";
import { createPhaseCommand, Phase } from "./phase";
import { isPhaseName, PHASE_ORDER, PHASES, PhaseName } from "./phases";
import { namespaceResource, ProvisionConfigs, ProvisionConfigsArgs, SOURCE_PAIRS } from "./provision-configs";
import { toolsUsedByHooks } from "./script/helpers";
import { HELMFILE_STRATEGIES, HelmfileStrategy } from "./script/helmfile";
import { PHASE_LOGGING, PhaseLogging } from "./script/phase-script";
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
     * How the phases deploy: `apply` upgrades only the releases whose rendered manifests
     * differ from the cluster (`helmfile apply`; needs the helm-diff plugin), `sync`
     * upgrades every selected release, as kaptain does.
     * @default "apply"
     */
    readonly strategy?: HelmfileStrategy;
    /**
     * `--concurrency` of `helmfile sync` / `apply`; 0 passes no flag. kaptain's `KAPTAIN_HELMFILE_CONCURRENCY`.
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
     * How this phase deploys: `apply` (changed releases only) or `sync` (every release).
     * @default `helmfile.strategy`
     */
    readonly strategy?: HelmfileStrategy;
    /**
     * `--concurrency` for this phase's sync / apply.
     * @default `helmfile.concurrency`
     */
    readonly concurrency?: pulumi.Input<number>;
    /**
     * Flags placed after `sync` / `apply` (for example `["--wait"]`).
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

/** The arguments of an {@link Infrastructure}; `infrastructureArgsFromConfig` reads them from stack config. */
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
    /** Which phases run, each `true`, `false` or its options. @default `{ config: true, install: true, provision: false }` (provision is optional in kaptain) */
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
    /**
     * Create the Namespace before the first phase, as a Pulumi resource. Off, the config
     * phase's helmfile creates it (helmfile's default, as with kaptain) and the
     * provision-configs objects follow that phase. Either way, deleting the component
     * leaves the Namespace in the cluster unless `deleteNamespace` is set.
     * @default false
     */
    readonly createNamespace?: boolean;
    /**
     * With `createNamespace`: delete the Namespace, and everything still in it, when the
     * component is deleted (`pulumi destroy`, `createNamespace` turned off, a rename
     * without `aliases`). Off, Pulumi only forgets it.
     * @default false
     */
    readonly deleteNamespace?: boolean;
    /**
     * Protect the phase Commands (Pulumi's `protect`): deleting one, which runs
     * `helmfile destroy`, then fails until protection is lifted. For production stacks.
     * @default false
     */
    readonly protect?: boolean;
    /**
     * What of the hooks' and helmfile's output a phase lets through to Pulumi's log and,
     * on failure, to its error message: `all`, `stderr` (helmfile's progress and errors;
     * helm's stdout, release notes included, is dropped) or `steps` (only the phase's
     * step lines). The output kept in the state is encrypted whatever this says.
     * @default "stderr"
     */
    readonly logging?: PhaseLogging;
}

/** ProvisionConfigs options inside an Infrastructure: namespace and directories come from it. */
export type InfrastructureProvisionConfigs = Omit<
    ProvisionConfigsArgs,
    "namespace" | "workingDirectory" | "createNamespace" | "deleteNamespace"
> & {
    /**
     * Keep a `provision-configs` release in the helmfile next to the component. Only for a
     * chart that no longer renders the namespace Secret, ConfigMap or rclone-config Secret:
     * otherwise both would own the same objects.
     * @default false
     */
    readonly allowChartRelease?: boolean;
};

/** One enabled phase, every default applied. */
export interface ResolvedPhase {
    readonly name: PhaseName;
    readonly strategy: HelmfileStrategy;
    readonly selectors: readonly string[];
    readonly concurrency: pulumi.Input<number>;
    readonly syncArgs: pulumi.Input<pulumi.Input<string>[]>;
}

/** How helmfile is called, every default applied (`file` is in the layout). */
export interface ResolvedHelmfile {
    readonly binary: pulumi.Input<string>;
    readonly environment?: pulumi.Input<string>;
    readonly kubeContext?: pulumi.Input<string>;
    readonly extraArgs: pulumi.Input<pulumi.Input<string>[]>;
}

/** The arguments after defaults and construction-time checks: nothing left to default. */
export interface ResolvedInfrastructure {
    readonly layout: RepositoryLayout;
    readonly phases: readonly ResolvedPhase[];
    readonly helmfile: ResolvedHelmfile;
    readonly hookTools: readonly string[];
    /** The ProvisionConfigs to create, or undefined for none. */
    readonly provisionConfigs?: ProvisionConfigsArgs;
    readonly createNamespace: boolean;
    readonly deleteNamespace: boolean;
    readonly protect: boolean;
    readonly logging: PhaseLogging;
    /** Things that deploy, but maybe not as the user meant: logged as Pulumi warnings. */
    readonly warnings: readonly string[];
    /** The change-detection fingerprint of the namespace's input files. */
    readonly fingerprint: FingerprintGroup[];
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

    const phaseSettings: PhasesArgs = { ...DEFAULTS.phases, ...(args.phases ?? {}) };
    const helmfileArgs = args.helmfile ?? {};
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
            problems.push(
                problem(`phases.${name}`, `must be true, false or an options object, got ${JSON.stringify(setting)}`),
            );
            return [];
        }
        const options: PhaseOptions = setting === true ? {} : setting;
        if (
            options.selectors !== undefined &&
            (!Array.isArray(options.selectors) ||
                options.selectors.length === 0 ||
                options.selectors.some(s => typeof s !== "string" || !/^[^=\s,]+!?=[^=\s,]*$/.test(s)))
        ) {
            problems.push(
                problem(
                    `phases.${name}.selectors`,
                    `must be a non-empty list of label selectors like "action=${name}", got ${JSON.stringify(options.selectors)}`,
                ),
            );
        }
        return [
            {
                name,
                strategy: options.strategy ?? helmfileArgs.strategy ?? DEFAULTS.helmfile.strategy,
                selectors: options.selectors ?? PHASES[name].selectors,
                concurrency: options.concurrency ?? helmfileArgs.concurrency ?? DEFAULTS.helmfile.concurrency,
                syncArgs: options.syncArgs ?? [],
            },
        ];
    });

    for (const key of Object.keys(args.environment ?? {})) {
        if (!ENV_NAME.test(key)) {
            problems.push(problem(`environment.${key}`, "is not a valid environment variable name"));
        } else if (key.startsWith("KAPTAIN_")) {
            problems.push(problem(`environment.${key}`, "uses the reserved prefix KAPTAIN_ (set by pulumi-kaptain)"));
        }
    }

    for (const key of ["createNamespace", "deleteNamespace", "protect"] as const) {
        if (args[key] !== undefined && typeof args[key] !== "boolean") {
            problems.push(problem(key, `must be true or false, got ${JSON.stringify(args[key])}`));
        }
    }
    const strategies: Array<[string, HelmfileStrategy | undefined]> = [
        ["helmfile.strategy", args.helmfile?.strategy],
        ...PHASE_ORDER.map((p): [string, HelmfileStrategy | undefined] => {
            const setting = args.phases?.[p];
            return [
                `phases.${p}.strategy`,
                typeof setting === "object" && setting !== null ? setting.strategy : undefined,
            ];
        }),
    ];
    for (const [key, strategy] of strategies) {
        if (strategy !== undefined && !HELMFILE_STRATEGIES.includes(strategy)) {
            problems.push(
                problem(key, `must be one of ${HELMFILE_STRATEGIES.join(", ")}, got ${JSON.stringify(strategy)}`),
            );
        }
    }
    if (args.logging !== undefined && !PHASE_LOGGING.includes(args.logging)) {
        problems.push(
            problem("logging", `must be one of ${PHASE_LOGGING.join(", ")}, got ${JSON.stringify(args.logging)}`),
        );
    }
    if (args.deleteNamespace === true && args.createNamespace !== true) {
        problems.push(
            problem(
                "deleteNamespace",
                "needs `createNamespace: true`: only a Namespace this component created can be deleted by it",
            ),
        );
    }
    for (const key of ["createNamespace", "deleteNamespace"]) {
        if (
            typeof args.provisionConfigs === "object" &&
            args.provisionConfigs !== null &&
            key in args.provisionConfigs
        ) {
            problems.push(
                problem(`provisionConfigs.${key}`, `is an argument of the Infrastructure itself: set \`${key}\``),
            );
        }
    }

    const { layout, problems: layoutProblems } = resolveLayout({
        namespace: args.namespace,
        workingDirectory: args.workingDirectory ?? DEFAULTS.workingDirectory,
        programDirectory,
        hooks: args.hooks,
        helmfileFile: args.helmfile?.file,
    });
    problems.push(...layoutProblems);
    throwIfProblems("Infrastructure", problems);

    const hooksText =
        layout!.hooksFile !== undefined
            ? fs.readFileSync(path.join(layout!.namespaceDirectory, layout!.hooksFile), "utf8")
            : "";
    const provisionConfigs = resolveProvisionConfigsMode(args.provisionConfigs, layout!, problems);
    let fingerprint: FingerprintGroup[] = [];
    try {
        fingerprint = fingerprintRepository({
            workingDirectory: layout!.workingDirectory,
            namespace: layout!.namespace,
            exclude: args.fingerprintExclude,
        });
    } catch (err) {
        if (!(err instanceof FingerprintError)) {
            throw err;
        }
        problems.push(
            problem(
                "workingDirectory",
                `cannot be read for change detection: ${err.message} ` +
                    `(in ${layout!.workingDirectory}; \`fingerprintExclude\` can leave a path out)`,
            ),
        );
    }
    throwIfProblems("Infrastructure", problems);
    return {
        layout: layout!,
        phases,
        hookTools: toolsUsedByHooks(hooksText),
        provisionConfigs,
        helmfile: {
            binary: helmfileArgs.binary ?? DEFAULTS.helmfile.binary,
            environment: helmfileArgs.environment,
            kubeContext: helmfileArgs.kubeContext,
            extraArgs: helmfileArgs.extraArgs ?? [...DEFAULTS.helmfile.extraArgs],
        },
        createNamespace: args.createNamespace ?? DEFAULTS.createNamespace,
        deleteNamespace: args.deleteNamespace ?? DEFAULTS.deleteNamespace,
        protect: args.protect ?? DEFAULTS.protect,
        logging: args.logging ?? DEFAULTS.logging,
        warnings: layoutWarnings(layout!),
        fingerprint,
    };
}

/**
 * kaptain falls back to the repository root when `namespaces/<ns>` does not exist; its
 * users see the folders in their shell, a Pulumi user sees nothing. A typo in the
 * namespace would deploy the root's releases without the namespace's overrides.
 */
export function layoutWarnings(layout: RepositoryLayout): string[] {
    if (layout.namespaceDirectory !== layout.workingDirectory) {
        return [];
    }
    const folder = path.join(layout.workingDirectory, "namespaces");
    let existing: string[];
    try {
        existing = fs
            .readdirSync(folder, { withFileTypes: true })
            .filter(e => e.isDirectory())
            .map(e => e.name)
            .sort();
    } catch {
        return [];
    }
    return [
        `namespace '${layout.namespace}' has no folder namespaces/${layout.namespace}/ in ${layout.workingDirectory}: ` +
            `deploying the repository root without any namespace overrides or hooks (kaptain's rule). ` +
            `Namespaces with a folder: ${existing.join(", ") || "none"}`,
    ];
}

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
        found.rcloneConfigFile = path.relative(
            layout.workingDirectory,
            path.join(layout.namespaceDirectory, "rclone.conf"),
        );
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
    return candidates.find(
        f => fs.existsSync(f) && fs.statSync(f).isFile() && release.test(fs.readFileSync(f, "utf8")),
    );
}

function resolveProvisionConfigsMode(
    setting: InfrastructureArgs["provisionConfigs"],
    layout: RepositoryLayout,
    problems: ArgProblem[],
): ProvisionConfigsArgs | undefined {
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
        problems.push(
            problem(
                "provisionConfigs",
                `would create the namespace Secret, ConfigMap and rclone-config Secret ` +
                    `that the provision-configs release in ${chart} also renders. Remove that release (ProvisionConfigs replaces it), ` +
                    `set \`provisionConfigs: false\` to keep the chart, or \`provisionConfigs.allowChartRelease: true\` ` +
                    `if the chart no longer renders these objects`,
            ),
        );
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
export function phaseEnvironment(
    layout: RepositoryLayout,
    fingerprint: readonly FingerprintGroup[],
    programDirectory: string,
    args: Pick<InfrastructureArgs, "kubeconfig" | "environment">,
): Record<string, pulumi.Input<string>> {
    const environment: Record<string, pulumi.Input<string>> = { ...(args.environment ?? {}) };
    for (const [key, { value, secret }] of fingerprintEntries(fingerprint)) {
        environment[key] = secret ? pulumi.secret(value) : value;
    }
    if (args.kubeconfig !== undefined) {
        environment.KAPTAIN_KUBECONFIG = pulumi.secret(
            pulumi
                .output(args.kubeconfig)
                .apply(k => kubeconfigForScript(k, programDirectory, layout.namespaceDirectory)),
        );
    }
    return environment;
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
    public readonly phases: PhaseCommands;
    /** The change-detection fingerprint: one digest per group of input files. */
    public readonly fingerprint: pulumi.Output<FingerprintGroup[]>;
    /** The native provision-configs objects, when enabled. */
    public readonly provisionConfigs?: ProvisionConfigs;
    /** The Namespace, when `createNamespace` is set. */
    public readonly namespaceObject?: k8s.core.v1.Namespace;
    /** The Kubernetes provider built from `kubeconfig` / `helmfile.kubeContext`, when one was. */
    public readonly kubernetesProvider?: k8s.Provider;
    /**
     * kaptain's diff action of each enabled phase, as a bash script to run in the phase's
     * directory with its environment: changes nothing, prints helmfile's diff
     * (`kaptain synth --live` runs them).
     */
    public readonly diffScripts: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: InfrastructureArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super("kaptain:index:Infrastructure", name, {}, opts);
        const programDirectory = process.cwd();
        const resolved = resolveInfrastructure(args, programDirectory);
        for (const warning of resolved.warnings) {
            void pulumi.log.warn(warning, this);
        }
        const built = buildInfrastructure(name, this, args, resolved, programDirectory, opts);

        this.namespace = pulumi.output(resolved.layout.namespace);
        this.phases = built.phases;
        // A secret file's digest stays out of the public output: a guessable secret could be
        // confirmed against it. (The phases carry it as a secret input.)
        this.fingerprint = pulumi.output(built.fingerprint.map(g => (g.secret ? { ...g, digest: "[secret]" } : g)));
        this.provisionConfigs = built.provisionConfigs;
        this.namespaceObject = built.namespaceObject;
        this.kubernetesProvider = built.kubernetesProvider;
        this.diffScripts = pulumi
            .all(Object.values(built.phases).map((p: Phase) => pulumi.all([p.name, p.diffScript])))
            .apply(entries => Object.fromEntries(entries) as Record<string, string>);
        this.registerOutputs({
            diffScripts: this.diffScripts,
            namespace: this.namespace,
            phases: this.phases,
            fingerprint: this.fingerprint,
            provisionConfigs: this.provisionConfigs,
            namespaceObject: this.namespaceObject,
        });
    }
}

/** The phases of an Infrastructure, each undefined when it is disabled. */
export interface PhaseCommands {
    /** The config phase: releases labelled `action: config`. */
    readonly config?: Phase;
    /** The install phase: releases labelled `action: install`. */
    readonly install?: Phase;
    /** The provision phase: releases labelled `action: provision`. */
    readonly provision?: Phase;
}

/** What {@link buildInfrastructure} created. */
export interface BuiltInfrastructure {
    readonly phases: PhaseCommands;
    readonly fingerprint: FingerprintGroup[];
    readonly provisionConfigs?: ProvisionConfigs;
    readonly namespaceObject?: k8s.core.v1.Namespace;
    readonly kubernetesProvider?: k8s.Provider;
}

/**
 * Creates the children of an Infrastructure, in deploy order: the Namespace (when
 * created here), the config phase (whose helmfile creates the namespace otherwise),
 * the provision-configs objects, then install and provision. Each step depends on the
 * one before and on the component's `dependsOn`; deletes run in reverse.
 */
export function buildInfrastructure(
    name: string,
    parent: pulumi.Resource,
    args: InfrastructureArgs,
    resolved: ResolvedInfrastructure,
    programDirectory: string,
    opts: pulumi.ComponentResourceOptions,
): BuiltInfrastructure {
    const { layout } = resolved;
    // One cluster: the native objects use the kubeconfig and context the scripts get.
    const kubernetesProvider = clusterProvider(
        name,
        parent,
        { kubeconfig: args.kubeconfig, context: resolved.helmfile.kubeContext },
        programDirectory,
    );
    const k8sOptions = kubernetesProvider !== undefined ? { provider: kubernetesProvider } : {};

    let previous: pulumi.Resource | undefined;
    const namespaceObject = resolved.createNamespace
        ? namespaceResource(`${name}-namespace`, layout.namespace, resolved.deleteNamespace, {
              parent,
              dependsOn: opts.dependsOn,
              ...k8sOptions,
              // pulumi-kaptain 0.1.0 created it as a child of the ProvisionConfigs: the same
              // Namespace, which must not be deleted and re-created on upgrade.
              aliases: [
                  {
                      name: `${name}-provision-configs-namespace`,
                      parent: pulumi.createUrn(`${name}-provision-configs`, "kaptain:index:ProvisionConfigs", parent),
                  },
              ],
          })
        : undefined;
    previous = namespaceObject;

    const { fingerprint } = resolved;
    const environment = phaseEnvironment(layout, fingerprint, programDirectory, args);

    let provisionConfigs: ProvisionConfigs | undefined;
    const addProvisionConfigs = () => {
        if (resolved.provisionConfigs === undefined) {
            return;
        }
        provisionConfigs = new ProvisionConfigs(`${name}-provision-configs`, resolved.provisionConfigs, {
            parent,
            dependsOn: withDependency(opts.dependsOn, previous),
            ...(kubernetesProvider !== undefined ? { providers: [kubernetesProvider] } : {}),
        });
        previous = provisionConfigs;
    };

    const phases: { [P in PhaseName]?: Phase } = {};
    if (!resolved.phases.some(p => p.name === "config")) {
        addProvisionConfigs();
    }
    for (const phase of resolved.phases) {
        const created = createPhaseCommand(
            name,
            {
                phase: phase.name,
                namespace: layout.namespace,
                commandDirectory: layout.commandDirectory,
                workingFromNamespace: layout.workingFromNamespace,
                hooksFile: layout.hooksFile,
                hookTools: resolved.hookTools,
                environment,
                logging: resolved.logging,
                helmfile: {
                    ...resolved.helmfile,
                    file: layout.helmfileFile,
                    selectors: phase.selectors,
                    strategy: phase.strategy,
                    concurrency: phase.concurrency,
                    syncArgs: phase.syncArgs,
                },
            },
            {
                parent,
                dependsOn: withDependency(opts.dependsOn, previous),
                ...(resolved.protect ? { protect: true } : {}),
            },
        );
        phases[phase.name] = created;
        previous = created.command;
        if (phase.name === "config") {
            addProvisionConfigs();
        }
    }
    return { phases, fingerprint, provisionConfigs, namespaceObject, kubernetesProvider };
}

/**
 * Children do not inherit their component's `dependsOn`: pass it on, plus the previous
 * step of the chain.
 */
export function withDependency(
    dependsOn: pulumi.ComponentResourceOptions["dependsOn"],
    extra: pulumi.Resource | undefined,
): pulumi.Input<pulumi.Input<pulumi.Resource>[]> {
    const extras = extra === undefined ? [] : [extra];
    if (dependsOn === undefined) {
        return extras;
    }
    return pulumi
        .output(dependsOn as pulumi.Input<pulumi.Input<pulumi.Resource>[] | pulumi.Resource>)
        .apply(d => [...(Array.isArray(d) ? d : [d]), ...extras]) as pulumi.Input<pulumi.Input<pulumi.Resource>[]>;
}
