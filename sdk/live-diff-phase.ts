// `liveDiff`: a phase's diff action run against the cluster during `pulumi preview` and
// `pulumi up`, its releases shown under the phase, and drift made an update of the phase.
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import {
    formatReleaseChanges,
    LIVE_DIFF_VARIABLE,
    liveDiffUnreadValue,
    liveDiffValue,
    NO_LIVE_CHANGES,
    parseHelmfileDiff,
    ReleaseChange,
} from "./live-diff";
import { isOfflinePlan } from "./offline";
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
    /** What is diffed, for messages: `the install phase`, `its phases`. */
    readonly subject: string;
    /** The script's `$0`: `install-diff`, `diff`. */
    readonly name: string;
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
    /**
     * helmfile reported changes in a form that could not be read release by release (helm-diff
     * set to another output format): the phase is an update anyway, never `none`.
     */
    readonly unread: pulumi.Output<boolean>;
}

/**
 * Runs the phase's diff action through the command provider's `local.run` invoke, which
 * runs during `preview` and `up` alike, where the phase Command would run (its `dir`, its
 * environment, its kubeconfig on stdin, the provider's own environment), so that what it
 * compares is what the deploy would change. It changes nothing: hooks run with
 * `KAPTAIN_DRY_RUN=1`, helm-diff only reads. Not in `kaptain synth`, which plans offline
 * (its `--live` runs the same diff).
 *
 * Nothing here rejects: a rejected input would leave the resources that wait on the phase
 * waiting for ever in a program the Automation API runs (`kaptain`'s verbs). A cluster that
 * cannot be reached is an error (the deploy could not reach it either), once per component;
 * any other failure is a warning, and the phase deploys as without `liveDiff`: its diff may
 * fail only because an earlier phase has not deployed yet (the CRDs the config phase
 * installs, which the install phase's objects need).
 */
export function runLiveDiff(args: LiveDiffArgs, parent: pulumi.Resource, reporter: LiveDiffReporter): LiveDiff {
    if (isOfflinePlan()) {
        return { changes: pulumi.output([]), unread: pulumi.output(false) };
    }
    const inputs = pulumi.all([args.directory, args.diffScript, args.environment, args.stdin]);
    const found = pulumi.all([inputs, args.cluster]).apply(async ([[dir, script, environment, stdin], cluster]) => {
        let result: { stdout?: string; stderr?: string };
        try {
            result = await command.local.run(
                {
                    command:
                        `bash -c "$${DIFF_SCRIPT_VARIABLE}" ${shQuote(`kaptain-${args.name}`)}; ` +
                        `printf '\\n${STATUS_MARK}%s\\n' "$?" >&2`,
                    interpreter: [...INTERPRETER],
                    dir,
                    // helm-diff's plain format, the one read release by release, whatever the shell says.
                    environment: {
                        ...environment,
                        HELM_DIFF_COLOR: "false",
                        HELM_DIFF_OUTPUT: "diff",
                        [DIFF_SCRIPT_VARIABLE]: script,
                    },
                    ...(stdin !== undefined && stdin !== "" ? { stdin } : {}),
                    // helmfile's diff may show values: it is parsed here, never logged.
                    logging: "none",
                },
                { parent },
            );
        } catch (err) {
            // The provider could not start it (an environment too large, …): its message
            // names the cause, and quotes only the short launcher command.
            reporter.warn(
                `${args.component}: the live diff of ${args.subject} (\`liveDiff\`) did not run: ${firstLine(err)}`,
                parent,
            );
            return { changes: [], unread: false };
        }
        // Pulumi's usual test mocks answer an invoke with its inputs: nothing ran.
        if (result.stdout === undefined && result.stderr === undefined) {
            return { changes: [], unread: false };
        }
        const failure = diffFailure(args, result.stdout ?? "", result.stderr ?? "", cluster);
        if (failure !== undefined) {
            if (failure.unreachable) {
                reporter.error(failure.message, parent);
            } else {
                reporter.warn(failure.message, parent);
            }
            return { changes: [], unread: false };
        }
        const changes = parseHelmfileDiff(result.stdout ?? "");
        return { changes, unread: changes.length === 0 && CHANGES_REPORTED.test(result.stdout ?? "") };
    });
    // Only release names and object counts are left: nothing of the secret inputs the diff
    // ran with. Plain, so that the preview shows the finding.
    const plain = pulumi.unsecret(found);
    return { changes: plain.apply(f => f.changes), unread: plain.apply(f => f.unread) };
}

