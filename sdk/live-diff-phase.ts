// `liveDiff`: a phase's diff action run against the cluster during `pulumi preview` and
// `pulumi up`, its releases shown under the phase, and drift made an update of the phase.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import {
    formatReleaseChanges,
    LIVE_DIFF_VARIABLE,
    liveDiffFailedValue,
    liveDiffValue,
    NO_LIVE_CHANGES,
    parseHelmfileDiff,
    ReleaseChange,
} from "./live-diff";
import { isOfflinePlan } from "./offline";
import { PhaseName } from "./phases";
import { isWireSecret, toWire } from "./pulumi-wire";
import { INTERPRETER } from "./script/phase-script";
import { shQuote } from "./script/quote";

/** The invoke's environment variable that carries the diff script (the launcher runs it). */
export const DIFF_SCRIPT_VARIABLE = "KAPTAIN_SCRIPT_DIFF";

/**
 * The last line the launcher writes on stderr: the script's exit status. The invoke itself
 * always succeeds, so that a failure is reported here, as the step and its cause, and not
 * by the command provider, whose error would quote everything helmfile printed.
 */
const STATUS_MARK = "kaptain-live-diff-status=";

export interface LiveDiffArgs {
    /** The Infrastructure's name, for messages. */
    readonly component: string;
    readonly phase: PhaseName;
    /** kaptain's diff action for the phase (hooks in dry run, `helmfile diff`). */
    readonly diffScript: pulumi.Input<string>;
    /** The phase Command's `dir`. */
    readonly directory: pulumi.Input<string>;
    /** The phase Command's environment, its scripts left out. */
    readonly environment: Record<string, pulumi.Input<string>>;
    /** The phase Command's `stdin` (the kubeconfig's content), when it has one. */
    readonly stdin?: pulumi.Input<string>;
    /** Which cluster the diff reaches, for the message when it cannot: `context "x" (server …)`. */
    readonly cluster: pulumi.Input<string>;
}

/** What the live diff of one phase found. */
export interface LiveDiff {
    /** The releases that would change, names and object counts only; none when the diff failed. */
    readonly changes: pulumi.Output<ReleaseChange[]>;
    /** Why the diff failed (already logged as an error), or undefined. */
    readonly failure: pulumi.Output<string | undefined>;
}

/**
 * Runs the phase's diff action through the command provider's `local.run` invoke, which
 * runs during `preview` and `up` alike, where the phase Command would run (its `dir`, its
 * environment, its kubeconfig on stdin, the provider's own environment), so that what it
 * compares is what the deploy would change. It changes nothing: hooks run with
 * `KAPTAIN_DRY_RUN=1`, helm-diff only reads. Not in `kaptain synth`, which plans offline
 * (its `--live` runs the same diff).
 *
 * A failure is logged as an error on `parent`, which fails the preview or the update, and
 * is returned rather than thrown: a rejected input would leave the resources that wait on
 * the phase waiting for ever in a program run by the Automation API (`kaptain`'s verbs).
 */
export function runLiveDiff(args: LiveDiffArgs, parent: pulumi.Resource): LiveDiff {
    if (isOfflinePlan()) {
        return { changes: pulumi.output([]), failure: pulumi.output(undefined) };
    }
    const run = command.local.runOutput(
        {
            command:
                `bash -c "$${DIFF_SCRIPT_VARIABLE}" ${shQuote(`kaptain-${args.phase}-diff`)}; ` +
                `printf '\\n${STATUS_MARK}%s\\n' "$?" >&2`,
            interpreter: [...INTERPRETER],
            dir: args.directory,
            environment: { ...args.environment, [DIFF_SCRIPT_VARIABLE]: args.diffScript },
            ...(args.stdin !== undefined ? { stdin: args.stdin } : {}),
            // helmfile's diff may show values: it is parsed here, never logged.
            logging: "none",
        },
        { parent },
    );
    const found = pulumi.all([run, args.cluster]).apply(([result, cluster]): Found => {
        // Pulumi's usual test mocks answer an invoke with its inputs: nothing ran.
        if (result.stdout === undefined && result.stderr === undefined) {
            return { changes: [] };
        }
        const failure = diffFailure(args, result.stdout ?? "", result.stderr ?? "", cluster);
        if (failure !== undefined) {
            void pulumi.log.error(failure, parent);
            return { changes: [], failure };
        }
        return { changes: parseHelmfileDiff(result.stdout ?? "") };
    });
    // Only release names, object counts and pulumi-kaptain's own lines are left: nothing of
    // the secret inputs the diff ran with. Plain, so that the preview shows the finding.
    const plain = pulumi.unsecret(found);
    return { changes: plain.apply(f => f.changes), failure: plain.apply(f => f.failure) };
}

interface Found {
    readonly changes: ReleaseChange[];
    readonly failure?: string;
}

/**
 * The live diffs of one component's phases: a phase deploys only when none of them failed
 * (the config phase must not deploy when the install phase's diff could not run). Each
 * phase adds its diff, the builder closes the gate once all are added.
 */
