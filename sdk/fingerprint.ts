import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import * as YAML from "yaml";
import { DEFAULTS } from "./defaults";
import { describeFileType, NotRegularFileError, openRegularFile, readRegularFile } from "./regular-file";

/**
 * The input fingerprint of one namespace: what helmfile can read for it, summarised as
 * one digest per group (a top-level file, or a folder two levels deep such as
 * `configs/redis` or `namespaces/dev/configs/redis`). Groups make `pulumi preview --diff`
 * name what changed, while the whole fingerprint stays a few kilobytes.
 *
 * Only relative paths and contents count: no absolute path, mtime or file mode, so the
 * same commit gives the same fingerprint from any clone on any machine.
 */
export interface FingerprintGroup {
    /** Relative path of the group, with `/` separators. */
    readonly group: string;
    /** sha256 over the group's sorted (path, content digest) pairs, hex. */
    readonly digest: string;
    /** How many files the group holds. */
    readonly files: number;
    /**
     * The release whose own files the group holds (its values files, which nothing else
     * reads): only the phases that select it carry the group, and an update re-runs only it.
     */
    readonly release?: string;
}

/**
 * A file a phase reads that may lie outside the repository: the hooks file, helmfile's
 * `--file`. Its edits must re-run the phases wherever it is.
 */
export interface PhaseInput {
    /** The argument that names it (`hooks`, `helmfile.file`): its group is `@<argument>/…`. */
    readonly argument: string;
    /** The file (or helmfile.d folder) the phase reads, absolute. */
    readonly file: string;
    /**
     * The folder the phase also reads from when the file is not in the repository, absolute:
     * helmfile resolves a state file's values, charts and `bases` against the state file's
     * folder. Undefined: the file alone (a hooks file is sourced, nothing more).
     */
    readonly folder?: string;
}

export interface FingerprintOptions {
    /** The Helmfile repository, absolute. */
    readonly workingDirectory: string;
    /**
     * Files the phases read, counted even when the repository's walk does not reach them
     * (outside it, in another namespace's folder, excluded).
     */
    readonly phaseInputs?: readonly PhaseInput[];
    /** The namespace; other namespaces' folders under `namespaces/` are not inputs. */
    readonly namespace: string;
    /** Relative paths (files or folders) to leave out, on top of {@link DEFAULT_EXCLUDES}. */
    readonly exclude?: readonly string[];
    /** File names of credentials, each in a group of its own. @default {@link DEFAULT_SECRET_FILES} */
    readonly secretFiles?: readonly string[];
    /** Above this many groups, folders are grouped one level deep instead of two. @default 400 */
    readonly maxGroups?: number;
    /**
     * The releases that alone read a file (relative path), see `readReleaseInputs`: such a
     * file counts in a group of each of them (`release:<name>`), not in its folder's.
     */
    readonly owners?: (rel: string) => readonly string[] | undefined;
}

/** Names (folders, files, links) that helmfile never reads as inputs, skipped wherever they appear. */
export const DEFAULT_EXCLUDES: readonly string[] = [
    ".kaptain-lock",
    ".git",
    ".hg",
    ".svn",
    "node_modules",
    ".kaptain",
    ".kaptain.lock",
    ".pulumi",
];

/**
 * Files of a Pulumi project, skipped at the repository's top level: when the Helmfile
 * repository is the program's own directory, editing the program's package or a
 * stack's config must not re-run every phase (stack config that matters reaches the
 * phases as inputs of its own).
 */
export const PROJECT_FILES: readonly RegExp[] = [
    /^Pulumi(\..+)?\.ya?ml$/,
    /^package(-lock)?\.json$/,
    /^npm-shrinkwrap\.json$/,
    /^yarn\.lock$/,
    /^pnpm-lock\.yaml$/,
    /^tsconfig(\..+)?\.json$/,
];

/** A folder holding this file is `kaptain synth`'s output: never an input. */
export const SYNTH_OUTPUT_MARKER = ".kaptain-synth-output";

