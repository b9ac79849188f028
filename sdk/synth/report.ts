import * as fs from "node:fs";
import * as path from "node:path";
import { DEFAULT_HELMFILES } from "../layout";
import { formatReleaseChanges } from "../live-diff";
import { NAMESPACE_GUARD } from "../namespace-guard";
import { commandScripts } from "../script/phase-script";
import { SELECTORS_ARRAY } from "../script/helmfile";
import { shQuote, shSplit } from "../script/quote";
import { changedSecrets } from "./secret-digest";
import { Plan, PlannedPhase, PlanResource, SynthResult } from "./synth";

export interface ReportOptions {
    /**
     * The project directory, where the command provider runs: a deleted phase's delete
     * script is checked against the files it needs there.
     */
    readonly projectDirectory?: string;
}

/** A readable summary of a synth: the resource tree, the phases in order, what changed. */
export function report(result: SynthResult, options: ReportOptions = {}): string {
    const { plan, phases } = result;
    const lines = [`kaptain synth: project ${plan.project}, stack ${plan.stack}`, ""];
    lines.push(...tree(plan));
    if (phases.length > 0) {
        lines.push("", "Phases, in deploy order:");
        phases.forEach((p, i) => {
            const dir = (p.command.inputs as { dir?: string }).dir;
            lines.push(`  ${i + 1}. ${p.phase.padEnd(10)} ${helmfileLine(p.scripts.create)}`);
            lines.push(`     ${"".padEnd(10)} in ${dir}; delete: ${helmfileLine(p.scripts.delete)}`);
        });
    }
    if (result.live !== undefined) {
        lines.push("", ...liveSection(result.live));
    }
    lines.push("", ...changes(result.previous, plan));
    const warnings = [
        ...(plan.warnings ?? []),
        ...destructiveChanges(result.previous, plan, options.projectDirectory),
        ...namespaceChanges(result.previous, plan),
    ];
    if (warnings.length > 0) {
        lines.push(
            "",
            "!".repeat(78),
            `WARNING${warnings.length > 1 ? `S (${warnings.length})` : ""}:`,
            ...warnings.map(w => `  ! ${w}`),
            "!".repeat(78),
        );
    }
    lines.push("", `wrote ${result.outDirectory}/ (${result.files.length} files)`);
    return lines.join("\n");
}

/** The releases each phase would change in the cluster, one line each; drift said as such. */
function liveSection(live: NonNullable<SynthResult["live"]>): string[] {
    const lines = ["Live diff (helmfile diff against the cluster; full diffs in live/):"];
    for (const d of live) {
        const name = live.some(o => o.infrastructure !== d.infrastructure) ? `${d.infrastructure} ${d.phase}` : d.phase;
        if (d.changes.length === 0) {
            lines.push(`  ${name}: no release would change`);
            continue;
        }
        const count = `${d.changes.length} release${d.changes.length > 1 ? "s" : ""} would change`;
        lines.push(`  ${name}: ${count}${d.drift ? " (drift: the phase's inputs are as at the previous synth)" : ""}`);
        lines.push(...formatReleaseChanges(d.changes).map(l => `    ${l}`));
    }
    return lines;
}

const COMMAND = "command:local:Command";
const PROVISION_CONFIGS_OBJECTS = new Set(["kubernetes:core/v1:Secret", "kubernetes:core/v1:ConfigMap"]);

/**
 * Changes since the previous synth that destroy something in the cluster: a phase
 * Command removed (its delete script runs `helmfile destroy`), a Namespace deleted
 * with everything in it, a provision-configs object deleted (a mode flip hands it to
 * the chart, or loses it). A Command that only moved to another name is a rename
 * without `aliases`: Pulumi creates the new one, which syncs, then deletes the old,
 * which destroys the same releases. Given the project directory, a removed Command
 * whose namespace folder or helmfile is gone from disk is said to strand its releases:
 * its delete fails before `helmfile destroy`.
 */