export class LiveDiffGate {
    private readonly failures: pulumi.Output<string | undefined>[] = [];
    private close_: () => void = () => undefined;
    private readonly closed = new Promise<void>(resolve => {
        this.close_ = resolve;
    });
    /** Whether any phase's diff failed: known once the gate is closed and every diff ran. */
    readonly anyFailed: pulumi.Output<boolean> = pulumi
        .output(this.closed.then(() => this.failures.length))
        .apply(() => pulumi.all(this.failures))
        .apply((failures: Array<string | undefined>) => failures.some(f => f !== undefined));

    add(diff: LiveDiff): void {
        this.failures.push(diff.failure);
    }

    close(): void {
        this.close_();
    }

    /** The phase Command's {@link LIVE_DIFF_VARIABLE}: what its diff found, or that a diff failed. */
    valueFor(diff: LiveDiff): pulumi.Output<string> {
        return pulumi
            .all([diff.changes, this.anyFailed])
            .apply(([changes, failed]) =>
                failed ? liveDiffFailedValue(new Date()) : liveDiffValue(changes, new Date()),
            );
    }
}

/**
 * Why the diff failed, for the person reading the preview: the phase, the cluster it
 * could not reach or pulumi-kaptain's own lines (the step and its cause). Never helmfile's
 * or the hooks' output, which may show values; undefined when the diff ran.
 */
export function diffFailure(
    args: Pick<LiveDiffArgs, "component" | "phase">,
    stdout: string,
    stderr: string,
    cluster: string,
): string | undefined {
    const marks = stderr.split("\n").filter(l => l.startsWith(STATUS_MARK));
    const status = marks.length > 0 ? Number(marks[marks.length - 1].slice(STATUS_MARK.length)) : NaN;
    if (status === 0) {
        return undefined;
    }
    const what = `${args.component}: the live diff of the ${args.phase} phase (\`liveDiff\`)`;
    if (UNREACHABLE.test(stdout) || UNREACHABLE.test(stderr)) {
        return (
            `${what} cannot reach the cluster, ${cluster}: is it running, and are this the kubeconfig ` +
            "and the context the phase should use? Set `liveDiff: false` to deploy without it."
        );
    }
    const own = stderr
        .split("\n")
        .filter(l => l.startsWith("kaptain: "))
        .map(l => `  ${l}`);
    return (
        `${what} failed` +
        (Number.isNaN(status) ? " (it did not finish)" : ` (exit status ${status})`) +
        (own.length > 0 ? `:\n${own.join("\n")}\n` : ". ") +
        "helmfile's output is not shown here (it may show values): `kaptain diff` prints it in a terminal."
    );
}

/** What helm and kubectl say when the API server cannot be reached. */
const UNREACHABLE =
    /Kubernetes cluster unreachable|connection refused|no such host|i\/o timeout|TLS handshake timeout|Unable to connect to the server|no route to host|network is unreachable/;

/**
 * The phase Command's resource transform under `liveDiff`: when the diff found nothing,
 * {@link LIVE_DIFF_VARIABLE} is ignored, so that the value the state holds stays whatever
 * it is. That is what keeps `up` from flip-flopping: after the `up` that put a drift back
 * (the state now holds that finding), the next preview finds nothing and keeps it; only a
 * new finding, which carries its time, differs from the state.
 */
export const keepStoredLiveDiff: pulumi.ResourceTransform = async ({ props, opts }) => {
    const environment = (props.environment ?? {}) as Record<string, unknown>;
    if ((await plainValue(environment[LIVE_DIFF_VARIABLE])) !== NO_LIVE_CHANGES) {
        return undefined;
    }
    const path = `environment.${LIVE_DIFF_VARIABLE}`;
    // The properties go back to the engine re-serialized: in wire form, so that every secret
    // stays a secret (see toWire) and none reads as changed.
    return {
        props: (await toWire(props)) as pulumi.Inputs,
        opts: { ...opts, ignoreChanges: [...(opts.ignoreChanges ?? []), path] },
    };
};

/**
 * Whether the program runs under Pulumi's test mocks (`pulumi.runtime.setMocks`), which
 * take no resource transform (registering one fails) and run no command: there the live
 * diff's finding reaches the Command without {@link keepStoredLiveDiff}, as there is no
 * state to keep anyway.
 */
export function underTestMocks(): boolean {
    const monitor = (pulumi.runtime as unknown as { getMonitor?(): unknown }).getMonitor?.();
    return (monitor as { constructor?: { name?: string } } | undefined)?.constructor?.name === "MockMonitor";
}

/** A property as the transform receives it (an Output, a wire-form secret, a value), as a plain value. */
async function plainValue(value: unknown): Promise<unknown> {
    const wire = await toWire(value);
    return isWireSecret(wire) ? wire.value : wire;
}

/** Shows the releases the diff found under the phase Command, in the preview and the update. */
export function logLiveChanges(diff: LiveDiff, resource: pulumi.Resource): void {
    diff.changes.apply(changes => {
        if (changes.length > 0) {
            const n = changes.length;
            void pulumi.log.info(
                `live diff: ${n} release${n === 1 ? "" : "s"} would change ` +
                    "(secrets suppressed; `kaptain diff` shows the full diff):\n" +
                    formatReleaseChanges(changes).join("\n"),
                resource,
            );
        }
    });
}
