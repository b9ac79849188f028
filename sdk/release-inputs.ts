// Which input files each release reads, so that an edit re-runs only the phases whose
// releases read it, and the phase only those releases (issue 17). When in doubt: nobody
// owns the file, and it re-runs every phase in full, as before.
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import * as YAML from "yaml";
import { HelmfileRelease } from "./helmfile-releases";
import { selectedBy } from "./helmfile-checks";
import { RepositoryLayout } from "./layout";

/** A release as `helmfile build` renders it: its labels and the files only it reads. */
export interface RenderedRelease {
    readonly name: string;
    /** The labels selectors see, helmfile's own `name`, `namespace` and `chart` included. */
    readonly labels: Readonly<Record<string, string>>;
    /** Its values, secrets and `set` files, relative to the repository, `/`-separated. */
    readonly files: readonly string[];
}

/** Who reads which file: a file a release reads, and nothing else might, is that release's. */
export interface ReleaseInputs {
    readonly releases: readonly RenderedRelease[];
    /** The releases that own a repository file (relative path); undefined: shared. */
    owners(rel: string): readonly string[] | undefined;
}

/** Why files could not be attributed to releases: every file is then shared. */
export interface NoReleaseInputs {
    readonly reason: string;
}

/** How `readReleaseInputs` runs helmfile: plain values only. */
export interface ReleaseInputsOptions {
    readonly layout: RepositoryLayout;
    /** The hooks file's text: what its helpers read stays shared. */
    readonly hooks: string;
    /** The helmfile binary, when it is a plain value. */
    readonly binary?: string;
    /** `--environment`, `--kube-context`, global flags: when plain. */
    readonly args: readonly string[];
    /** The user's variables (`environment`), when all are plain. */
    readonly environment: Readonly<Record<string, string>>;
    /** The file helmfile runs (`--file`), relative to the namespace directory. */
    readonly file?: string;
}

/** The helpers of hooks.sh that read `configs/<name>/` (embed into a chart, pack for rclone). */
const CONFIG_READING_HELPERS = /\b(embed_config|embed_subconfig|rclone_config)\b([^\n;&|]*)/g;

/**
 * The `configs/<name>` folders the hooks read through kaptain's helpers, or a reason why
 * they cannot be known: a helper given a computed name, `merge_config` (any paths), a file
 * the hooks source, or a path under `configs/` named elsewhere in the hooks. What the hooks
 * read may end up in a chart (make-config embeds it) or be uploaded: it belongs to every phase.
 */
