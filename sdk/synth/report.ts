import { Plan, PlannedPhase, PlanResource, SynthResult } from "./synth";

/** A readable summary of a synth: the resource tree, the phases in order, what changed. */
export function report(result: SynthResult): string {
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
    lines.push("", ...changes(result.previous, plan));
    lines.push("", `wrote ${result.outDirectory}/ (${result.files.length} files)`);
    return lines.join("\n");
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
    const step = lines.findIndex(l => /^kaptain_step 'helmfile (sync|destroy)'$/.test(l));
    return step >= 0 ? lines[step + 1] : "(unknown)";
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
        if (changed.length > 0) {
            out.push(`  ~ ${r.type} ${r.name}: ${changed.join(", ")}`);
        }
    }
    for (const [urn, r] of before) {
        if (!after.has(urn)) {
            out.push(`  - ${r.type} ${r.name}${r.type === "command:local:Command" ? " (its delete script runs)" : ""}`);
        }
    }
    return out.length === 0
        ? ["No changes since the last synth (secret values are not compared)."]
        : ["Changes since the last synth (secret values are not compared):", ...out];
}

function changedPaths(a: unknown, b: unknown, prefix = ""): string[] {
    const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
    if (isObject(a) && isObject(b)) {
        const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
        return keys.flatMap(k => changedPaths(a[k], b[k], prefix ? `${prefix}.${k}` : k));
    }
    return JSON.stringify(a) === JSON.stringify(b) ? [] : [prefix || "(value)"];
}

export type { PlannedPhase };
