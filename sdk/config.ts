import * as pulumi from "@pulumi/pulumi";
import { didYouMean } from "./arg-keys";
import { ArgProblem, throwIfProblems } from "./errors";
import { HelmfileOptions, InfrastructureArgs, InfrastructureProvisionConfigs, PhasesArgs } from "./infrastructure-args";
import { PHASE_LOGGING, PhaseLogging } from "./script/phase-script";

/** The config namespace read by {@link infrastructureArgsFromConfig}: keys are `kaptain:<key>`. */
export const CONFIG_NAMESPACE = "kaptain";

type Kind = "string" | "boolean" | "integer" | "string[]" | "phase";
type Shape = Readonly<Record<string, Kind>>;

/** Every key a stack may set, with its type; nested objects list their fields. */
export const CONFIG_KEYS = {
    namespace: "string",
    workingDirectory: "string",
    kubeconfig: "string",
    hooks: "string|false",
    helmfile: {
        binary: "string",
        strategy: "string",
        environment: "string",
        file: "string",
        concurrency: "integer",
        kubeContext: "string",
        extraArgs: "string[]",
    },
    phases: { config: "phase", install: "phase", provision: "phase" },
    environment: "map",
    fingerprintExclude: "string[]",
    createNamespace: "boolean",
    deleteNamespace: "boolean",
    protect: "boolean",
    logging: "all|stderr|steps",
    liveDiff: "boolean",
    provisionConfigs: {
        enabled: "boolean",
        secretFile: "string",
        secretKey: "string",
        configKeysFile: "string",
        rcloneConfigFile: "string",
        allowChartRelease: "boolean",
        adoptFromChart: "boolean",
        helmBinary: "string",
    },
    secret: "secret map",
    configKeys: "map",
} as const;

/** The keys that may be stored as secrets: each is handed on as a Pulumi secret. */
const SECRET_CAPABLE_KEYS: ReadonlySet<string> = new Set(["kubeconfig", "secret", "environment"]);

/** The options a phase takes instead of `true` (`kaptain:phases.install: {strategy: sync}`). */
const PHASE_OPTIONS: Shape = {
    strategy: "string",
    concurrency: "integer",
    syncArgs: "string[]",
    selectors: "string[]",
};

/**
 * Reads and checks the `kaptain:*` keys of the stack's config and returns the
 * Infrastructure's arguments. Every problem is reported at once, each with its key
 * and what was expected. `kaptain:kubeconfig` and `kaptain:secret` are read as secrets.
 */