export function configsReadByHooks(hooks: string): { names: string[] } | { reason: string } {
    const text = hooks.replace(/^\s*#.*$/gm, "");
    if (/\bmerge_config\b/.test(text)) {
        return { reason: "the hooks call merge_config, which may copy any path" };
    }
    if (/(^|[\s;&|(])(source|\.)\s+[^\s;&|]/m.test(text)) {
        return { reason: "the hooks source another file, which may read any path" };
    }
    const names = new Set<string>();
    let rest = text;
    for (const match of text.matchAll(CONFIG_READING_HELPERS)) {
        const first = match[2].trim().split(/\s+/)[0] ?? "";
        const name = first.replace(/^(['"])(.*)\1$/, "$2");
        if (!/^[A-Za-z0-9._-]+$/.test(name)) {
            return { reason: `the hooks call ${match[1]} with a computed name (${first || "none"})` };
        }
        names.add(name);
        rest = rest.replace(match[0], "");
    }
    if (/configs\//.test(rest) || /\bconfigs\b/.test(rest.replace(/\$\{?KAPTAIN_\w+\}?/g, ""))) {
        return { reason: "the hooks name a path under configs/ outside kaptain's helpers" };
    }
    return { names: [...names].sort() };
}

/**
 * Renders the helmfile the phases run with `helmfile build` (no cluster, no helm) and
 * attributes each values, secrets and `set` file to the releases that list it. A file is
 * shared (undefined owners) when no release lists it, when it lies under a `configs/<name>`
 * folder the hooks read, or when anything makes the reading uncertain (a values template,
 * which may read any file; a sub-helmfile; a remote path); then the reason is returned.
 */
export function readReleaseInputs(options: ReleaseInputsOptions): ReleaseInputs | NoReleaseInputs {
    const { layout } = options;
    const hooks = configsReadByHooks(options.hooks);
    if ("reason" in hooks) {
        return hooks;
    }
    if (options.binary === undefined) {
        return { reason: "`helmfile.binary` is not a plain value" };
    }
    const run = spawnSync(
        options.binary,
        [...(options.file !== undefined ? ["--file", options.file] : []), ...options.args, "build"],
        {
            cwd: layout.namespaceDirectory,
            env: {
                ...process.env,
                ...options.environment,
                KAPTAIN_NAMESPACE: layout.namespace,
                KAPTAIN_NAMESPACE_DIRECTORY: layout.namespaceDirectory,
                KAPTAIN_WORKING_DIRECTORY: layout.workingDirectory,
            },
            encoding: "utf8",
            timeout: 120_000,
            maxBuffer: 64 * 1024 * 1024,
            stdio: ["ignore", "pipe", "pipe"],
        },
    );
    if (run.error !== undefined || run.status !== 0) {
        const why = run.error !== undefined ? (run.error as NodeJS.ErrnoException).code : `exit status ${run.status}`;
        // helmfile's message may show values: only its status.
        return { reason: `\`${options.binary} build\` did not render the helmfile (${why})` };
    }
    const read = readBuild(run.stdout, layout.workingDirectory);
    if ("reason" in read) {
        return read;
    }
    const hookFolders = hooks.names.flatMap(n => [`configs/${n}/`, `namespaces/${layout.namespace}/configs/${n}/`]);
    const owners = new Map<string, string[]>();
    for (const release of read.releases) {
        for (const file of release.files) {
            if (hookFolders.some(f => file.startsWith(f))) {
                continue;
            }
            owners.set(file, [...(owners.get(file) ?? []), release.name]);
        }
    }
    for (const file of read.environmentFiles) {
        owners.delete(file);
    }
    return { releases: read.releases, owners: rel => owners.get(rel) };
}

/** The releases of `helmfile build`'s output and the files its environments read. */
export function readBuild(
    output: string,
    workingDirectory: string,
): { releases: RenderedRelease[]; environmentFiles: string[] } | NoReleaseInputs {
    const releases: RenderedRelease[] = [];
    const environmentFiles: string[] = [];
    for (const doc of YAML.parseAllDocuments(output)) {
        if (doc.errors.length > 0) {
            return { reason: "`helmfile build` printed something that is not YAML" };
        }
        // helmfile heads each part with `# Source: <state file>`, which the parser hangs
        // on the document or on its first node.
        const comments = `${doc.commentBefore ?? ""}\n${(doc.contents as { commentBefore?: string } | null)?.commentBefore ?? ""}`;
        const source = /Source:\s*(\S.*)$/m.exec(comments)?.[1]?.trim();
        const state = (doc.toJS() ?? {}) as BuildState;
        if (state.releases === undefined && state.environments === undefined) {
            continue;
        }
        if (source === undefined || !path.isAbsolute(source)) {
            return { reason: "`helmfile build` did not say which file a part came from" };
        }
        if (state.helmfiles !== undefined) {
            return { reason: "the helmfile includes other helmfiles (`helmfiles:`)" };
        }
        const base = path.dirname(source);
        const relative = (file: string): string | undefined => {
            if (/^[a-z0-9+.-]+::|^[a-z]+:\/\//i.test(file)) {
                return undefined;
            }
            const rel = path.relative(workingDirectory, path.resolve(base, file)).split(path.sep).join("/");
            return rel.startsWith("../") || rel === ".." || path.isAbsolute(rel) ? undefined : rel;
        };
        for (const env of Object.values(state.environments ?? {})) {
            for (const v of [...(env?.values ?? []), ...(env?.secrets ?? [])]) {
                if (typeof v === "string") {
                    const rel = relative(v);
                    if (rel !== undefined) environmentFiles.push(rel);
                }
            }
        }
        for (const r of state.releases ?? []) {
            if (typeof r?.name !== "string") {
                return { reason: "a release of `helmfile build` has no name" };
            }
            if (r.valuesTemplate !== undefined || r.setTemplate !== undefined) {
                return { reason: `release ${r.name} has values templates` };
            }
            const files: string[] = [];
            const paths = [
                ...(r.values ?? []),
                ...(r.secrets ?? []),
                ...(r.set ?? []).map(s => (typeof s === "object" && s !== null ? s.file : undefined)),
                ...(r.setString ?? []).map(s => (typeof s === "object" && s !== null ? s.file : undefined)),
            ];
            for (const p of paths) {
                if (typeof p !== "string") {
                    continue; // inline values: part of the helmfile, which every phase reads
                }
                if (/\.gotmpl$|\{\{/.test(p)) {
                    return {
                        reason: `release ${r.name} reads a values template (${path.basename(p)}), which may read any file`,
                    };
                }
                const rel = relative(p);
                if (rel === undefined) {
                    return { reason: `release ${r.name} reads a file outside the repository or a remote one` };
                }
                files.push(rel);
            }
            const labels = Object.fromEntries(Object.entries(r.labels ?? {}).map(([k, v]) => [k, String(v)])) as Record<
                string,
                string
            >;
            releases.push({ name: r.name, labels, files });
        }
    }
    return { releases, environmentFiles };
}

interface BuildState {
    readonly helmfiles?: unknown;
    readonly environments?: Record<string, { values?: unknown[]; secrets?: unknown[] } | null>;
    readonly releases?: Array<{
        name?: unknown;
        labels?: Record<string, unknown>;
        values?: unknown[];
        secrets?: unknown[];
        set?: Array<{ file?: unknown } | null>;
        setString?: Array<{ file?: unknown } | null>;
        valuesTemplate?: unknown;
        setTemplate?: unknown;
    } | null>;
}

/**
 * The releases a phase's selectors pick, by name; undefined when a selector cannot be
 * evaluated (then the phase gets every release's inputs).
 */
export function releasesOfPhase(
    releases: readonly RenderedRelease[],
    selectors: readonly string[],
): string[] | undefined {
    const picked: string[] = [];
    for (const r of releases) {
        const labels = r.labels as HelmfileRelease["labels"];
        const selected = selectors.length === 0 ? true : selectedBy(selectors, labels);
        if (selected === undefined) {
            return undefined;
        }
        if (selected) {
            picked.push(r.name);
        }
    }
    return picked;
}