export function destructiveChanges(previous: Plan | undefined, plan: Plan, projectDirectory?: string): string[] {
    if (previous === undefined) {
        return [];
    }
    const after = new Set(plan.resources.map(r => r.urn));
    const removed = previous.resources.filter(r => !after.has(r.urn));
    const before = new Set(previous.resources.map(r => r.urn));
    const added = plan.resources.filter(r => !before.has(r.urn));
    const out: string[] = [];
    // A Command without a delete script (the namespace guard) changes nothing when it goes.
    for (const r of removed.filter(x => x.type !== COMMAND || commandScripts(x.inputs).delete !== undefined)) {
        if (r.type === COMMAND && r.protect) {
            out.push(
                `${r.name} would be deleted, but it is protected: pulumi up will stop there until \`protect\` is lifted`,
            );
        } else if (r.type === COMMAND) {
            const deleteScript = commandScripts(r.inputs).delete ?? "";
            const destroy = helmfileLine(deleteScript);
            const gone = projectDirectory !== undefined ? goneSource(r, projectDirectory) : undefined;
            if (gone !== undefined) {
                const namespace = initLine(deleteScript)?.namespace ?? "(unknown)";
                out.push(
                    `${r.name} is deleted, but its delete script cannot run \`${destroy}\`: ${gone} is gone, ` +
                        `so the releases it deployed stay in namespace ${namespace} ` +
                        `(\`helm list --namespace ${namespace}\` lists them). Turn the phase off while ${gone} ` +
                        "is still there, and remove it in a later change; or uninstall the releases yourself " +
                        "and then `pulumi state delete` the phase",
                );
                continue;
            }
            const renamed = added.find(a => a.type === COMMAND && commandScripts(a.inputs).delete === deleteScript);
            out.push(
                `${r.name} is deleted: its delete script runs \`${destroy}\`` +
                    (renamed !== undefined
                        ? ` while ${renamed.name} syncs the same releases (a rename? add \`aliases\` to keep them)`
                        : ""),
            );
        } else if (r.type === "kubernetes:core/v1:Namespace" && !r.retainOnDelete) {
            out.push(`${r.name} is deleted: Namespace ${objectName(r)} and everything still in it`);
        } else if (PROVISION_CONFIGS_OBJECTS.has(r.type)) {
            out.push(
                `${r.name} is deleted: ${r.type.split(":").pop()} ${objectName(r)} ` +
                    "(provision-configs mode changed? the chart must now render it, or it is gone)",
            );
        }
    }
    return out;
}

/**
 * Phases that stay but move to another namespace: Pulumi updates them, they deploy into
 * the new one and forget the old, where their releases stay deployed, no longer managed.
 */
export function namespaceChanges(previous: Plan | undefined, plan: Plan): string[] {
    if (previous === undefined) {
        return [];
    }
    const before = new Map(previous.resources.map(r => [r.urn, r]));
    const moves = new Map<string, { from: string; to: string; phases: string[]; guard?: string }>();
    // The phases: the Commands with a delete script (not the namespace guard).
    for (const r of plan.resources.filter(x => x.type === COMMAND && commandScripts(x.inputs).delete !== undefined)) {
        const old = before.get(r.urn);
        const from = old !== undefined ? initLine(commandScripts(old.inputs).create ?? "")?.namespace : undefined;
        const to = initLine(commandScripts(r.inputs).create ?? "")?.namespace;
        if (from === undefined || to === undefined || from === to) {
            continue;
        }
        const key = [r.parent, from, to].join("\0");
        // The guard stops the deploy if it ran before: new, it has nothing to compare with.
        const guard = plan.resources.find(
            g => g.type === COMMAND && g.parent === r.parent && g.name.endsWith(`-${NAMESPACE_GUARD}`),
        );
        const move = moves.get(key) ?? {
            from,
            to,
            phases: [],
            guard: before.has(guard?.urn ?? "") ? guard?.name : undefined,
        };
        move.phases.push(r.name);
        moves.set(key, move);
    }
    return [...moves.values()].map(({ from, to, phases, guard }) => {
        const they = phases.length > 1 ? "they" : "it";
        return (
            `${phases.join(", ")} ${phases.length > 1 ? "move" : "moves"} from namespace ${from} to ${to}: ` +
            (guard !== undefined
                ? `pulumi up stops at ${guard} before anything deploys, since ${they} would deploy into ${to} and `
                : `${they} will deploy into ${to} and `) +
            `forget ${from}, where the releases deployed so far stay, no longer managed ` +
            `(\`helm list --namespace ${from}\` lists them). To move them, first turn ${phases.length > 1 ? "these phases" : "the phase"} ` +
            `off and pulumi up (the delete scripts destroy the releases in ${from}), then change the namespace ` +
            `and turn ${phases.length > 1 ? "them" : "it"} on again`
        );
    });
}

/** The namespace and namespace folder of a phase script, from its `kaptain_init` line. */
function initLine(script: string): { namespace: string; folder: string } | undefined {
    const line = script.split("\n").find(l => l.startsWith("kaptain_init "));
    const words = line !== undefined ? shSplit(line) : [];
    return words.length === 4 ? { namespace: words[2], folder: words[3] } : undefined;
}

/**
 * What a phase's delete script needs that is gone from disk: the Command's `dir`, the
 * namespace folder, or every helmfile it would read. Scripts written before
 * `kaptain_require_sources` ran in the namespace folder itself (`dir`), and named their
 * helmfile only in `--file`.
 */
