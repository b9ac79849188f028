import * as fs from "node:fs";
import * as path from "node:path";
import { ArgProblem, problem } from "./errors";
import type { PhaseInput } from "./fingerprint";
import { describeFileType, notRegularReason } from "./regular-file";

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
    /** The namespace directory relative to the working directory (`.` or `./namespaces/<ns>`). */
    readonly namespaceFromWorking: string;
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
    const stat = found !== undefined ? fs.statSync(found) : undefined;
    if (stat !== undefined && !stat.isFile() && !stat.isDirectory()) {
        // A FIFO or a device: reading it would block, here or in helmfile.
        problems.push(problem(argument, `names ${found}, which ${notRegularReason(describeFileType(stat))}`));
        return undefined;
    }
    if (stat === undefined || (stat.isDirectory() && !options.directoryAllowed)) {
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

    // Every folder whose default helmfile is read, by helmfile's lookup or by the
    // provision-configs mode detection, must hold one: helmfile refuses a folder with two.
    const defaultIn = (dir: string, lookup: boolean): string | undefined => {
        const found = DEFAULT_HELMFILES.filter(f => fs.existsSync(path.join(dir, f)));
        if (found.length > 1) {
            problems.push(ambiguousHelmfiles(dir, found, lookup));
        }
        return found.length > 0 ? path.join(dir, found[0]) : undefined;
    };
    let helmfileFile: string | undefined;
    if (options.helmfileFile !== undefined) {
        // A helmfile.d folder is a valid --file.
        const found = locateFile("helmfile.file", options.helmfileFile, where, problems, { directoryAllowed: true });
        helmfileFile = found !== undefined ? relativeFrom(namespaceDirectory, found) : undefined;
        if (found !== undefined && includesRoot({ namespaceDirectory, workingDirectory, helmfileFile })) {
            defaultIn(workingDirectory, false);
        }
    } else if (defaultIn(namespaceDirectory, true) !== undefined) {
        if (namespaceDirectory !== workingDirectory) {
            defaultIn(workingDirectory, false);
        }
    } else {
        // kaptain runs helmfile in the namespace directory; a namespace folder that only
        // holds overrides uses the repository's top-level helmfile.
        const top = defaultIn(workingDirectory, true);
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
            namespaceFromWorking: relativeFrom(workingDirectory, namespaceDirectory),
            hooksFile,
            helmfileFile,
        },
    };
}

/**
 * A folder with two default helmfiles, which helmfile's lookup refuses (v1.8: "both
 * helmfile.yaml and helmfile.yaml.gotmpl exist. Please remove one of them"; helmfile.d with
 * either is a "configuration conflict"). Where the phases run helmfile's lookup, they would
 * fail at deploy time; where only the provision-configs mode detection reads the folder
 * (the root a namespace helmfile includes), it could read the file helmfile does not.
 */
function ambiguousHelmfiles(dir: string, found: readonly string[], lookup: boolean): ArgProblem {
    const holds = `${dir} holds ${found.join(" and ")}`;
    return lookup
        ? problem(
              "helmfile.file",
              `is not set, and ${holds}: helmfile refuses to choose between them. ` +
                  "Remove all but one, or set `helmfile.file` to the one to run",
          )
        : problem(
              "workingDirectory",
              `is the repository root, and ${holds}: helmfile refuses a folder with both, and the ` +
                  "provision-configs mode, read from the root helmfile a namespace helmfile includes, " +
                  "cannot tell which one that is. Remove all but one",
          );
}

/**
 * Whether the repository root's default helmfile counts for the provision-configs mode:
 * a namespace's own helmfile commonly includes it (`helmfiles:`, `bases:`). Not when the
 * phases run the root's folder themselves: there only the file helmfile reads counts.
 */
export function includesRoot(
    layout: Pick<RepositoryLayout, "namespaceDirectory" | "workingDirectory" | "helmfileFile">,
): boolean {
    if (layout.namespaceDirectory === layout.workingDirectory) {
        return false;
    }
    return (
        layout.helmfileFile === undefined ||
        path.dirname(path.resolve(layout.namespaceDirectory, layout.helmfileFile)) !== layout.workingDirectory
    );
}

/** The helmfile the phases run: the `--file`, or the one helmfile's lookup finds in the namespace folder. */
export function runHelmfile(layout: RepositoryLayout): string | undefined {
    if (layout.helmfileFile !== undefined) {
        return path.resolve(layout.namespaceDirectory, layout.helmfileFile);
    }
    return DEFAULT_HELMFILES.map(f => path.join(layout.namespaceDirectory, f)).find(f => fs.existsSync(f));
}

/**
 * The files the phases read that the repository's walk may not reach: the hooks file,
 * sourced alone, and helmfile's `--file` with the folder it resolves its paths against.
 * Counted in the fingerprint wherever they are (see {@link PhaseInput}).
 */
export function phaseInputsOf(layout: RepositoryLayout): PhaseInput[] {
    const inputs: PhaseInput[] = [];
    if (layout.hooksFile !== undefined) {
        inputs.push({ argument: "hooks", file: path.resolve(layout.namespaceDirectory, layout.hooksFile) });
    }
    if (layout.helmfileFile !== undefined) {
        const file = path.resolve(layout.namespaceDirectory, layout.helmfileFile);
        inputs.push({ argument: "helmfile.file", file, folder: path.dirname(file) });
    }
    return inputs;
}

function isDirectory(p: string): boolean {
    try {
        return fs.statSync(p).isDirectory();
    } catch {
        return false;
    }
}
