// The keys each argument object takes, and the check that names a key nobody reads.
// TypeScript rejects an unknown key only in an object literal; JavaScript, a spread or a
// cast lets it through, and a typo (`stratgy`) would silently fall back to a default.
import { ArgProblem, problem } from "./errors";
import type {
    HelmfileOptions,
    InfrastructureArgs,
    InfrastructureProvisionConfigs,
    PhaseOptions,
} from "./infrastructure-args";
import { PHASE_ORDER } from "./phases";
import type { ProvisionConfigsArgs } from "./provision-configs";

// Each list is a Record over the interface's keys: the compiler fails when a field is
// added to the interface and not here, or listed here and not there.
const INFRASTRUCTURE: Record<keyof InfrastructureArgs, true> = {
    namespace: true,
    workingDirectory: true,
    helmfile: true,
    kubeconfig: true,
    hooks: true,
    phases: true,
    environment: true,
    fingerprintExclude: true,
    provisionConfigs: true,
    createNamespace: true,
    deleteNamespace: true,
    protect: true,
    logging: true,
    liveDiff: true,
};
const HELMFILE: Record<keyof HelmfileOptions, true> = {
    binary: true,
    environment: true,
    strategy: true,
    concurrency: true,
    file: true,
    kubeContext: true,
    extraArgs: true,
};
const PHASE: Record<keyof PhaseOptions, true> = { strategy: true, concurrency: true, syncArgs: true, selectors: true };
/** What a ProvisionConfigs reads its objects from, standalone or inside an Infrastructure. */
const OBJECT_SOURCES = {
    secretFile: true,
    secretKey: true,
    secret: true,
    configKeysFile: true,
    configKeys: true,
    rcloneConfigFile: true,
    rcloneConfig: true,
    helmBinary: true,
    adoptFromChart: true,
} as const;
const PROVISION_CONFIGS: Record<keyof ProvisionConfigsArgs, true> = {
    ...OBJECT_SOURCES,
    namespace: true,
    createNamespace: true,
    deleteNamespace: true,
    workingDirectory: true,
};
const INFRASTRUCTURE_PROVISION_CONFIGS: Record<keyof InfrastructureProvisionConfigs, true> = {
    ...OBJECT_SOURCES,
    allowChartRelease: true,
};

/** Keys of ProvisionConfigsArgs that, inside an Infrastructure, belong to the Infrastructure itself. */
const INFRASTRUCTURE_OWNED = ["createNamespace", "deleteNamespace"] as const;

/**
 * The known key closest to `key`, when it is close enough to be a typo: the same letters
 * in another case, or at most one edit in three letters (`stratgy`, `nmespace`, `kubeconfg`).
 */
export function closestKey(key: string, known: readonly string[]): string | undefined {
    let best: { key: string; distance: number } | undefined;
    for (const candidate of known) {
        const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
        const allowed = Math.max(1, Math.floor(candidate.length / 3));
        if (distance <= allowed && (best === undefined || distance < best.distance)) {
            best = { key: candidate, distance };
        }
    }
    return best?.key;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours. */
function editDistance(a: string, b: string): number {
    const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
        Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
    );
    for (let i = 1; i <= a.length; i++) {
        for (let j = 1; j <= b.length; j++) {
            const cost = a[i - 1] === b[j - 1] ? 0 : 1;
            d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
                d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
            }
        }
    }
    return d[a.length][b.length];
}

/** `` (did you mean `x`?)`` when a known key is close, else nothing; `namespace` prefixes it (`kaptain:x`). */
export function didYouMean(key: string, known: readonly string[], namespace?: string): string {
    const close = closestKey(key, known);
    return close !== undefined ? ` (did you mean \`${namespace !== undefined ? `${namespace}:` : ""}${close}\`?)` : "";
}

/** One problem per key of `value` that is not in `known`; `path` prefixes the property paths. */
function unknownKeys(path: string, value: unknown, known: readonly string[], what: string): ArgProblem[] {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        return []; // its type is checked where it is read
    }
    const prefix = path === "" ? "" : `${path}.`;
    return Object.keys(value)
        .filter(key => !known.includes(key))
        .map(key => problem(`${prefix}${key}`, `is not ${what}${didYouMean(key, known)}; known: ${known.join(", ")}`));
}

/**
 * Every key of an Infrastructure's arguments that nothing reads, at any depth the user
 * writes: the arguments, `helmfile`, `phases` and each phase's options, `provisionConfigs`.
 * (`environment` is the user's own map.)
 */
export function unknownInfrastructureKeys(args: InfrastructureArgs): ArgProblem[] {
    const problems = unknownKeys("", args, Object.keys(INFRASTRUCTURE), "an argument of Infrastructure");
    problems.push(...unknownKeys("helmfile", args.helmfile, Object.keys(HELMFILE), "a helmfile option"));
    problems.push(...unknownKeys("phases", args.phases, PHASE_ORDER, "a phase"));
    for (const [name, setting] of Object.entries(args.phases ?? {})) {
        if ((PHASE_ORDER as readonly string[]).includes(name)) {
            problems.push(...unknownKeys(`phases.${name}`, setting, Object.keys(PHASE), "an option of a phase"));
        }
    }
    const pc: unknown = args.provisionConfigs;
    if (typeof pc === "object" && pc !== null) {
        for (const key of INFRASTRUCTURE_OWNED.filter(k => k in pc)) {
            problems.push(
                problem(`provisionConfigs.${key}`, `is an argument of the Infrastructure itself: set \`${key}\``),
            );
        }
        const rest = Object.fromEntries(
            Object.entries(pc).filter(([k]) => !(INFRASTRUCTURE_OWNED as readonly string[]).includes(k)),
        );
        problems.push(
            ...unknownKeys(
                "provisionConfigs",
                rest,
                Object.keys(INFRASTRUCTURE_PROVISION_CONFIGS),
                "an option of provisionConfigs",
            ),
        );
    }
    return problems;
}

/** Every key of a ProvisionConfigs' arguments that nothing reads. */
export function unknownProvisionConfigsKeys(args: ProvisionConfigsArgs): ArgProblem[] {
    return unknownKeys("", args, Object.keys(PROVISION_CONFIGS), "an argument of ProvisionConfigs");
}
