/** The three kaptain phases, in the order they deploy. */
export type PhaseName = "config" | "install" | "provision";

/** Deploy order; deletes run in reverse. */
export const PHASE_ORDER: readonly PhaseName[] = ["config", "install", "provision"];

/** What running one phase means to helmfile and to hooks. */
export interface PhaseDefinition {
    /** Label selectors of the releases the phase deploys and, on delete, destroys. */
    readonly selectors: readonly string[];
    /** kaptain's name for undoing the phase: the hooks see `pre-<undo>` and `post-<undo>`. */
    readonly undo: string;
}

/**
 * kaptain's `install` selects config releases again (`--selector action=config
 * --selector action=install`); here the config phase has already run earlier in the
 * same deploy, so install and provision select their own label only.
 */
export const PHASES: Readonly<Record<PhaseName, PhaseDefinition>> = {
    config: { selectors: ["action=config"], undo: "unconfig" },
    install: { selectors: ["action=install"], undo: "uninstall" },
    provision: { selectors: ["action=provision"], undo: "unprovision" },
};

export function isPhaseName(value: unknown): value is PhaseName {
    return typeof value === "string" && (PHASE_ORDER as readonly string[]).includes(value);
}