/** A problem with the repository's files: a dangling symlink, a loop, a FIFO. Names the path. */
export class FingerprintError extends Error {
    constructor(
        message: string,
        /** The phase input whose files it concerns (`hooks`, `helmfile.file`); undefined: the repository's. */
        readonly input?: PhaseInput,
    ) {
        super(message);
        this.name = "FingerprintError";
    }
}

/**
 * Files holding credentials (secret values, rclone remotes), each in a group of its own so
 * that a preview names the file. Their digests are no more secret than any other: every
 * digest is (see {@link fingerprintEntries}), since any values file may hold a password.
 */
export const DEFAULT_SECRET_FILES: readonly string[] = ["secret.yaml", "secrets.yaml", "rclone.conf"];

const CHUNK_BYTES = 1024 * 1024;
/** Archives up to this size, packed and unpacked, count as their entries (see {@link archiveDigest}). */
const MAX_ARCHIVE_BYTES = 64 * 1024 * 1024;

interface FileEntry {
    /** Relative path with `/` separators; under `@<argument>/` for a phase input outside the walk. */
    readonly rel: string;
    readonly abs: string;
    /** The phase input it belongs to, when the repository's walk did not reach that. */
    readonly input?: PhaseInput;
}

/**
 * Lists the input files of a namespace, sorted by relative path. Symlinks count as what
 * they point to, files and folders alike (a config shared from elsewhere, a namespace
 * folder that is a link): an edit to the target is an edit. A dangling link, a loop, or
 * anything that is not a regular file or folder (a FIFO, a socket, a device: helmfile
 * would hang or fail reading it, and it has no content to digest) throws a
 * {@link FingerprintError} naming it.
 *
 * A phase input (the hooks file, helmfile's `--file`) that the walk does not reach counts
 * too, under `@<argument>/`: the file alone, or every file of its folder (the repository
 * itself left out, it is walked already).
 *
 * Synchronous on purpose: the fingerprint's keys must be known when the Command is
 * constructed, so that each key stays its own secret entry (an async map would be one
 * Output, secret as a whole, and a preview could no longer name the group that changed).
 */
export function listInputFiles(options: FingerprintOptions): FileEntry[] {
    const repository = fs.realpathSync(options.workingDirectory);
    const files = walkTree(options.workingDirectory, "", options);
    for (const input of options.phaseInputs ?? []) {
        if (reached(input.file, options.workingDirectory, files)) {
            continue;
        }
        if (input.folder === undefined) {
            files.push({ rel: `${inputLabel(input)}/${path.basename(input.file)}`, abs: input.file, input });
            continue;
        }
        try {
            files.push(...walkTree(input.folder, inputLabel(input), options, repository).map(f => ({ ...f, input })));
        } catch (err) {
            throw err instanceof FingerprintError ? new FingerprintError(err.message, input) : err;
        }
    }
    return files.sort((a, b) => compare(a.rel, b.rel));
}

/** Where a phase input's files are listed: `@hooks`, `@helmfile.file`. */
function inputLabel(input: PhaseInput): string {
    return `@${input.argument}`;
}

/** Whether the repository's walk listed `file` (or, for a folder, something in it). */
function reached(file: string, workingDirectory: string, files: readonly FileEntry[]): boolean {
    const rel = path.relative(workingDirectory, file).split(path.sep).join("/");
    if (rel === "" || rel === ".." || rel.startsWith("../") || path.isAbsolute(rel)) {
        return false;
    }
    return files.some(f => f.rel === rel || f.rel.startsWith(`${rel}/`));
}

/**
 * The files below `root`, relative paths starting with `rootRel`; `skip` is a folder (by
 * real path) left out, the repository when walking a phase input's folder.
 */
