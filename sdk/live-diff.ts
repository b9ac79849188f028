/**
 * What `helmfile diff` (with helm-diff) says would change, release by release. Read from
 * its output, stdout and stderr merged in order: helmfile announces each release
 * (`Comparing release=NAME, chart=…, namespace=NS`), helm-diff then prints one header
 * per object that differs (`NS, NAME, Kind (version) has changed:` / `has been added:` /
 * `has been removed:`), and a release helm does not know yet is flagged `Release was
 * not present in Helm`. Secret values are suppressed by `--suppress-secrets` upstream;
 * only counts leave this module.
 */
export interface ReleaseChange {
    /** The release's name. */
    readonly release: string;
    /** The namespace helm installs it into. */
    readonly namespace: string;
    /** `new`: not installed yet; `removed`: only removals; `upgraded`: anything else. */
    readonly change: "new" | "upgraded" | "removed";
    /** Objects the deploy would add (a deleted one included). */
    readonly added: number;
    /** Objects the deploy would change. */
    readonly changed: number;
    /** Objects the deploy would remove. */
    readonly removed: number;
}

const COMPARING = /^Comparing release=([^,\s]+), chart=[^,]*, namespace=([^,\s]*)/;
const OBJECT = /^[^,\s]*, [^,\s]+, [^\s]+ \([^)]*\) has (been added|changed|been removed):$/;
const NOT_INSTALLED = /Release was not present in Helm/;

/** A terminal colour code (ESC [ … m). */
const ANSI_COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");

/** The releases the diff shows changes for, in the order helmfile compared them. */
export function parseHelmfileDiff(output: string): ReleaseChange[] {
    const found = new Map<
        string,
        { namespace: string; isNew: boolean; added: number; changed: number; removed: number }
    >();
    let current: string | undefined;
    // helm-diff colours its headers when told to (HELM_DIFF_COLOR): read them without.
    for (const line of output.replace(ANSI_COLOUR, "").split("\n")) {
        const comparing = COMPARING.exec(line);
        if (comparing !== null) {
            current = `${comparing[2]}/${comparing[1]}`;
            found.set(current, { namespace: comparing[2], isNew: false, added: 0, changed: 0, removed: 0 });
            continue;
        }
        const entry = current === undefined ? undefined : found.get(current);
        if (entry === undefined) {
            continue;
        }
        if (NOT_INSTALLED.test(line)) {
            entry.isNew = true;
        }
        const object = OBJECT.exec(line);
        if (object !== null) {
            if (object[1] === "been added") entry.added++;
            else if (object[1] === "changed") entry.changed++;
            else entry.removed++;
        }
    }
    return [...found.entries()]
        .filter(([, e]) => e.added + e.changed + e.removed > 0)
        .map(([key, e]) => ({
            release: key.slice(key.indexOf("/") + 1),
            namespace: e.namespace,
            change: e.isNew ? "new" : e.added === 0 && e.changed === 0 ? "removed" : "upgraded",
            added: e.added,
            changed: e.changed,
            removed: e.removed,
        }));
}

/** One line per release: `~ fleet-7  upgraded: 1 changed`. */
export function formatReleaseChanges(changes: readonly ReleaseChange[]): string[] {
    const width = Math.max(0, ...changes.map(c => c.release.length));
    const sign = { new: "+", upgraded: "~", removed: "-" } as const;
    return changes.map(c => `${sign[c.change]} ${c.release.padEnd(width)}  ${c.change}: ${counts(c).join(", ")}`);
}

/**
 * The phase Command's environment variable that carries what the live diff found, when
 * `liveDiff` is on. While the cluster matches the repository it reads
 * {@link NO_LIVE_CHANGES}, and the phase ignores it (the value in the state stays,
 * whatever it is); when releases would change, it reads when and which, a value that the
 * state never holds yet, so the phase updates and `helmfile apply` puts the cluster back.
 */
export const LIVE_DIFF_VARIABLE = "KAPTAIN_LIVE_DIFF";

/** {@link LIVE_DIFF_VARIABLE} when no release would change. */
export const NO_LIVE_CHANGES = "none";

/**
 * {@link LIVE_DIFF_VARIABLE} when helmfile said releases would change but helm-diff printed
 * them in a form not read here: a finding all the same, so the phase updates.
 */
export function liveDiffUnreadValue(now: Date): string {
    return `${stamp(now)} changes not read release by release (kaptain diff shows them)`;
}

function stamp(now: Date): string {
    return now.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** How many releases {@link liveDiffValue} names before it only counts. */
const NAMED_RELEASES = 10;

/**
 * {@link LIVE_DIFF_VARIABLE}'s value: {@link NO_LIVE_CHANGES}, or the time and the releases
 * (`2026-12-01T05:00:00Z ~fleet-3(1 changed) -web(1 removed)`). The time makes each
 * finding new: the same hand-made change made again after `up` put it back must update
 * the phase again, and would not if the value were what the state already holds.
 */
export function liveDiffValue(changes: readonly ReleaseChange[], now: Date): string {
    if (changes.length === 0) {
        return NO_LIVE_CHANGES;
    }
    const sign = { new: "+", upgraded: "~", removed: "-" } as const;
    const named = changes.slice(0, NAMED_RELEASES).map(c => `${sign[c.change]}${c.release}(${counts(c).join(", ")})`);
    const more = changes.length > NAMED_RELEASES ? [`and ${changes.length - NAMED_RELEASES} more`] : [];
    return [stamp(now), ...named, ...more].join(" ");
}

function counts(c: ReleaseChange): string[] {
    return [
        c.added > 0 ? `${c.added} added` : "",
        c.changed > 0 ? `${c.changed} changed` : "",
        c.removed > 0 ? `${c.removed} removed` : "",
    ].filter(Boolean);
}
