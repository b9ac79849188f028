// Mistakes in a helmfile that deploy "successfully" and do the wrong thing: a release no
// phase selects (a typo in its `action` label) is never deployed and never destroyed; a
// release with a hard-coded namespace lands away from the Namespace, Secret and ConfigMap
// this Infrastructure manages. Both are said before anything deploys, as warnings: a
// release meant for another namespace or left out on purpose is the user's call.
import type { ResolvedPhase } from "./infrastructure-resolve";
import { HelmfileRelease, Known, readHelmfileReleases, TEMPLATED } from "./helmfile-releases";
import { RepositoryLayout } from "./layout";
import { PHASE_ORDER, PHASES, PhaseName } from "./phases";

/** What the checks found: warnings to log as such, and notes on what could not be checked. */
export interface HelmfileFindings {
    readonly warnings: string[];
    readonly notes: string[];
}

/** helmfile's implicit labels, which every release has. */
const IMPLICIT_LABELS = ["name", "namespace", "chart"];

/**
 * Reads the layout's helmfile and checks each release against the phases' selectors (an
 * enabled phase's own, a disabled phase's default: a release left to a phase that is off
 * is not a mistake) and against the Infrastructure's namespace.
 */
export function helmfileFindings(layout: RepositoryLayout, phases: readonly ResolvedPhase[]): HelmfileFindings {
    let reading;
    try {
        reading = readHelmfileReleases(layout);
    } catch (err) {
        // The checks only warn: a reader failure must not stop a deploy helmfile can run.
        return { warnings: [], notes: [`the helmfile's releases were not checked: ${(err as Error).message}`] };
    }
    const selectors = Object.fromEntries(
        PHASE_ORDER.map(name => [name, phases.find(p => p.name === name)?.selectors ?? PHASES[name].selectors]),
    ) as Record<PhaseName, readonly string[]>;
    const enabled = phases.map(p => p.name);
    const unselected: HelmfileRelease[] = [];
    const deployed: HelmfileRelease[] = [];
    for (const release of reading.releases) {
        if (!release.phaseSelected) {
            deployed.push(release);
            continue;
        }
        const verdicts = PHASE_ORDER.map(p => ({ phase: p, match: selectedBy(selectors[p], release.labels) }));
        if (verdicts.every(v => v.match === false)) {
            unselected.push(release);
        } else if (verdicts.some(v => enabled.includes(v.phase) && v.match !== false)) {
            deployed.push(release);
        }
    }
    return {
        warnings: [
            ...unselectedWarnings(unselected, selectors),
            ...namespaceWarnings(
                deployed.filter(r => r.namespace !== TEMPLATED && r.namespace !== layout.namespace),
                layout.namespace,
            ),
        ],
        notes: reading.unread.map(
            u => `release labels and namespaces in ${u.file} were not checked against the phases: ${u.reason}`,
        ),
    };
}

/** Whether any selector selects the labels, as helmfile's `--selector` does; undefined when a template decides. */
export function selectedBy(selectors: readonly string[], labels: HelmfileRelease["labels"]): boolean | undefined {
    let result: boolean | undefined = false;
    for (const selector of selectors) {
        const match = selectorMatches(selector, labels);
        if (match === true) {
            return true;
        }
        if (match === undefined) {
            result = undefined;
        }
    }
    return result;
}

/** One selector: `k=v` and `k!=v` terms joined by commas, all of which must hold. */
function selectorMatches(selector: string, labels: HelmfileRelease["labels"]): boolean | undefined {
    if (labels === TEMPLATED) {
        return undefined;
    }
    let result: boolean | undefined = true;
    for (const term of selector.split(",")) {
        const negative = term.includes("!=");
        const [key, value] = term.split(negative ? "!=" : "=");
        const actual: Known<string> | undefined = Object.prototype.hasOwnProperty.call(labels, key)
            ? labels[key]
            : undefined;
        const holds =
            actual === TEMPLATED ? undefined : actual === undefined ? negative : (actual === value) !== negative;
        if (holds === false) {
            return false;
        }
        if (holds === undefined) {
            result = undefined;
        }
    }
    return result;
}

function unselectedWarnings(
    releases: readonly HelmfileRelease[],
    selectors: Record<PhaseName, readonly string[]>,
): string[] {
    const phasesSay = PHASE_ORDER.map(p => `${p}: ${selectors[p].join(" or ")}`).join("; ");
    return grouped(releases, r => `${r.file}\n${ownLabels(r)}`).map(group => {
        const { file } = group[0];
        const labels = ownLabels(group[0]);
        return (
            `${releaseNames(group)} in ${file} ${group.length > 1 ? "are" : "is"} deployed by no phase: ` +
            (labels === ""
                ? `${group.length > 1 ? "they have" : "it has"} no labels for the phases' selectors (${phasesSay}) to match. `
                : `the labels ${labels} match none of the phases' selectors (${phasesSay}). `) +
            "helmfile leaves such a release out without a word, as with kaptain, and no phase destroys it either. " +
            "Fix the `action` label, or a phase's `selectors`"
        );
    });
}

function namespaceWarnings(releases: readonly HelmfileRelease[], namespace: string): string[] {
    return grouped(releases, r => `${r.file}\n${String(r.namespace)}\n${r.namespaceFrom}`).map(group => {
        const { file, namespace: theirs, namespaceFrom } = group[0];
        const where =
            theirs === undefined
                ? `set${group.length > 1 ? "" : "s"} no namespace: helm installs ${group.length > 1 ? "them" : "it"} ` +
                  `into the kubeconfig context's namespace (often "default")`
                : `deploy${group.length > 1 ? "" : "s"} into namespace "${String(theirs)}" ` +
                  `(${namespaceFrom === "helmfile" ? "the helmfile's top-level `namespace:`" : "written in the release"})`;
        return (
            `${releaseNames(group)} in ${file} ${where}, not the Infrastructure's namespace "${namespace}", ` +
            `where its Namespace, namespace Secret and ConfigMap go and which KAPTAIN_NAMESPACE names. ` +
            'A release that follows the Infrastructure takes `namespace: {{ requiredEnv "KAPTAIN_NAMESPACE" }}`'
        );
    });
}

/** The labels the user wrote (helmfile's implicit ones left out), `k=v, …`. */
function ownLabels(release: HelmfileRelease): string {
    const labels = release.labels === TEMPLATED ? {} : release.labels;
    return Object.entries(labels)
        .filter(([k]) => !IMPLICIT_LABELS.includes(k))
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(", ");
}

function releaseNames(group: readonly HelmfileRelease[]): string {
    return `${group.length > 1 ? "releases" : "release"} ${group.map(r => JSON.stringify(r.name)).join(", ")}`;
}

function grouped<T>(items: readonly T[], key: (item: T) => string): T[][] {
    const groups = new Map<string, T[]>();
    for (const item of items) {
        const k = key(item);
        groups.set(k, [...(groups.get(k) ?? []), item]);
    }
    return [...groups.values()];
}