function walkTree(root: string, rootRel: string, options: FingerprintOptions, skip?: string): FileEntry[] {
    const excludedNames = new Set(DEFAULT_EXCLUDES);
    const excludedPaths = new Set((options.exclude ?? []).map(normaliseRel));
    const files: FileEntry[] = [];
    const join = (dir: string, name: string) => (dir === "" ? name : `${dir}/${name}`);

    const walk = (
        absDir: string,
        relDir: string,
        ancestors: ReadonlySet<string>,
        derivedArchive: (name: string) => boolean = () => false,
    ): void => {
        let entries: fs.Dirent[];
        try {
            entries = fs.readdirSync(absDir, { withFileTypes: true });
        } catch (err) {
            throw new FingerprintError(`${relDir || "."} cannot be listed (${(err as NodeJS.ErrnoException).code})`);
        }
        if (relDir !== rootRel && entries.some(e => e.name === SYNTH_OUTPUT_MARKER)) {
            return;
        }
        const chart = entries.some(e => e.name === "Chart.yaml");
        const owned = chart ? helmOwnedArchives(absDir) : undefined;
        for (const entry of entries) {
            const rel = join(relDir, entry.name);
            if (
                excludedPaths.has(rel) ||
                excludedNames.has(entry.name) ||
                (relDir === rootRel && PROJECT_FILES.some(p => p.test(entry.name))) ||
                (chart && HELM_TEMPORARY.test(entry.name)) ||
                derivedArchive(entry.name)
            ) {
                continue;
            }
            const abs = path.join(absDir, entry.name);
            const kind = entry.isSymbolicLink()
                ? linkTarget(abs, rel)
                : entry.isDirectory()
                  ? "directory"
                  : entry.isFile()
                    ? "file"
                    : "other";
            if (kind === "directory") {
                if (isOtherNamespace(rel, options.namespace)) {
                    continue;
                }
                const real = fs.realpathSync(abs);
                if (ancestors.has(real)) {
                    throw new FingerprintError(`${rel} is a symlink loop: it leads back to ${real}, which contains it`);
                }
                if (real === skip) {
                    continue;
                }
                walk(abs, rel, new Set([...ancestors, real]), entry.name === "charts" ? owned : undefined);
            } else if (kind === "file") {
                files.push({ rel, abs });
            } else {
                throw new FingerprintError(notRegular(rel, fs.statSync(abs)));
            }
        }
    };
    walk(root, rootRel, new Set([fs.realpathSync(root)]));
    return files;
}

/** Why a FIFO, socket or device in the repository is an error, not a silent skip. */
function notRegular(rel: string, stat: fs.Stats): string {
    return (
        `${rel} is ${describeFileType(stat)}, not a regular file or folder: helmfile would hang or fail ` +
        "if it read it, and it has no content to digest. Remove it or leave it out"
    );
}

/**
 * What helm writes into a chart while helmfile deploys: `helm dependency build` packs each
 * dependency into `charts/<name>-<version>.tgz` in a `tmpcharts*` folder first, then moves
 * it into place. The folder is transient: never an input. The archives are (see
 * {@link archiveDigest}).
 */
const HELM_TEMPORARY = /^tmpcharts(-?\d+)?$/;

/**
 * Which archives of a chart's `charts/` helm owns. When the chart declares a dependency with
 * a `repository` (a chart repository, or `file://` for a local chart), `helm dependency
 * build` writes `<name>-<version>.tgz` for each such one, derived from what stays an input
 * (Chart.yaml, Chart.lock, the local chart's folder), and deletes every other archive there
 * but those of dependencies without a repository. So the archives helm writes or deletes are
 * not inputs: counting them would re-run every phase once more after a clone's first deploy.
 * The archives of repository-less dependencies are the user's, and count by their content
 * (see {@link archiveDigest}); so does every archive of a chart that helm does not build.
 */
