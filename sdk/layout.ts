import * as fs from "node:fs";
import * as path from "node:path";
import { ArgProblem, problem } from "./errors";

/** A Kubernetes namespace name: an RFC 1123 label. */
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Returns why `name` is not a valid namespace, or undefined when it is. */
export function namespaceProblem(name: unknown, propertyPath = "namespace"): ArgProblem | undefined {
    if (typeof name !== "string" || name === "") {
        return problem(propertyPath, "is required: the Kubernetes namespace to deploy into");
    }
    if (name.length > 63 || !DNS1123_LABEL.test(name)) {
        return problem(
            propertyPath,
            `must be a DNS-1123 label (lower-case letters, digits and '-', ` +
                `starting and ending with a letter or digit, at most 63 characters), got ${JSON.stringify(name)}`,
        );
    }
    return undefined;
}

/** The files helmfile looks for, in its own order, when no `--file` is given. */
export const DEFAULT_HELMFILES = ["helmfile.yaml", "helmfile.yaml.gotmpl", "helmfile.d"] as const;

/** Where everything of one namespace lives on disk, resolved the way kaptain does. */
export interface RepositoryLayout {
    readonly namespace: string;
    /** The Helmfile repository (kaptain's working directory), absolute. */
    readonly workingDirectory: string;
    /** `namespaces/<ns>` when it exists, else the working directory; absolute. */
    readonly namespaceDirectory: string;
    /** The working directory relative to the namespace directory (`.` or `../..`). */
    readonly workingFromNamespace: string;
    /** hooks.sh relative to the namespace directory, or undefined when there is none. */
    readonly hooksFile?: string;
    /** The `--file` to pass helmfile, relative to the namespace directory; undefined when helmfile finds its own. */
    readonly helmfileFile?: string;
}

export interface LayoutOptions {
    readonly namespace: string;
    /** The Helmfile repository; relative paths resolve against `programDirectory`. */
    readonly workingDirectory: string;
    /** The directory the Pulumi program (and so the command provider) runs in. */
    readonly programDirectory: string;
    /** A hooks file, `false` for none, undefined for `hooks.sh` when present. */
    readonly hooks?: string | false;
    /** The helmfile state file, undefined for helmfile's own lookup. */
    readonly helmfileFile?: string;
}

/** kaptain's rule: `namespaces/<namespace>` when that folder exists, else the working directory. */
export function namespaceDirectoryOf(workingDirectory: string, namespace: string): string {
    const candidate = path.join(workingDirectory, "namespaces", namespace);
    return isDirectory(candidate) ? candidate : workingDirectory;
}

/** Resolves a file against the namespace directory first, then the working directory. */
export function findInRepository(
    layout: Pick<RepositoryLayout, "namespaceDirectory" | "workingDirectory">,
    file: string,
): string | undefined {
    const candidates = path.isAbsolute(file)
        ? [file]
        : [path.join(layout.namespaceDirectory, file), path.join(layout.workingDirectory, file)];
    return candidates.find(c => fs.existsSync(c));
}

/**
 * Finds the file an argument names (namespace directory first, then the working
 * directory), or records the one "names a file that does not exist" problem.
 */
export function locateFile(
    argument: string,
    file: string,
    where: Pick<RepositoryLayout, "namespaceDirectory" | "workingDirectory">,
    problems: ArgProblem[],
    options: { readonly directoryAllowed?: boolean } = {},
): string | undefined {
    const found = findInRepository(where, file);
    if (found === undefined || (!options.directoryAllowed && !fs.statSync(found).isFile())) {
        problems.push(
            problem(
                argument,
                `names a file that does not exist: ${JSON.stringify(file)} ` +
                    `(looked in ${lookedIn(where.namespaceDirectory, where.workingDirectory)})`,
            ),
        );
        return undefined;
    }
    return found;
}

/** The folders a lookup searched, each once (a namespace without a folder uses the repository's). */
function lookedIn(namespaceDirectory: string, workingDirectory: string): string {
    return namespaceDirectory === workingDirectory ? workingDirectory : `${namespaceDirectory} and ${workingDirectory}`;
}

/** A relative path for a shell, always starting with `./` or `../` so `source` never searches PATH. */
export function relativeFrom(from: string, to: string): string {
    const rel = path.relative(from, to).split(path.sep).join("/");
    if (rel === "") {
        return ".";
    }
    if (path.isAbsolute(rel) || rel.startsWith("../") || rel === "..") {
        return rel;
    }
    return `./${rel}`;
}

/**
 * Resolves the repository layout of one namespace. Returns the problems found instead
 * of throwing so the caller can report every bad argument at once.
 */
export function resolveLayout(options: LayoutOptions): { layout?: RepositoryLayout; problems: ArgProblem[] } {
    const problems: ArgProblem[] = [];
    const workingDirectory = path.resolve(options.programDirectory, options.workingDirectory);
    if (!isDirectory(workingDirectory)) {
        problems.push(problem("workingDirectory", `is not a directory: ${workingDirectory}`));
        return { problems };
    }
    const namespaceDirectory = namespaceDirectoryOf(workingDirectory, options.namespace);
    const where = { namespaceDirectory, workingDirectory };

    let hooksFile: string | undefined;
    if (options.hooks === undefined) {
        const found = path.join(namespaceDirectory, "hooks.sh");
        hooksFile = fs.existsSync(found) ? relativeFrom(namespaceDirectory, found) : undefined;
    } else if (options.hooks !== false) {
        const found = locateFile("hooks", options.hooks, where, problems);
        hooksFile = found !== undefined ? relativeFrom(namespaceDirectory, found) : undefined;
    }

    let helmfileFile: string | undefined;
    if (options.helmfileFile !== undefined) {
        // A helmfile.d folder is a valid --file.
        const found = locateFile("helmfile.file", options.helmfileFile, where, problems, { directoryAllowed: true });
        helmfileFile = found !== undefined ? relativeFrom(namespaceDirectory, found) : undefined;
    } else if (!DEFAULT_HELMFILES.some(f => fs.existsSync(path.join(namespaceDirectory, f)))) {
        // kaptain runs helmfile in the namespace directory; a namespace folder that only
        // holds overrides uses the repository's top-level helmfile.
        const top = DEFAULT_HELMFILES.map(f => path.join(workingDirectory, f)).find(f => fs.existsSync(f));
        if (top === undefined) {
            problems.push(
                problem(
                    "workingDirectory",
                    `holds no helmfile.yaml, helmfile.yaml.gotmpl or helmfile.d ` +
                        `(looked in ${lookedIn(namespaceDirectory, workingDirectory)})`,
                ),
            );
        } else {
            helmfileFile = relativeFrom(namespaceDirectory, top);
        }
    }

    if (problems.length > 0) {
        return { problems };
    }
    return {
        problems,
        layout: {
            namespace: options.namespace,
            workingDirectory,
            namespaceDirectory,
            workingFromNamespace: relativeFrom(namespaceDirectory, workingDirectory),
            hooksFile,
            helmfileFile,
        },
    };
}

function isDirectory(p: string): boolean {
    try {
        return fs.statSync(p).isDirectory();
    } catch {
        return false;
    }
}