/** What helmfile itself prints when a diff found changes, whatever helm-diff's format. */
const CHANGES_REPORTED = /^(Affected releases are:|Identified at least one change)/m;

function firstLine(err: unknown): string {
    const e = err as { message?: unknown; details?: unknown } | undefined;
    const text = [e?.message, e?.details, String(err)]
        .map(t => (typeof t === "string" ? t : ""))
        .flatMap(t => t.split("\n"))
        .find(l => l.trim() !== "");
    return (text ?? "unknown error").trim();
}

/** Logs a component's live-diff messages, each once: one unreachable cluster is one error. */
export class LiveDiffReporter {
    private readonly said = new Set<string>();

    error(message: string, resource: pulumi.Resource): void {
        if (!this.said.has(message)) {
            this.said.add(message);
            void pulumi.log.error(message, resource);
        }
    }

    warn(message: string, resource: pulumi.Resource): void {
        if (!this.said.has(message)) {
            this.said.add(message);
            void pulumi.log.warn(message, resource);
        }
    }
}

/**
 * The live diffs of one component: their messages, and the one diff of every phase when the
 * phases share it (kaptain's own `diff`: its hooks once, one helmfile run).
 */
export class ComponentLiveDiff {
    readonly reporter = new LiveDiffReporter();
    private shared?: LiveDiff;

    /**
     * The component's one diff of every phase (run by the first phase that asks), narrowed
     * to the changes of `releases`.
     */
    share(run: () => LiveDiff, releases: ReadonlySet<string>): LiveDiff {
        this.shared ??= run();
        return {
            changes: this.shared.changes.apply(changes => changes.filter(c => releases.has(c.release))),
            unread: this.shared.unread,
        };
    }
}

/** The phase Command's {@link LIVE_DIFF_VARIABLE}: what its diff found. */
export function liveDiffVariable(diff: LiveDiff): pulumi.Output<string> {
    return pulumi
        .all([diff.changes, diff.unread])
        .apply(([changes, unread]) => (unread ? liveDiffUnreadValue(new Date()) : liveDiffValue(changes, new Date())));
}

/**
 * Why the diff failed, for the person reading the preview: the phase, the cluster it
 * could not reach or pulumi-kaptain's own lines (the step and its cause). Never helmfile's
 * or the hooks' output, which may show values; undefined when the diff ran.
 */
export function diffFailure(
    args: Pick<LiveDiffArgs, "component" | "subject">,
    stdout: string,
    stderr: string,
    cluster: string,
): { message: string; unreachable: boolean } | undefined {
    const marks = stderr.split("\n").filter(l => l.startsWith(STATUS_MARK));
    const status = marks.length > 0 ? Number(marks[marks.length - 1].slice(STATUS_MARK.length)) : NaN;
    if (status === 0) {
        return undefined;
    }
    if (UNREACHABLE.test(stdout) || UNREACHABLE.test(stderr)) {
        return {
            unreachable: true,
            message:
                `${args.component}: the live diff (\`liveDiff\`) cannot reach the cluster, ${cluster}: is it running, ` +
                "and are these the kubeconfig and the context the phases should use? Set `liveDiff: false` to deploy without it.",
        };
    }
    const own = stderr
        .split("\n")
        .filter(l => l.startsWith("kaptain: "))
        .map(l => `  ${l}`);
    return {
        unreachable: false,
        message:
            `${args.component}: the live diff of ${args.subject} (\`liveDiff\`) failed` +
            (Number.isNaN(status) ? " (it did not finish)" : ` (exit status ${status})`) +
            (own.length > 0 ? `:\n${own.join("\n")}\n` : ". ") +
            "The phases deploy as without it (a diff can fail until an earlier phase has deployed, " +
            "the CRDs the config phase installs). helmfile's output is not shown here (it may show values): " +
            "`kaptain diff` prints it in a terminal.",
    };
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
    // A secret inside the map may have made the whole map a secret in wire form.
    const environment = ((await plainValue(props.environment)) ?? {}) as Record<string, unknown>;
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
    pulumi.all([diff.changes, diff.unread]).apply(([changes, unread]) => {
        if (unread) {
            void pulumi.log.info(
                "live diff: helmfile reports changes in a form not read release by release " +
                    "(helm-diff's output format?); `kaptain diff` shows them",
                resource,
            );
        } else if (changes.length > 0) {
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