function goneSource(r: PlanResource, projectDirectory: string): string | undefined {
    const script = commandScripts(r.inputs).delete ?? "";
    const shown = (p: string) => path.relative(projectDirectory, p) || ".";
    const dir = path.resolve(projectDirectory, String(r.inputs.dir ?? "."));
    if (!isDirectory(dir)) {
        return `the folder ${shown(dir)}`;
    }
    const sources = script.split("\n").find(l => l.startsWith("kaptain_require_sources "));
    const folder = path.resolve(dir, sources !== undefined ? (initLine(script)?.folder ?? ".") : ".");
    if (!isDirectory(folder)) {
        return `the namespace folder ${shown(folder)}`;
    }
    const destroy = shSplit(helmfileLine(script));
    const file = destroy.indexOf("--file") >= 0 ? destroy[destroy.indexOf("--file") + 1] : undefined;
    const helmfiles =
        sources !== undefined ? shSplit(sources).slice(1) : file !== undefined ? [file] : DEFAULT_HELMFILES;
    if (helmfiles.some(f => fs.existsSync(path.resolve(folder, f)))) {
        return undefined;
    }
    return `its helmfile (${helmfiles.map(f => shown(path.resolve(folder, f))).join(" or ")})`;
}

function isDirectory(p: string): boolean {
    try {
        return fs.statSync(p).isDirectory();
    } catch {
        return false;
    }
}

function objectName(r: PlanResource): string {
    const meta = r.inputs.metadata as { name?: string; namespace?: string } | undefined;
    return [meta?.namespace, meta?.name].filter(Boolean).join("/") || r.name;
}

function tree(plan: Plan): string[] {
    const children = new Map<string | undefined, PlanResource[]>();
    for (const r of plan.resources) {
        const key = plan.resources.some(p => p.urn === r.parent) ? r.parent : undefined;
        children.set(key, [...(children.get(key) ?? []), r]);
    }
    const lines: string[] = [];
    const walk = (parent: string | undefined, indent: string) => {
        const list = children.get(parent) ?? [];
        list.forEach((r, i) => {
            const last = i === list.length - 1;
            lines.push(`${indent}${last ? "└─" : "├─"} ${r.type} ${r.name}${detail(r)}`);
            walk(r.urn, `${indent}${last ? "   " : "│  "}`);
        });
    };
    walk(undefined, "");
    return lines;
}

function detail(r: PlanResource): string {
    const meta = r.inputs.metadata as { name?: string; namespace?: string } | undefined;
    if (meta?.name !== undefined) {
        return `  (${meta.namespace !== undefined ? `${meta.namespace}/` : ""}${meta.name})`;
    }
    return "";
}

/** The helmfile command line of a phase script (the line after its helmfile step). */
export function helmfileLine(script: string | undefined): string {
    const lines = (script ?? "").split("\n");
    const step = lines.findIndex(l => /^kaptain_step 'helmfile (sync|apply|destroy)'$/.test(l));
    const command = step >= 0 ? lines.slice(step + 1).find(l => !l.startsWith("export ")) : undefined;
    if (command === undefined) {
        return "(unknown)";
    }
    // A create script's selectors are chosen as it runs (kaptain_select_releases): shown are
    // the phase's, which it deploys unless an update narrows them to some releases.
    const select = lines.find(l => l.startsWith("kaptain_select_releases "));
    const selectors = select !== undefined ? shSplit(select).slice(1) : [];
    return command
        .replace(/ \|\| exit$/, "")
        .replace(SELECTORS_ARRAY, selectors.map(s => `--selector ${shQuote(s)}`).join(" "));
}

/** Resources added, removed, and inputs changed since the previous synth of the stack. */
export function changes(previous: Plan | undefined, plan: Plan): string[] {
    if (previous === undefined) {
        return ["No previous synth of this stack: nothing to compare."];
    }
    const before = new Map(previous.resources.map(r => [r.urn, r]));
    const after = new Map(plan.resources.map(r => [r.urn, r]));
    const out: string[] = [];
    for (const [urn, r] of after) {
        const old = before.get(urn);
        if (old === undefined) {
            out.push(`  + ${r.type} ${r.name}`);
            continue;
        }
        const changed = changedPaths(old.inputs, r.inputs);
        // Said, never shown: a secret whose digest differs, named by where it is.
        const secrets = changedSecrets(old.secretDigests, r.secretDigests).map(at => `${at} (secret, not shown)`);
        if (changed.length > 0 || secrets.length > 0) {
            out.push(`  ~ ${r.type} ${r.name}: ${[...changed, ...secrets].join(", ")}`);
        }
    }
    for (const [urn, r] of before) {
        if (!after.has(urn)) {
            out.push(`  - ${r.type} ${r.name}${r.type === "command:local:Command" ? " (its delete script runs)" : ""}`);
        }
    }
    return out.length === 0
        ? ["No changes since the last synth."]
        : ["Changes since the last synth (secret values are said to change, never shown):", ...out];
}

function changedPaths(a: unknown, b: unknown, prefix = ""): string[] {
    const isObject = (v: unknown): v is Record<string, unknown> =>
        typeof v === "object" && v !== null && !Array.isArray(v);
    if (isObject(a) && isObject(b)) {
        const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
        return keys.flatMap(k => changedPaths(a[k], b[k], prefix ? `${prefix}.${k}` : k));
    }
    return JSON.stringify(a) === JSON.stringify(b) ? [] : [prefix || "(value)"];
}

export type { PlannedPhase };