function helmOwnedArchives(chartDir: string): ((name: string) => boolean) | undefined {
    const read = (file: string): Record<string, unknown> | undefined => {
        try {
            // A FIFO here is reported by the walk; never block on it.
            return YAML.parse(readRegularFile(path.join(chartDir, file), "utf8")) as Record<string, unknown>;
        } catch {
            return undefined; // unreadable: its archives stay inputs, the safe side
        }
    };
    const chart = read("Chart.yaml");
    // Helm 2 charts (apiVersion v1) declare them in requirements.yaml.
    const declared = chart?.apiVersion === "v1" ? read("requirements.yaml")?.dependencies : chart?.dependencies;
    if (!Array.isArray(declared)) {
        return undefined;
    }
    const dependencies = declared.map(d => (d ?? {}) as { name?: unknown; repository?: unknown });
    const fetched = (d: { repository?: unknown }) => typeof d.repository === "string" && d.repository !== "";
    if (!dependencies.some(fetched)) {
        return undefined;
    }
    const kept = dependencies
        .filter(d => !fetched(d) && typeof d.name === "string")
        .map(d => new RegExp(`^${(d.name as string).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}-v?\\d[^/]*\\.tgz$`));
    return name => name.endsWith(".tgz") && !kept.some(k => k.test(name));
}

/** What a symlink points to, following every hop; a dangling link or a loop is an error. */
function linkTarget(abs: string, rel: string): "directory" | "file" | "other" {
    let stat: fs.Stats;
    try {
        stat = fs.statSync(abs);
    } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const target = fs.readlinkSync(abs);
        if (code === "ELOOP") {
            throw new FingerprintError(`${rel} is a symlink loop (-> ${target})`);
        }
        throw new FingerprintError(`${rel} is a symlink to ${target}, which does not exist (${code})`);
    }
    return stat.isDirectory() ? "directory" : stat.isFile() ? "file" : "other";
}

/** Computes the fingerprint groups of a namespace, sorted by group path. */
export function fingerprintRepository(options: FingerprintOptions): FingerprintGroup[] {
    const files = listInputFiles(options);
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    const digests = files.map(file => digestFile(file, buffer));
    const secretNames = new Set(options.secretFiles ?? DEFAULT_SECRET_FILES);
    const maxGroups = options.maxGroups ?? DEFAULTS.fingerprintMaxGroups;

    const build = (depth: number): FingerprintGroup[] => {
        const groups = new Map<string, { hash: ReturnType<typeof createHash>; files: number }>();
        files.forEach((file, i) => {
            const credentials = secretNames.has(path.posix.basename(file.rel));
            const owners = file.input === undefined ? options.owners?.(file.rel) : undefined;
            const keys =
                owners !== undefined && owners.length > 0
                    ? owners.map(o => `${RELEASE_GROUP_PREFIX}${o}`)
                    : [credentials ? file.rel : labelledGroupOf(file, depth)];
            for (const key of keys) {
                let group = groups.get(key);
                if (group === undefined) {
                    group = { hash: createHash("sha256"), files: 0 };
                    groups.set(key, group);
                }
                group.hash.update(`${file.rel}\0${digests[i]}\n`);
                group.files++;
            }
        });
        return [...groups.entries()]
            .sort(([a], [b]) => compare(a, b))
            .map(([group, g]) => ({
                group,
                digest: g.hash.digest("hex"),
                files: g.files,
                ...(group.startsWith(RELEASE_GROUP_PREFIX)
                    ? { release: group.slice(RELEASE_GROUP_PREFIX.length) }
                    : {}),
            }));
    };
    const fine = build(2);
    return fine.length <= maxGroups ? fine : build(1);
}

/** The group a file belongs to: `depth` folder levels, below `namespaces/<ns>/` when inside it. */
export function groupOf(rel: string, depth: number): string {
    const parts = rel.split("/");
    const prefix = parts[0] === "namespaces" && parts.length > 2 ? parts.splice(0, 2) : [];
    const kept = parts.length <= depth ? parts : parts.slice(0, depth);
    return [...prefix, ...kept].join("/");
}

/** The group of a file: a phase input's below its `@<argument>`, grouped like the repository's. */
function labelledGroupOf(file: FileEntry, depth: number): string {
    if (file.input === undefined) {
        return groupOf(file.rel, depth);
    }
    const label = inputLabel(file.input);
    return `${label}/${groupOf(file.rel.slice(label.length + 1), depth)}`;
}

