// kaptain's verbs as Pulumi operations: which phases a verb deploys or removes, what the
// program registers for the run, and which resources the operation may touch.
import { DEFAULTS } from "../defaults";
import { PhaseSetting, PhasesArgs } from "../infrastructure-args";
import { isPhaseName, PHASE_ORDER, PHASES, PhaseName } from "../phases";

export const VERBS = ["config", "install", "uninstall", "provision", "unprovision", "diff", "up", "destroy"] as const;
export type Verb = (typeof VERBS)[number];

export function isVerb(value: unknown): value is Verb {
    return typeof value === "string" && (VERBS as readonly string[]).includes(value);
}

/** An error in what the user asked for or configured: printed as is, with an exit status. */
export class VerbError extends Error {
    constructor(
        message: string,
        /** The Pulumi CLI's: 1 a failure or a declined confirmation, 2 a configuration or invocation error. */
        readonly exitCode: 1 | 2 = 2,
    ) {
        super(message);
        this.name = "VerbError";
    }
}

export interface VerbDefinition {
    readonly operation: "up" | "preview" | "destroy";
    /**
     * The phases the verb deploys (`on`) or removes (`off`). Undefined: the whole stack as
     * Pulumi.<stack>.yaml says, untargeted.
     */
    readonly phases?: Readonly<Partial<Record<PhaseName, "on" | "off">>>;
    /** What the verb does, in kaptain's words. */
    readonly summary: string;
}

/**
 * kaptain's verbs (the README's mapping table). kaptain's `install` syncs the config
 * releases again, and so does its `provision`: here the config phase runs in the same
 * targeted up, with the provision-configs objects and the Namespace.
 */
export const VERB_DEFINITIONS: Readonly<Record<Verb, VerbDefinition>> = {
    config: { operation: "up", phases: { config: "on" }, summary: "deploy the config phase" },
    install: {
        operation: "up",
        phases: { config: "on", install: "on" },
        summary: "deploy the config and install phases",
    },
    provision: {
        operation: "up",
        phases: { config: "on", provision: "on" },
        summary: "deploy the config and provision phases",
    },
    uninstall: { operation: "up", phases: { install: "off" }, summary: "remove the install phase" },
    unprovision: { operation: "up", phases: { provision: "off" }, summary: "remove the provision phase" },
    diff: {
        operation: "preview",
        summary: "preview what `kaptain up` would change, then the releases helmfile diff finds per phase",
    },
    up: { operation: "up", summary: "deploy every phase Pulumi.<stack>.yaml turns on, remove the others" },
    destroy: { operation: "destroy", summary: "remove everything the stack deployed" },
};

const INFRASTRUCTURE = "kaptain:index:Infrastructure";
const COMMAND = "command:local:Command";

/** A resource of the stack's state, as `pulumi stack export` lists it. */
export interface StateResource {
    readonly urn: string;
    readonly type: string;
    readonly parent?: string;
}

/**
 * The phases the state holds, by Infrastructure: a phase is a Command child of an
 * Infrastructure named `<infrastructure>-<phase>`.
 */
export function deployedPhases(resources: readonly StateResource[]): Set<PhaseName> {
    const infrastructures = new Set(resources.filter(r => r.type === INFRASTRUCTURE).map(r => r.urn));
    const phases = new Set<PhaseName>();
    for (const r of resources) {
        if (r.type !== COMMAND || r.parent === undefined || !infrastructures.has(r.parent)) {
            continue;
        }
        const prefix = `${nameOf(r.parent)}-`;
        const phase = nameOf(r.urn).startsWith(prefix) ? nameOf(r.urn).slice(prefix.length) : undefined;
        if (isPhaseName(phase)) {
            phases.add(phase);
        }
    }
    return phases;
}

/**
 * `kaptain:phases` for this run of a verb that names phases, so that the run deploys or
 * removes those and leaves every other phase as the state has it:
 * - a phase the verb deploys takes its setting from Pulumi.<stack>.yaml; one that file
 *   turns off is refused: deploying it now, the next `kaptain up` would remove it again;
 * - a phase the verb removes is off, for this run only: `kaptain up` or the verb that
 *   deploys it puts it back, as with kaptain;
 * - any other phase is on when deployed (its targeted-out Command stays as it is), off
 *   when not (nothing depends on a phase this run does not deploy).
 * Undefined for verbs that run the stack as its file says.
 */
