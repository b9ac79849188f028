// The releases a helmfile declares, read without helmfile: names, labels and namespaces,
// for the checks that catch a release no phase deploys or one that lands in another
// namespace. Only what can be read honestly is read: a template expression that writes a
// value makes that value unknown; template control flow (`{{ if }}`, `{{ range }}`), an
// expression that may write YAML of its own, a remote or templated path make a file
// unread, and the reader says which and why.
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { DEFAULT_HELMFILES, RepositoryLayout } from "./layout";

/** A value a template expression writes: unknown until helmfile renders it. */
export const TEMPLATED = Symbol("templated");
export type Known<T> = T | typeof TEMPLATED;

/** One release, as helmfile would select it. */
export interface HelmfileRelease {
    /** The state file that declares it, absolute. */
    readonly file: string;
    /** Its name as written, template expressions included. */
    readonly name: string;
    /** The labels selectors see: its own, `commonLabels`, and helmfile's `name`, `namespace` and `chart`. */
    readonly labels: Known<Readonly<Record<string, Known<string>>>>;
    /** The namespace helm installs it into; undefined when the helmfile sets none. */
    readonly namespace?: Known<string>;
    /** Where that namespace is written: the release's `namespace:` or the helmfile's top-level one. */
    readonly namespaceFrom?: "release" | "helmfile";
    /** False when a parent's `helmfiles:` entry gives it selectors of its own instead of the phase's. */
    readonly phaseSelected: boolean;
}

/** A file (or a release in it) that could not be read, and why. */
export interface UnreadHelmfile {
    readonly file: string;
    readonly reason: string;
}

export interface HelmfileReading {
    readonly releases: HelmfileRelease[];
    readonly unread: UnreadHelmfile[];
}

/** Placeholder -> the template expression it stands for, shared by every file of one reading. */
type Templates = Map<string, string>;

/** A reading under way: what was found, the expressions set aside, the files already read. */
interface Reader extends HelmfileReading {
    readonly templates: Templates;
    readonly seen: Set<string>;
}

type Mapping = Record<string, unknown>;

const PLACEHOLDERS = /__kaptain_template_\d+__/g;
const HAS_PLACEHOLDER = /__kaptain_template_\d+__/;
const CONTROL = /^(if|else|end|range|with|define|template|block|break|continue)\b/;
/** More state files than any repository has: a guard against a runaway `helmfiles:` tree. */
const MAX_FILES = 64;

/**
 * Sets the template expressions of a helmfile aside: a comment or a variable assignment
 * writes nothing, any other expression writes one unknown value (a placeholder, recorded
 * in `templates`). `{{-` and `-}}` trim whitespace as Go templates do. Returns why the
 * text cannot be read when it uses control flow, or when an expression stands alone on
 * its line (it may write YAML of its own).
 */
export function setTemplatesAside(
    text: string,
    templates: Templates = new Map(),
): { text: string } | { reason: string } {
    let out = "";
    let at = 0;
    for (;;) {
        const open = text.indexOf("{{", at);
        if (open < 0) {
            out += text.slice(at);
            break;
        }
        const close = actionEnd(text, open + 2);
        if (close < 0) {
            return { reason: `the template expression at line ${lineOf(text, open)} is not closed` };
        }
        const body = text.slice(open + 2, close);
        out += text.slice(at, open);
        if (/^-\s/.test(body)) {
            out = out.replace(/\s+$/, "");
        }
        const inner = body.replace(/^-\s/, "").replace(/\s-$/, "").trim();
        const control = CONTROL.exec(inner);
        if (control !== null) {
            return {
                reason: `it uses template control flow (\`{{ ${control[1]} }}\` at line ${lineOf(text, open)})`,
            };
        }
        const writesNothing = /^\/\*[\s\S]*\*\/$/.test(inner) || /^\$\w*\s*:?=/.test(inner);
        if (!writesNothing) {
            const placeholder = `__kaptain_template_${templates.size}__`;
            templates.set(placeholder, `{{${body}}}`);
            out += placeholder;
        }
        at = close + 2;
        if (/\s-$/.test(body)) {
            while (at < text.length && /\s/.test(text[at])) at++;
        }
    }
    const alone = out.split("\n").find(l => /^\s*(__kaptain_template_\d+__\s*)+$/.test(l));
    if (alone !== undefined) {
        const written = templates.get(alone.trim().split(/\s+/)[0])!;
        return {
            reason:
                `the template expression \`${written}\` (line ${lineOf(text, text.indexOf(written))}) ` +
                "stands on a line of its own and may write YAML",
        };
    }
    return { text: out };
}