/** The group of a release's own files: `release:<name>`. */
export const RELEASE_GROUP_PREFIX = "release:";

/** The environment variable that carries a group's digest into the Command's inputs. */
export function fingerprintVariable(group: string): string {
    return `KAPTAIN_INPUT_${group.replace(/[^A-Za-z0-9]/g, "_")}`;
}

/**
 * The fingerprint as Command environment entries, one per group: a change in
 * `configs/redis` shows in `pulumi preview --diff` as `KAPTAIN_INPUT_configs_redis`.
 * Groups whose names collide after sanitising share one entry. Values are short:
 * 16 hex digits of the digest and the file count.
 *
 * Every value goes into the Command as a Pulumi secret (see `phaseEnvironment`): a digest
 * of a file lets anyone who reads the state or a plan try guesses at a short password in
 * it, and any values file may hold one, whatever its name. The preview still names the
 * group (`~ KAPTAIN_INPUT_configs_redis: [secret] => [secret]`).
 */
export function fingerprintEntries(groups: readonly FingerprintGroup[]): Map<string, string> {
    const entries = new Map<string, string>();
    for (const g of groups.filter(g => g.release === undefined)) {
        const name = fingerprintVariable(g.group);
        const value = `sha256:${g.digest.slice(0, 16)} files:${g.files}`;
        const previous = entries.get(name);
        entries.set(name, previous === undefined ? value : `${previous}; ${value}`);
    }
    return entries;
}

function isOtherNamespace(rel: string, namespace: string): boolean {
    const parts = rel.split("/");
    return parts.length === 2 && parts[0] === "namespaces" && parts[1] !== namespace;
}

/**
 * Lock files that `helm dependency update` rewrites with a new `generated:` time even when
 * nothing else changed: that line does not count, the dependencies' versions and digest do.
 */
const HELM_LOCK_FILES = new Set(["Chart.lock", "requirements.lock"]);

/**
 * A gzipped tar archive (a packed chart) counts as its entries, names and contents, not as
 * its bytes: `helm dependency build` packs a dependency anew on every deploy, with new
 * times and so new bytes, and that must not re-run every phase forever, while an archive
 * whose content changed (a vendored chart, a rebuilt dependency) must count. Returns
 * undefined for a file that is not a readable tar.gz: its bytes count then.
 */
export function archiveDigest(file: string): string | undefined {
    let data: Buffer;
    try {
        // Bounded: a small archive can unpack to gigabytes.
        data = zlib.gunzipSync(readRegularFile(file), { maxOutputLength: MAX_ARCHIVE_BYTES });
    } catch {
        return undefined;
    }
    // In archive order: where one path is there twice, the later one is what extraction keeps.
    const hash = createHash("sha256");
    let longName: string | undefined;
    for (let offset = 0; offset + 512 <= data.length;) {
        const header = data.subarray(offset, offset + 512);
        if (header.every(b => b === 0)) {
            break;
        }
        const text = (start: number, length: number): string => {
            const raw = header.subarray(start, start + length);
            const end = raw.indexOf(0);
            return raw.subarray(0, end < 0 ? length : end).toString("utf8");
        };
        const size = parseInt(text(124, 12).trim() || "0", 8);
        if (!Number.isSafeInteger(size) || size < 0 || offset + 512 + size > data.length) {
            return undefined;
        }
        const type = String.fromCharCode(header[156] || 0x30);
        const body = data.subarray(offset + 512, offset + 512 + size);
        offset += 512 + Math.ceil(size / 512) * 512;
        if (type === "K") {
            continue; // GNU long link name: the link's own entry counts
        }
        if (type === "x" || type === "L") {
            // PAX or GNU long name of the next entry; its other PAX records (times) do not count.
            longName = type === "L" ? body.toString("utf8").replace(/\0[\s\S]*$/, "") : (paxPath(body) ?? longName);
            continue;
        }
        if (type === "g") {
            continue;
        }
        const prefix = text(345, 155);
        const name = longName ?? (prefix !== "" ? `${prefix}/${text(0, 100)}` : text(0, 100));
        longName = undefined;
        // Folders and links count by their target; every other entry (a file, contiguous or
        // sparse) by its content, which is what an extraction writes.
        const content = LINK_OR_FOLDER.has(type) ? text(157, 100) : createHash("sha256").update(body).digest("hex");
        hash.update(`${name}\0${type}\0${content}\n`);
    }
    return hash.digest("hex");
}

