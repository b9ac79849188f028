// What `kaptain init` reads from a kaptain repository: its namespaces, and per namespace
// the settings a stack needs to deploy it as kaptain did.
import * as fs from "node:fs";
import * as path from "node:path";
import { detectProvisionConfigs, provisionConfigsChartRelease } from "../infrastructure-resolve";
import { DEFAULT_HELMFILES, namespaceProblem, RepositoryLayout, resolveLayout } from "../layout";

/** A repository `kaptain init` cannot turn into a project, or bad options: printed as is. */
export class InitError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "InitError";
    }
}

/**
 * What becomes of the provision-configs objects (namespace Secret, ConfigMap,
 * rclone-config Secret) when the chart release of a kaptain deploy renders them:
 * `keep` leaves them to the chart, `take-over` makes them native objects of the stack.
 */
export type ProvisionConfigsChoice = "keep" | "take-over";
export const PROVISION_CONFIGS_CHOICES: readonly ProvisionConfigsChoice[] = ["keep", "take-over"];

/** The `kaptain:provisionConfigs` a stack gets, and why (the stack file's comment). */
export interface ProvisionConfigsSetting {
    readonly value: Readonly<Record<string, boolean>>;
    readonly why: string;
}

/** One stack to write: a namespace and what its folder needs. */
export interface NamespaceStack {
    readonly namespace: string;
    /** The folder kaptain deploys it from, relative to the repository (`.` for the root). */
    readonly folder: string;
    /** `hooks.sh` when the folder has one, `false` when only the repository has one (kaptain runs none). */
    readonly hooks?: string | false;
    /** The repository's helmfile, when the folder has none of its own. */
    readonly helmfileFile?: string;
    readonly provisionConfigs: ProvisionConfigsSetting;
    /** The name looks like production: the phases are protected. */
    readonly protect: boolean;
}

export interface KaptainRepository {
    readonly directory: string;
    readonly stacks: readonly NamespaceStack[];
    /** Folders under namespaces/ that cannot be a namespace, with why. */
    readonly skipped: readonly string[];
}

export interface ReadOptions {
    /** Also a stack for this namespace deployed from the repository's root (kaptain's fallback). */
    readonly rootNamespace?: string;
    readonly provisionConfigs?: ProvisionConfigsChoice;
}