/** Where the `}}` closing an action is, skipping Go strings, raw strings and comments; -1 when none. */
function actionEnd(text: string, from: number): number {
    if (/^-?\s*\/\*/.test(text.slice(from, from + 4))) {
        const end = text.indexOf("*/", from);
        return end < 0 ? -1 : text.indexOf("}}", end);
    }
    let i = from;
    while (i < text.length) {
        const c = text[i];
        if (text.startsWith("}}", i)) {
            return i;
        }
        if (c === "`") {
            const end = text.indexOf("`", i + 1);
            if (end < 0) return -1;
            i = end + 1;
        } else if (c === '"' || c === "'") {
            i++;
            while (i < text.length && text[i] !== c && text[i] !== "\n") {
                i += text[i] === "\\" ? 2 : 1;
            }
            i++;
        } else {
            i++;
        }
    }
    return -1;
}

function lineOf(text: string, index: number): number {
    return text.slice(0, Math.max(index, 0)).split("\n").length;
}

/** What one state file declares, its parts and bases merged as helmfile merges them. */
interface State {
    releases: unknown[];
    namespace?: unknown;
    /** TEMPLATED when a template expression writes the map. */
    commonLabels: Mapping | typeof TEMPLATED;
    templates: Mapping;
    defaultInherit: unknown[];
    helmfiles: unknown[];
}

interface Context {
    /** False below a `helmfiles:` entry with selectors of its own. */
    readonly phaseSelected: boolean;
    /** `commonLabels` a parent passes down with `inherits: [commonLabels]`. */
    readonly inheritedLabels: Mapping | typeof TEMPLATED;
}

/**
 * Reads every release helmfile would load for the layout's namespace: its `--file`, or
 * helmfile's own lookup in the namespace directory, then bases and sub-helmfiles.
 */
export function readHelmfileReleases(layout: RepositoryLayout): HelmfileReading {
    const reader: Reader = { releases: [], unread: [], templates: new Map(), seen: new Set() };
    const top =
        layout.helmfileFile !== undefined
            ? path.resolve(layout.namespaceDirectory, layout.helmfileFile)
            : DEFAULT_HELMFILES.map(f => path.join(layout.namespaceDirectory, f)).find(f => fs.existsSync(f));
    if (top !== undefined) {
        readTarget(top, { phaseSelected: true, inheritedLabels: {} }, reader);
    }
    return { releases: reader.releases, unread: reader.unread };
}

/** A state file, or a folder of them (`helmfile.d`: `*.y*ml` and `*.y*ml.gotmpl`, in name order). */
function readTarget(target: string, context: Context, reader: Reader): void {
    let files: string[];
    try {
        files = fs.statSync(target).isDirectory()
            ? fs
                  .readdirSync(target)
                  .filter(f => /\.y[^.]*ml(\.gotmpl)?$/.test(f))
                  .sort()
                  .map(f => path.join(target, f))
            : [target];
    } catch {
        reader.unread.push({ file: target, reason: "it does not exist" });
        return;
    }
    for (const file of files) {
        const state = readState(file, reader);
        if (state !== undefined) {
            collect(file, state, context, reader);
        }
    }
}

/** One state file with its parts and bases merged; undefined when it cannot be read (said why) or was read. */
function readState(file: string, reader: Reader): State | undefined {
    if (reader.seen.has(file) || reader.seen.size >= MAX_FILES) {
        return undefined;
    }
    reader.seen.add(file);
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (err) {
        reader.unread.push({ file, reason: `it cannot be read (${(err as NodeJS.ErrnoException).code})` });
        return undefined;
    }
    const prepared = setTemplatesAside(text, reader.templates);
    if ("reason" in prepared) {
        reader.unread.push({ file, reason: prepared.reason });
        return undefined;
    }
    const state: State = { releases: [], commonLabels: {}, templates: {}, defaultInherit: [], helmfiles: [] };
    // failsafe: every scalar as written, as go-yaml hands a label to a string field.
    for (const doc of YAML.parseAllDocuments(prepared.text, { schema: "failsafe", merge: true })) {
        const error = doc.errors[0];
        if (error !== undefined) {
            const why = error.message.split("\n")[0];
            reader.unread.push({ file, reason: `it is not YAML once its template expressions are set aside: ${why}` });
            return undefined;
        }
        const part = doc.toJS({ maxAliasCount: 10_000 }) as unknown;
        if (!isMapping(part)) {
            continue;
        }
        // helmfile layers a part's bases under it, then merges the parts in order.
        for (const base of asList(part.bases)) {
            const basePath = localPath(base);
            if (typeof basePath !== "string") {
                reader.unread.push({ file, reason: `its base ${display(base, reader)} ${basePath.reason}` });
                continue;
            }
            const layer = readState(path.resolve(path.dirname(file), basePath), reader);
            if (layer !== undefined) {
                merge(state, layer);
            }
        }
        for (const key of ["releases", "helmfiles", "bases", "defaultInherit"]) {
            if (isSet(part[key]) && !Array.isArray(part[key])) {
                reader.unread.push({ file, reason: `its \`${key}\` is written by a template expression` });
            }
        }
        merge(state, {
            releases: asList(part.releases),
            namespace: part.namespace,
            commonLabels: isMapping(part.commonLabels) ? part.commonLabels : isSet(part.commonLabels) ? TEMPLATED : {},
            templates: isMapping(part.templates) ? part.templates : {},
            defaultInherit: asList(part.defaultInherit),
            helmfiles: asList(part.helmfiles),
        });
    }
    return state;
}