export function infrastructureArgsFromConfig(
    config: pulumi.Config = new pulumi.Config(CONFIG_NAMESPACE),
): InfrastructureArgs {
    const problems: ArgProblem[] = [];
    const bad = (key: string, expected: string, got: unknown) =>
        problems.push({
            propertyPath: key,
            reason:
                `config \`${CONFIG_NAMESPACE}:${key}\` must be ${expected}, ` +
                (isSecretKey(`${prefix}${key.split(".")[0]}`)
                    ? "got another value (it is secret: not shown)"
                    : `got ${JSON.stringify(got)}`),
        });

    // Unknown keys first: a typo must not silently fall back to a default.
    const prefix = `${config.name}:`;
    for (const full of Object.keys(pulumi.runtime.allConfig())) {
        if (full.startsWith(prefix) && !(full.slice(prefix.length) in CONFIG_KEYS)) {
            problems.push({
                propertyPath: full.slice(prefix.length),
                reason:
                    `config \`${full}\` is not a pulumi-kaptain setting` +
                    didYouMean(full.slice(prefix.length), Object.keys(CONFIG_KEYS), CONFIG_NAMESPACE) +
                    `; known keys: ${Object.keys(CONFIG_KEYS).join(", ")}`,
            });
        }
    }

    // Only these keys may hold secrets: each reaches the deploy as a Pulumi secret. Any other
    // key is used as plain text (helmfile's arguments are command text, names are names), so
    // a secret there would be written out unencrypted: refused, its value never shown.
    const secretKeys = Object.keys(CONFIG_KEYS).filter(key => isSecretKey(`${prefix}${key}`));
    for (const key of secretKeys) {
        if (!SECRET_CAPABLE_KEYS.has(key)) {
            problems.push({
                propertyPath: key,
                reason:
                    `config \`${CONFIG_NAMESPACE}:${key}\` is stored as a secret, but pulumi-kaptain uses it as plain ` +
                    "text (command lines, names, the state): only kubeconfig, secret and environment may be secret. " +
                    "Pass a secret to helmfile through `kaptain:environment` and read it with `requiredEnv`",
            });
        }
    }
    const raw = (key: string): unknown => {
        if (secretKeys.includes(key.split(".")[0]) && !SECRET_CAPABLE_KEYS.has(key.split(".")[0])) {
            return undefined; // refused above; its value is not looked at
        }
        const text = config.get(key);
        if (text === undefined) {
            return undefined;
        }
        try {
            return JSON.parse(text);
        } catch {
            return text; // plain strings are not JSON
        }
    };
    const str = (key: string, value: unknown): string | undefined => {
        if (value === undefined) return undefined;
        if (typeof value !== "string" || value === "") {
            bad(key, "a non-empty string", value);
            return undefined;
        }
        return value;
    };
    const object = (key: string, shape: Shape | undefined): Record<string, unknown> | undefined => {
        const value = raw(key);
        if (value === undefined) return undefined;
        if (typeof value !== "object" || value === null || Array.isArray(value)) {
            bad(key, "an object", value);
            return undefined;
        }
        if (shape !== undefined) {
            checkFields(key, value as Record<string, unknown>, shape);
        }
        return value as Record<string, unknown>;
    };
    const checkFields = (key: string, value: Record<string, unknown>, shape: Shape): void => {
        for (const [field, v] of Object.entries(value)) {
            const kind = shape[field];
            if (kind === undefined) {
                problems.push({
                    propertyPath: `${key}.${field}`,
                    reason:
                        `config \`${CONFIG_NAMESPACE}:${key}.${field}\` is not a known field` +
                        didYouMean(field, Object.keys(shape)) +
                        `; known fields: ${Object.keys(shape).join(", ")}`,
                });
            } else if (kind === "phase" && typeof v === "object" && v !== null && !Array.isArray(v)) {
                checkFields(`${key}.${field}`, v as Record<string, unknown>, PHASE_OPTIONS);
            } else if (!matches(kind, v)) {
                bad(`${key}.${field}`, describeKind(kind), v);
            }
        }
    };

    const namespace = str("namespace", raw("namespace"));
    if (namespace === undefined && raw("namespace") === undefined) {
        problems.push({
            propertyPath: "namespace",
            reason:
                `config \`${CONFIG_NAMESPACE}:namespace\` is required: ` +
                "the Kubernetes namespace to deploy (`pulumi config set kaptain:namespace dev`)",
        });
    }
    const workingDirectory = str("workingDirectory", raw("workingDirectory"));

    const hooksRaw = raw("hooks");
    let hooks: string | false | undefined;
    if (hooksRaw === false || (typeof hooksRaw === "string" && hooksRaw !== "")) {
        hooks = hooksRaw;
    } else if (hooksRaw !== undefined) {
        bad("hooks", "a file name or false", hooksRaw);
    }

    const helmfile = object("helmfile", CONFIG_KEYS.helmfile) as HelmfileOptions | undefined;
    const phases = object("phases", CONFIG_KEYS.phases) as PhasesArgs | undefined;

    const environment = object("environment", undefined);
    // `pulumi config set --secret --path kaptain:environment.TOKEN …` makes the whole key
    // secret: every value is then handed on as a Pulumi secret, and never echoed.
    const secretEnvironment = isSecretKey(`${prefix}environment`);
    for (const [k, v] of Object.entries(environment ?? {})) {
        if (typeof v !== "string") {
            if (secretEnvironment) {
                problems.push({
                    propertyPath: `environment.${k}`,
                    reason: `config \`${CONFIG_NAMESPACE}:environment.${k}\` must be a string (its value is secret: not shown)`,
                });
            } else {
                bad(`environment.${k}`, "a string", v);
            }
        }
    }
    const fingerprintExclude = raw("fingerprintExclude");
    if (fingerprintExclude !== undefined && !matches("string[]", fingerprintExclude)) {
        bad("fingerprintExclude", "a list of relative paths", fingerprintExclude);
    }

    const flags: { -readonly [K in "createNamespace" | "deleteNamespace" | "protect" | "liveDiff"]?: boolean } = {};
    for (const key of ["createNamespace", "deleteNamespace", "protect", "liveDiff"] as const) {
        const value = raw(key);
        if (value !== undefined && typeof value !== "boolean") {
            bad(key, "true or false", value);
        } else if (value !== undefined) {
            flags[key] = value;
        }
    }
    const loggingRaw = raw("logging");
    let logging: PhaseLogging | undefined;
    if (loggingRaw !== undefined && !PHASE_LOGGING.includes(loggingRaw as PhaseLogging)) {
        bad("logging", `one of ${PHASE_LOGGING.join(", ")}`, loggingRaw);
    } else {
        logging = loggingRaw as PhaseLogging | undefined;
    }

    const pc = object("provisionConfigs", CONFIG_KEYS.provisionConfigs);
    const configKeys = object("configKeys", undefined);
    // Read as a secret only: config.get would warn, and its shape is checked once known.
    const hasSecret = `${prefix}secret` in pulumi.runtime.allConfig();

    throwIfProblems(`stack config (${CONFIG_NAMESPACE}:*)`, problems);

    let provisionConfigs: InfrastructureProvisionConfigs | false | undefined;
    if (pc?.enabled === false) {
        provisionConfigs = false;
    } else if (pc !== undefined || hasSecret || configKeys !== undefined) {
        const { enabled: _enabled, ...fields } = pc ?? {};
        provisionConfigs = {
            ...(fields as InfrastructureProvisionConfigs),
            ...(hasSecret ? { secret: secretMap(config) } : {}),
            ...(configKeys !== undefined ? { configKeys: configKeys as Record<string, string> } : {}),
        };
    }

    const kubeconfig = config.getSecret("kubeconfig");
    return {
        namespace: namespace!,
        ...(workingDirectory !== undefined ? { workingDirectory } : {}),
        ...(hooks !== undefined ? { hooks } : {}),
        ...(helmfile !== undefined ? { helmfile } : {}),
        ...(phases !== undefined ? { phases } : {}),
        ...(environment !== undefined
            ? {
                  environment: secretEnvironment
                      ? Object.fromEntries(Object.entries(environment).map(([k, v]) => [k, pulumi.secret(v as string)]))
                      : (environment as Record<string, string>),
              }
            : {}),
        ...(fingerprintExclude !== undefined ? { fingerprintExclude: fingerprintExclude as string[] } : {}),
        ...(kubeconfig !== undefined ? { kubeconfig } : {}),
        ...(provisionConfigs !== undefined ? { provisionConfigs } : {}),
        ...flags,
        ...(logging !== undefined ? { logging } : {}),
    };
}