/** Tar entry types that hold no content of their own: hard link, symlink, folder. */
const LINK_OR_FOLDER = new Set(["1", "2", "5"]);

/** The `path` record of a PAX extended header, if any. */
function paxPath(records: Buffer): string | undefined {
    return /(?:^|\n)\d+ path=([^\n]*)\n/.exec(records.toString("utf8"))?.[1];
}

/** Streams the file (a link's target) through sha256 in fixed chunks: memory stays flat whatever the size. */
function digestFile(file: FileEntry, buffer: Buffer): string {
    try {
        return digestRegularFile(file, buffer);
    } catch (err) {
        if (err instanceof NotRegularFileError) {
            throw new FingerprintError(notRegular(file.rel, fs.statSync(file.abs)), file.input);
        }
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== undefined) {
            throw new FingerprintError(`${file.rel} cannot be read (${code})`, file.input);
        }
        throw err;
    }
}

function digestRegularFile(file: FileEntry, buffer: Buffer): string {
    const hash = createHash("sha256");
    // Chart archives are small; a large one is hashed by its bytes, in chunks like any file.
    if (file.rel.endsWith(".tgz") && fs.statSync(file.abs).size <= MAX_ARCHIVE_BYTES) {
        const archive = archiveDigest(file.abs);
        if (archive !== undefined) {
            return `archive:${archive}`;
        }
    }
    if (HELM_LOCK_FILES.has(path.posix.basename(file.rel))) {
        hash.update(readRegularFile(file.abs, "utf8").replace(/^generated:.*$/m, ""));
        return hash.digest("hex");
    }
    const fd = openRegularFile(file.abs);
    try {
        let read: number;
        while ((read = fs.readSync(fd, buffer, 0, buffer.length, null)) > 0) {
            hash.update(buffer.subarray(0, read));
        }
    } finally {
        fs.closeSync(fd);
    }
    return hash.digest("hex");
}

function normaliseRel(p: string): string {
    return p
        .split(/[\\/]+/)
        .filter(s => s !== "" && s !== ".")
        .join("/");
}

/** Byte order, not locale order: the same on every machine. */
function compare(a: string, b: string): number {
    return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The release groups of the releases a phase selects, as Command environment entries:
 * `KAPTAIN_RELEASE_<name>` = `<digest> <release>…` (the script needs the name as written;
 * names that collide after sanitising share one entry and name each). A change shows in the
 * preview as `~ KAPTAIN_RELEASE_fleet_3`, and the phase's update runs helmfile for fleet-3
 * only (see the script's kaptain_select).
 */
export function releaseEntries(
    groups: readonly FingerprintGroup[],
    releases: ReadonlySet<string>,
): Map<string, string> {
    const collected = new Map<string, { hash: ReturnType<typeof createHash>; names: string[] }>();
    for (const g of groups) {
        if (g.release === undefined || !releases.has(g.release)) {
            continue;
        }
        const name = `KAPTAIN_RELEASE_${g.release.replace(/[^A-Za-z0-9]/g, "_")}`;
        const entry = collected.get(name) ?? { hash: createHash("sha256"), names: [] };
        entry.hash.update(`${g.release}\0${g.digest}\n`);
        entry.names.push(g.release);
        collected.set(name, entry);
    }
    return new Map([...collected].map(([name, e]) => [name, `${e.hash.digest("hex")} ${e.names.join(" ")}`]));
}