/** helmfile's merge of parts and bases: lists appended, maps merged, scalars overridden by the later. */
function merge(into: State, layer: State): void {
    into.releases.push(...layer.releases);
    if (isSet(layer.namespace)) into.namespace = layer.namespace;
    into.commonLabels = mergeLabels(into.commonLabels, layer.commonLabels);
    Object.assign(into.templates, layer.templates);
    into.defaultInherit.push(...layer.defaultInherit);
    into.helmfiles.push(...layer.helmfiles);
}

/** Records the releases of one state file, then reads its sub-helmfiles. */
function collect(file: string, state: State, context: Context, reader: Reader): void {
    const commonLabels = mergeLabels(context.inheritedLabels, state.commonLabels);
    for (const raw of state.releases) {
        if (!isMapping(raw)) {
            reader.unread.push({ file, reason: "a release is written by a template expression" });
            continue;
        }
        const spec = withInherited(raw, state);
        if (spec === undefined) {
            const name = display(raw.name, reader);
            reader.unread.push({ file, reason: `release ${name} inherits a template that cannot be read` });
            continue;
        }
        if (typeof spec.installed === "string" && /^(false|False|FALSE)$/.test(spec.installed)) {
            continue; // switched off on purpose: helmfile removes it
        }
        const namespaceFrom = isSet(state.namespace) ? "helmfile" : isSet(spec.namespace) ? "release" : undefined;
        const namespace = namespaceFrom === "helmfile" ? state.namespace : spec.namespace;
        reader.releases.push({
            file,
            name: display(spec.name, reader),
            labels: labelsOf(spec, commonLabels, namespace),
            ...(namespaceFrom !== undefined ? { namespace: known(namespace), namespaceFrom } : {}),
            phaseSelected: context.phaseSelected,
        });
    }
    for (const entry of state.helmfiles) {
        const spec: Mapping = isMapping(entry) ? entry : { path: entry };
        const target = localPath(spec.path);
        if (typeof target !== "string") {
            reader.unread.push({ file, reason: `its sub-helmfile ${display(spec.path, reader)} ${target.reason}` });
            continue;
        }
        // helmfile: a sub-helmfile given selectors of its own is not filtered by the phase's.
        const ownSelectors = "selectors" in spec && !/^(true|True|TRUE)$/.test(String(spec.selectorsInherited));
        const child: Context = {
            phaseSelected: context.phaseSelected && !ownSelectors,
            inheritedLabels: asList(spec.inherits).map(String).includes("commonLabels") ? commonLabels : {},
        };
        for (const match of expand(path.resolve(path.dirname(file), target))) {
            readTarget(match, child, reader);
        }
    }
}

/** The labels selectors see (`commonLabels` win, as in helmfile); TEMPLATED when a template writes the map. */
function labelsOf(
    spec: Mapping,
    commonLabels: Mapping | typeof TEMPLATED,
    namespace: unknown,
): HelmfileRelease["labels"] {
    if ((isSet(spec.labels) && !isMapping(spec.labels)) || commonLabels === TEMPLATED) {
        return TEMPLATED;
    }
    const labels: Record<string, Known<string>> = {};
    for (const [k, v] of Object.entries({ ...(isMapping(spec.labels) ? spec.labels : {}), ...commonLabels })) {
        if (HAS_PLACEHOLDER.test(k)) {
            return TEMPLATED;
        }
        labels[k] = known(v) ?? "";
    }
    const chart = known(spec.chart);
    labels.name = known(spec.name) ?? "";
    labels.namespace = known(namespace) ?? "";
    labels.chart = chart === TEMPLATED ? TEMPLATED : (chart ?? "").split("/").pop()!;
    return labels;
}