/**
 * `kaptain:secret` as a secret map. Parsed here rather than with `requireSecretObject`,
 * whose error message quotes the value.
 */
function secretMap(config: pulumi.Config): pulumi.Output<Record<string, unknown>> {
    return config.requireSecret("secret").apply(text => {
        let parsed: unknown;
        try {
            parsed = JSON.parse(text);
        } catch {
            parsed = undefined;
        }
        if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
            throw new pulumi.RunError(
                `config \`${CONFIG_NAMESPACE}:secret\` must be a JSON object of the namespace Secret's values ` +
                    "(its value is secret: not shown)",
            );
        }
        return parsed as Record<string, unknown>;
    });
}

/** Whether the stack marks a config key secret (`pulumi config set --secret`, with or without --path). */
function isSecretKey(fullKey: string): boolean {
    return (pulumi.runtime as unknown as { isConfigSecret(k: string): boolean }).isConfigSecret(fullKey);
}

function matches(kind: Kind, value: unknown): boolean {
    switch (kind) {
        case "string":
            return typeof value === "string" && value !== "";
        case "boolean":
            return typeof value === "boolean";
        case "integer":
            return Number.isInteger(value) && (value as number) >= 0;
        case "string[]":
            return Array.isArray(value) && value.every(v => typeof v === "string");
        case "phase":
            return typeof value === "boolean"; // its options object is checked field by field
    }
}

function describeKind(kind: Kind): string {
    return {
        string: "a non-empty string",
        boolean: "true or false",
        integer: "a whole number >= 0",
        "string[]": "a list of strings",
        phase: `true, false or an object of ${Object.keys(PHASE_OPTIONS).join(", ")}`,
    }[kind];
}
