// An Infrastructure's arguments resolved: defaults applied once, plain values checked, the repository read.
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { unknownInfrastructureKeys } from "./arg-keys";
import { DEFAULTS } from "./defaults";
import { ArgProblem, problem, throwIfProblems } from "./errors";
import { FingerprintError, FingerprintGroup, fingerprintRepository } from "./fingerprint";
import { helmfileFindings } from "./helmfile-checks";
import { readHooksFile } from "./hooks-file";
import { InfrastructureArgs, PhaseOptions, PhasesArgs } from "./infrastructure-args";
import {
    DEFAULT_HELMFILES,
    includesRoot,
    namespaceProblem,
    phaseInputsOf,
    RepositoryLayout,
    resolveLayout,
    runHelmfile,
} from "./layout";
import { PHASE_ORDER, PHASES, PhaseName } from "./phases";
import { ProvisionConfigsArgs, SOURCE_PAIRS } from "./provision-configs";
import { missingSecretWarnings, provisionConfigsProblems } from "./provision-configs-checks";
import { toolsUsedByHooks } from "./script/helpers";
import { HELMFILE_STRATEGIES, HelmfileStrategy } from "./script/helmfile";
import { isLockTimeout, LOCK_TIMEOUT_VARIABLE, PHASE_LOGGING, PhaseLogging } from "./script/phase-script";
import { readRegularFile } from "./regular-file";
import { NoReleaseInputs, readReleaseInputs, ReleaseInputs } from "./release-inputs";
import { parseValues } from "./values";

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
    /** Whether the phases diff against the cluster during preview and up. */
    readonly liveDiff: boolean;
    /** Things that deploy, but maybe not as the user meant: logged as Pulumi warnings. */
    readonly warnings: readonly string[];
    /** What could not be checked, and why: logged as Pulumi info. */
    readonly notes: readonly string[];
    /** The change-detection fingerprint of the namespace's input files. */
    readonly fingerprint: FingerprintGroup[];
    /** Which releases alone read which files; undefined when that could not be known (every file shared). */
    readonly releaseInputs?: ReleaseInputs;
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
    problems.push(...unknownInfrastructureKeys(args));
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
        } else if (key === LOCK_TIMEOUT_VARIABLE) {
            const value: unknown = args.environment?.[key];
            if (typeof value === "string" && !isLockTimeout(value)) {
                problems.push(
                    problem(`environment.${key}`, `must be a whole number of seconds, got ${JSON.stringify(value)}`),
                );
            }
        }
    }

    for (const key of ["createNamespace", "deleteNamespace", "protect", "liveDiff"] as const) {
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

    const { layout, problems: layoutProblems } = resolveLayout({
        namespace: args.namespace,
        workingDirectory: args.workingDirectory ?? DEFAULTS.workingDirectory,
        programDirectory,
        hooks: args.hooks,
        helmfileFile: args.helmfile?.file,
    });
    problems.push(...layoutProblems);
    throwIfProblems("Infrastructure", problems);

    const hooksPath =
        layout!.hooksFile !== undefined ? path.join(layout!.namespaceDirectory, layout!.hooksFile) : undefined;
    const hooks = hooksPath !== undefined ? readHooksFile(hooksPath) : { text: "", problems: [] };
    problems.push(...hooks.problems);
    const provisionConfigs = resolveProvisionConfigsMode(args.provisionConfigs, layout!, problems);
    problems.push(...provisionConfigsProblems(provisionConfigs, programDirectory));
    const attribution =
        phases.length > 0 ? attributeReleaseInputs(layout!, hooks.text, args) : { reason: "no phase runs" };
    // When it cannot be known, every file is shared: an edit re-runs the phases in full, as
    // before. (The preview shows it: no KAPTAIN_RELEASE_* entry.)
    const releaseInputs = "owners" in attribution ? attribution : undefined;
    let fingerprint: FingerprintGroup[] = [];
    try {
        fingerprint = fingerprintRepository({
            workingDirectory: layout!.workingDirectory,
            namespace: layout!.namespace,
            exclude: args.fingerprintExclude,
            phaseInputs: phaseInputsOf(layout!),
            owners: releaseInputs?.owners,
        });
    } catch (err) {
        if (!(err instanceof FingerprintError)) {
            throw err;
        }
        const where =
            err.input === undefined
                ? `in ${layout!.workingDirectory}; \`fingerprintExclude\` can leave a path out`
                : `in ${err.input.folder ?? err.input.file}, read by the phases`;
        problems.push(
            problem(
                err.input?.argument ?? "workingDirectory",
                `cannot be read for change detection: ${err.message} (${where})`,
            ),
        );
    }
    throwIfProblems("Infrastructure", problems);
    const helmfile = helmfileFindings(layout!, phases);
    const provisionConfigsMode =
        args.provisionConfigs === false
            ? "off"
            : provisionConfigs === undefined && provisionConfigsChartRelease(layout!) !== undefined
              ? "chart"
              : "component";
    return {
        layout: layout!,
        phases,
        hookTools: toolsUsedByHooks(hooks.text),
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
        liveDiff: args.liveDiff ?? DEFAULTS.liveDiff,
        warnings: [
            ...layoutWarnings(layout!),
            ...helmfile.warnings,
            ...missingSecretWarnings(layout!, provisionConfigs, provisionConfigsMode),
        ],
        notes: helmfile.notes,
        fingerprint,
        ...(releaseInputs !== undefined ? { releaseInputs } : {}),
    };
}

