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
    readonly release: string;
    readonly namespace: string;
    /** `new`: not installed yet; `removed`: only removals; `upgraded`: anything else. */
    readonly change: "new" | "upgraded" | "removed";
    readonly added: number;
    readonly changed: number;
    readonly removed: number;
}

const COMPARING = /^Comparing release=([^,\s]+), chart=[^,]*, namespace=([^,\s]*)/;
const OBJECT = /^[^,\s]*, [^,\s]+, [^\s]+ \([^)]*\) has (been added|changed|been removed):$/;
const NOT_INSTALLED = /Release was not present in Helm/;

/** The releases the diff shows changes for, in the order helmfile compared them. */
export function parseHelmfileDiff(output: string): ReleaseChange[] {
    const found = new Map<
        string,
        { namespace: string; isNew: boolean; added: number; changed: number; removed: number }
    >();
    let current: string | undefined;
    for (const line of output.split("\n")) {
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
    return changes.map(c => {
        const counts = [
            c.added > 0 ? `${c.added} added` : "",
            c.changed > 0 ? `${c.changed} changed` : "",
            c.removed > 0 ? `${c.removed} removed` : "",
        ].filter(Boolean);
        return `${sign[c.change]} ${c.release.padEnd(width)}  ${c.change}: ${counts.join(", ")}`;
    });
}
