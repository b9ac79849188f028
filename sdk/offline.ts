/**
 * Whether this process plans offline (`kaptain synth`): nothing is deployed, so a
 * credential that only a deploy needs (a kubeconfig file on the deploying machine) may be
 * missing without failing the plan. The mark lives on `globalThis`, so that the program
 * synth loads sees it even when it resolves its own copy of this package.
 */
const OFFLINE_PLAN = Symbol.for("pulumi-kaptain.offline-plan");

/** Marks this process as planning offline; `kaptain synth` does, before it runs the program. */
export function planOffline(): void {
    (globalThis as Record<symbol, unknown>)[OFFLINE_PLAN] = true;
}

/** Whether {@link planOffline} was called in this process. */
export function isOfflinePlan(): boolean {
    return (globalThis as Record<symbol, unknown>)[OFFLINE_PLAN] === true;
}