/**
 * Which releases alone read which files (see readReleaseInputs), with helmfile's plain
 * arguments: a binary, flag or variable that is an Output is only known later, and then
 * every file is shared.
 */
function attributeReleaseInputs(
    layout: RepositoryLayout,
    hooks: string,
    args: InfrastructureArgs,
): ReleaseInputs | NoReleaseInputs {
    const h = args.helmfile ?? {};
    const plain = (v: unknown): v is string => typeof v === "string";
    const binary = h.binary ?? DEFAULTS.helmfile.binary;
    const extraArgs = h.extraArgs ?? DEFAULTS.helmfile.extraArgs;
    const environment = args.environment ?? {};
    if (
        !plain(binary) ||
        (h.environment !== undefined && !plain(h.environment)) ||
        (h.kubeContext !== undefined && !plain(h.kubeContext)) ||
        !Array.isArray(extraArgs) ||
        !extraArgs.every(plain) ||
        !Object.values(environment).every(plain)
    ) {
        return { reason: "a helmfile argument or an `environment` variable is not a plain value" };
    }
    return readReleaseInputs({
        layout,
        hooks,
        binary,
        file: layout.helmfileFile,
        args: [
            ...(h.environment !== undefined ? ["--environment", h.environment as string] : []),
            ...(extraArgs as string[]),
        ],
        environment: environment as Record<string, string>,
    });
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
            `deploying the repository root as it is, without the overrides a namespace folder holds ` +
            `(kaptain's rule; ${layout.hooksFile !== undefined ? `the root's ${layout.hooksFile} runs` : "no hooks file runs"}). ` +
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
        return "configKeys" in parseValues(readRegularFile(file, "utf8"), file);
    } catch {
        return true; // let ProvisionConfigs report the file's error with its line
    }
}

/**
 * The helmfile that declares a `provision-configs` release, if any: read from the helmfile
 * the phases run and, for a namespace helmfile, the repository root's one it commonly
 * includes; never from a default helmfile helmfile itself does not read.
 */
export function provisionConfigsChartRelease(layout: RepositoryLayout): string | undefined {
    const run = runHelmfile(layout);
    const root = includesRoot(layout)
        ? DEFAULT_HELMFILES.map(f => path.join(layout.workingDirectory, f)).find(f => fs.existsSync(f))
        : undefined;
    const candidates = [run, root].filter((f): f is string => f !== undefined);
    const release = /^\s*-?\s*name:\s*["']?provision-configs["']?\s*(#.*)?$/m;
    return candidates.find(
        f => fs.existsSync(f) && fs.statSync(f).isFile() && release.test(readRegularFile(f, "utf8")),
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
    // Taking the objects over from the chart means the release still renders them, for now.
    if (chart !== undefined && setting.allowChartRelease !== true && setting.adoptFromChart !== true) {
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