/** Label maps merged, the later's keys winning; unknown as soon as one is. */
function mergeLabels(
    earlier: Mapping | typeof TEMPLATED,
    later: Mapping | typeof TEMPLATED,
): Mapping | typeof TEMPLATED {
    return earlier === TEMPLATED || later === TEMPLATED ? TEMPLATED : { ...earlier, ...later };
}

/**
 * A release with the templates it `inherit`s, the state's `defaultInherit` first, merged
 * as helmfile 1.x merges them: what a template sets first is kept, the release fills the
 * rest. undefined when a template is missing, templated or inherits in a cycle.
 */
function withInherited(release: Mapping, state: State, chain: readonly string[] = []): Mapping | undefined {
    const own = asList(release.inherit).filter(isMapping);
    const named = new Set(own.map(i => String(i.template)));
    const defaults = chain.length === 0 ? state.defaultInherit.map(String).filter(t => !named.has(t)) : [];
    const inherits: Mapping[] = [...defaults.map(template => ({ template })), ...own];
    if (inherits.length === 0) {
        return release;
    }
    const merged: Mapping = {};
    for (const inherit of inherits) {
        const name = String(inherit.template ?? "");
        const template = state.templates[name];
        if (name === "" || chain.includes(name) || !isMapping(template)) {
            return undefined;
        }
        const source = withInherited(template, state, [...chain, name]);
        if (source === undefined) {
            return undefined;
        }
        const except = asList(inherit.except).map(String);
        fillGaps(merged, except.includes("labels") ? { ...source, labels: {} } : source);
    }
    fillGaps(merged, release);
    return merged;
}

/** mergo without override: a key already set stays; maps are merged key by key the same way. */
function fillGaps(into: Mapping, from: Mapping): void {
    for (const [k, v] of Object.entries(from)) {
        const current = into[k];
        if (isMapping(current) && isMapping(v)) {
            into[k] = { ...v, ...current };
        } else if (!isSet(current)) {
            into[k] = v;
        }
    }
}

/** A local path a helmfile names, or why this reader cannot follow it. */
function localPath(value: unknown): string | { reason: string } {
    if (typeof value !== "string" || value === "") {
        return { reason: "is not a path" };
    }
    if (HAS_PLACEHOLDER.test(value)) {
        return { reason: "is written by a template expression" };
    }
    if (/^[a-z0-9+]+::|:\/\//i.test(value)) {
        return { reason: "is remote" };
    }
    return value;
}

/** A path with `*` or `?` in its last segment, expanded in name order; other paths as written. */
function expand(target: string): string[] {
    const dir = path.dirname(target);
    const last = path.basename(target);
    if (!/[*?]/.test(last) || /[*?[]/.test(dir)) {
        return [target];
    }
    const escaped = last
        .replace(/[.+^${}()|[\]\\]/g, "\\$&")
        .replace(/\*/g, "[^/]*")
        .replace(/\?/g, ".");
    const pattern = new RegExp(`^${escaped}$`);
    try {
        return fs
            .readdirSync(dir)
            .filter(f => pattern.test(f))
            .sort()
            .map(f => path.join(dir, f));
    } catch {
        return [target];
    }
}

/** A scalar's text, TEMPLATED when a template writes it, undefined when unset. */
function known(value: unknown): Known<string> | undefined {
    if (!isSet(value)) {
        return undefined;
    }
    const text = String(value);
    return HAS_PLACEHOLDER.test(text) ? TEMPLATED : text;
}

/** A value as the user wrote it, template expressions put back. */
function display(value: unknown, reader: Reader): string {
    const text = typeof value === "string" ? value : JSON.stringify(value ?? null);
    return text.replace(PLACEHOLDERS, p => reader.templates.get(p) ?? p);
}

/** go-yaml's empty values: a missing key, `~`, `null` or nothing. */
function isSet(value: unknown): boolean {
    return value !== undefined && value !== null && !(typeof value === "string" && /^(|~|null|Null|NULL)$/.test(value));
}

function isMapping(value: unknown): value is Mapping {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

function asList(value: unknown): unknown[] {
    return Array.isArray(value) ? value : [];
}