export function runPhases(
    verb: Verb,
    stackFile: PhasesArgs | undefined,
    deployed: ReadonlySet<PhaseName>,
    stackName: string,
): Record<PhaseName, PhaseSetting> | undefined {
    const named = VERB_DEFINITIONS[verb].phases;
    if (named === undefined) {
        return undefined;
    }
    const file: Record<PhaseName, PhaseSetting> = { ...DEFAULTS.phases, ...(stackFile ?? {}) } as Record<
        PhaseName,
        PhaseSetting
    >;
    const off = PHASE_ORDER.filter(p => named[p] === "on" && file[p] === false);
    if (off.length > 0) {
        throw new VerbError(
            `kaptain ${verb} ${stackName}: Pulumi.${stackName}.yaml leaves the ${off.join(" and ")} phase off ` +
                `(kaptain:phases.${off[0]} is not true). Deployed now, the next \`kaptain up ${stackName}\` would remove it ` +
                `again: set kaptain:phases.${off[0]} to true first (pulumi config set --path kaptain:phases.${off[0]} true ` +
                `--stack ${stackName})`,
        );
    }
    return Object.fromEntries(
        PHASE_ORDER.map(p => {
            if (named[p] !== undefined) {
                return [p, named[p] === "on" ? file[p] : false];
            }
            return [p, deployed.has(p) ? (file[p] === false ? true : file[p]) : false];
        }),
    ) as Record<PhaseName, PhaseSetting>;
}

/**
 * What the operation may touch, as `--target` URN patterns (Pulumi's `*` stays within a
 * URN part, `**` spans parts): the Infrastructure components, the phases the verb names,
 * and for a verb that deploys, the Namespace and the provision-configs objects (kaptain's
 * config releases). A verb that removes a phase also targets the phases deployed after it,
 * which no longer depend on it. Providers and the stack are always part of an operation.
 * Undefined: the whole stack.
 */
export function verbTargets(
    verb: Verb,
    stack: string,
    project: string,
    deployed: ReadonlySet<PhaseName>,
): string[] | undefined {
    const named = VERB_DEFINITIONS[verb].phases;
    if (named === undefined) {
        return undefined;
    }
    const prefix = `urn:pulumi:${stack}::${project}::**${INFRASTRUCTURE}`;
    const removed = PHASE_ORDER.filter(p => named[p] === "off");
    const after = removed.length === 0 ? [] : PHASE_ORDER.slice(PHASE_ORDER.indexOf(removed[0]) + 1);
    const phases = PHASE_ORDER.filter(p => named[p] !== undefined || (after.includes(p) && deployed.has(p)));
    const deploys = PHASE_ORDER.some(p => named[p] === "on");
    return [
        `${prefix}::*`,
        // Every phase depends on the namespace guard, which must exist (and check) first.
        `${prefix}$${COMMAND}::*-namespace-guard`,
        ...phases.map(p => phaseTarget(stack, project, p)),
        ...(deploys ? [`${prefix}$kubernetes:core/v1:Namespace::*`, `${prefix}$kaptain:index:ProvisionConfigs**`] : []),
    ];
}

/** The URN pattern of one phase's Commands. */
export function phaseTarget(stack: string, project: string, phase: PhaseName): string {
    return `urn:pulumi:${stack}::${project}::**${INFRASTRUCTURE}$${COMMAND}::*-${phase}`;
}

/** Whether a URN matches a `--target` pattern, as Pulumi matches them. */
export function matchesTarget(pattern: string, urn: string): boolean {
    const regex = pattern
        .split("**")
        .map(part =>
            part
                .split("*")
                .map(s => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
                .join("[^:]*"),
        )
        .join(".*");
    return new RegExp(`^${regex}$`).test(urn);
}

/** A step of a preview that removes something from the cluster. */
export const REMOVING_STEPS: ReadonlySet<string> = new Set([
    "delete",
    "replace",
    "delete-replaced",
    "discard",
    "discard-replaced",
]);

/** One line per resource a preview would remove, saying what that does for a phase. */
export function describeRemoval(urn: string, type: string, op: string): string {
    const name = nameOf(urn);
    const phase = type === COMMAND ? PHASE_ORDER.find(p => name.endsWith(`-${p}`)) : undefined;
    const what =
        phase !== undefined
            ? `its delete runs helmfile destroy of the releases labelled ${PHASES[phase].selectors.join(", ")}`
            : type.startsWith("kubernetes:")
              ? "deleted from the cluster"
              : "removed from the stack";
    return `${op === "delete" ? "-" : "±"} ${name} (${type}, ${op}): ${what}`;
}

function nameOf(urn: string): string {
    return urn.slice(urn.lastIndexOf("::") + 2);
}