/** kaptain deploys the releases labelled with these. */
const ACTION_LABEL = /\baction:\s*["']?(config|install|provision)\b/;

/** Names of production environments, as a word of a namespace name (`prod`, `geo-prod-eu`, `production`). */
const PRODUCTION_WORD = /^(prod|production|prd|live)\d*$/;

/** Reads the repository in `directory`; throws an {@link InitError} when it is not a kaptain repository. */
export function readKaptainRepository(directory: string, options: ReadOptions = {}): KaptainRepository {
    if (!isDirectory(directory)) {
        throw new InitError(`${directory} is not a directory`);
    }
    const folders = namespaceFolders(directory);
    const helmfiles = [directory, ...folders.map(f => path.join(directory, "namespaces", f))].flatMap(helmfilesIn);
    if (helmfiles.length === 0) {
        throw new InitError(
            `${directory} is not a kaptain repository: no ${DEFAULT_HELMFILES.join(", ")} ` +
                "at its top level or in namespaces/<namespace>/",
        );
    }
    if (!helmfiles.some(f => ACTION_LABEL.test(fs.readFileSync(f, "utf8")))) {
        throw new InitError(
            `${directory} is not a kaptain repository: its helmfile (${helmfiles
                .map(f => path.relative(directory, f))
                .join(", ")}) labels no release \`action: config\`, \`install\` or \`provision\`, ` +
                "the labels kaptain deploys by",
        );
    }
    const skipped = folders.flatMap(f => {
        const bad = namespaceProblem(f);
        return bad === undefined
            ? []
            : [`namespaces/${f}/: not a namespace name: ${bad.reason.replace(/^`namespace` /, "")}`];
    });
    const namespaces = folders.filter(f => namespaceProblem(f) === undefined);
    const rootNamespace =
        options.rootNamespace ?? (namespaces.length === 0 ? defaultRootNamespace(directory) : undefined);
    if (rootNamespace !== undefined) {
        const bad = namespaceProblem(rootNamespace, "--namespace");
        if (bad !== undefined) {
            throw new InitError(bad.reason);
        }
        if (!namespaces.includes(rootNamespace)) {
            namespaces.push(rootNamespace);
        }
    }
    return {
        directory,
        stacks: namespaces.sort().map(ns => namespaceStack(directory, ns, options.provisionConfigs ?? "keep")),
        skipped,
    };
}

function namespaceStack(directory: string, namespace: string, choice: ProvisionConfigsChoice): NamespaceStack {
    const { layout, problems } = resolveLayout({ namespace, workingDirectory: directory, programDirectory: directory });
    if (layout === undefined) {
        throw new InitError(`namespace ${namespace}: ${problems.map(p => p.reason).join("; ")}`);
    }
    const folder = path.relative(directory, layout.namespaceDirectory) || ".";
    // kaptain sources the namespace folder's hooks.sh, no other.
    const repositoryHooks = fs.existsSync(path.join(directory, "hooks.sh"));
    const hooks = layout.hooksFile !== undefined ? "hooks.sh" : repositoryHooks ? false : undefined;
    return {
        namespace,
        folder,
        ...(hooks !== undefined ? { hooks } : {}),
        ...(layout.helmfileFile !== undefined ? { helmfileFile: path.basename(layout.helmfileFile) } : {}),
        provisionConfigs: provisionConfigsSetting(layout, choice),
        protect: looksLikeProduction(namespace),
    };
}

/**
 * The provision-configs mode, decided once here and written to the stack, so that it
 * never flips with a later edit of the repository:
 * - the chart release renders the objects (kaptain's seed): `keep` leaves them to it,
 *   `take-over` adopts them in place as native objects (`adoptFromChart`);
 * - the chart release renders none of them: native objects next to it (`allowChartRelease`);
 * - no chart release: native objects when the repository has their sources.
 */
export function provisionConfigsSetting(
    layout: RepositoryLayout,
    choice: ProvisionConfigsChoice,
): ProvisionConfigsSetting {
    const release = provisionConfigsChartRelease(layout);
    const sources = Object.keys(detectProvisionConfigs(layout)).length > 0;
    const where = (file: string) => path.relative(layout.workingDirectory, file);
    if (release !== undefined && chartRendersObjects(layout, release)) {
        return choice === "take-over"
            ? {
                  value: { adoptFromChart: true },
                  why:
                      `the provision-configs release (${where(release)}) renders the namespace Secret, ConfigMap and ` +
                      "rclone-config Secret; the stack takes them over in place (server-side apply, never deleted), " +
                      "annotated helm.sh/resource-policy: keep so that helm keeps them once they leave the chart: " +
                      "remove their templates from the chart after the first deploy",
              }
            : {
                  value: { enabled: false },
                  why:
                      `the provision-configs release (${where(release)}) renders the namespace Secret, ConfigMap and ` +
                      "rclone-config Secret in the config phase, as with kaptain",
              };
    }
    if (!sources) {
        return {
            value: { enabled: false },
            why: "no secret.yaml, rclone.conf or configKeys: no provision-configs objects",
        };
    }
    return release !== undefined
        ? {
              value: { allowChartRelease: true },
              why:
                  `native objects from secret.yaml, rclone.conf and configKeys; the provision-configs release ` +
                  `(${where(release)}) renders none of them`,
          }
        : { value: { enabled: true }, why: "native objects from secret.yaml, rclone.conf and configKeys" };
}

/**
 * Whether the provision-configs chart renders the namespace Secret, ConfigMap or
 * rclone-config Secret: its templates read `.Values.secret`, `.Values.configKeys` or
 * `rclone.conf`. A chart that is not a local folder here is taken to render them (the seed's).
 */
function chartRendersObjects(layout: RepositoryLayout, helmfile: string): boolean {
    const templates = chartFolderCandidates(layout, helmfile)
        .map(chart => path.join(chart, "templates"))
        .find(isDirectory);
    if (templates === undefined) {
        return true;
    }
    return filesUnder(templates).some(f =>
        /\.Values\.(secret|configKeys)\b|rclone\.conf/.test(fs.readFileSync(f, "utf8")),
    );
}

/** Where the release's `chart:` may point, the kaptain variables replaced; local charts only. */
function chartFolderCandidates(layout: RepositoryLayout, helmfile: string): string[] {
    const text = fs.readFileSync(helmfile, "utf8");
    const release = /^\s*-?\s*name:\s*["']?provision-configs["']?[ \t]*(#.*)?$/m.exec(text);
    // The release's lines: up to the next release.
    const rest = release === null ? "" : text.slice(release.index + release[0].length);
    const next = rest.search(/^[ \t]*-[ \t]+name:/m);
    const block = next < 0 ? rest : rest.slice(0, next);
    const chart = unquote(/^[ \t]*chart:[ \t]*(.+?)[ \t]*(#.*)?$/m.exec(block)?.[1]);
    const fallback = [
        path.join(layout.namespaceDirectory, "provision-configs"),
        path.join(layout.workingDirectory, "provision-configs"),
        path.join(layout.workingDirectory, "charts", "provision-configs"),
    ];
    if (chart === undefined) {
        return fallback;
    }
    const resolved = chart
        .replace(/\{\{-?\s*(requiredEnv|env)\s+"KAPTAIN_NAMESPACE_DIRECTORY"\s*-?\}\}/g, layout.namespaceDirectory)
        .replace(/\{\{-?\s*(requiredEnv|env)\s+"KAPTAIN_WORKING_DIRECTORY"\s*-?\}\}/g, layout.workingDirectory);
    if (resolved.includes("{{")) {
        return fallback;
    }
    return [path.resolve(path.dirname(helmfile), resolved)];
}

function unquote(value: string | undefined): string | undefined {
    const quoted = value !== undefined && /^(["']).*\1$/.test(value);
    return quoted ? value.slice(1, -1) : value;
}

/** Whether a namespace name reads as production: one of its words is prod, production, prd or live. */
export function looksLikeProduction(namespace: string): boolean {
    return namespace.split(/[-.]/).some(word => PRODUCTION_WORD.test(word));
}

/** The repository folder's name as a namespace, when it is one. */
function defaultRootNamespace(directory: string): string {
    const name = path
        .basename(path.resolve(directory))
        .toLowerCase()
        .replace(/[^a-z0-9-]+/g, "-")
        .replace(/^-+|-+$/g, "")
        .slice(0, 63)
        .replace(/-+$/, "");
    if (name === "") {
        throw new InitError(
            `${directory} has no namespaces/ folder: name the namespace its root deploys with --namespace`,
        );
    }
    return name;
}

function namespaceFolders(directory: string): string[] {
    const folder = path.join(directory, "namespaces");
    if (!isDirectory(folder)) {
        return [];
    }
    return fs
        .readdirSync(folder)
        .filter(name => isDirectory(path.join(folder, name)))
        .sort();
}

function helmfilesIn(folder: string): string[] {
    return DEFAULT_HELMFILES.map(f => path.join(folder, f)).flatMap(f =>
        isDirectory(f) ? filesUnder(f) : isFile(f) ? [f] : [],
    );
}

function filesUnder(folder: string): string[] {
    return fs
        .readdirSync(folder, { withFileTypes: true })
        .flatMap(e =>
            e.isDirectory() ? filesUnder(path.join(folder, e.name)) : e.isFile() ? [path.join(folder, e.name)] : [],
        );
}

function isDirectory(p: string): boolean {
    try {
        return fs.statSync(p).isDirectory();
    } catch {
        return false;
    }
}

function isFile(p: string): boolean {
    try {
        return fs.statSync(p).isFile();
    } catch {
        return false;
    }
}
