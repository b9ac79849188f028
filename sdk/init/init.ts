// `kaptain init [DIR]`: a kaptain repository becomes a Pulumi project, in place.
import * as fs from "node:fs";
import * as path from "node:path";
import { GITIGNORE_LINES, InitFile, projectFiles, projectName, testedVersions } from "./files";
import { InitError, KaptainRepository, ProvisionConfigsChoice, readKaptainRepository } from "./repository";

export interface InitOptions {
    /** The kaptain repository; the project is written into it. */
    readonly directory: string;
    /** A stack for this namespace deployed from the repository's root, too. */
    readonly rootNamespace?: string;
    /** What becomes of provision-configs objects a chart renders. @default "keep" */
    readonly provisionConfigs?: ProvisionConfigsChoice;
    /** What package.json asks for pulumi-kaptain. @default this package's version */
    readonly packageSpec?: string;
}

export interface InitResult {
    readonly repository: KaptainRepository;
    /** Files written, relative to the repository. */
    readonly written: readonly string[];
    /** Files that were there already, left as they are. */
    readonly kept: readonly string[];
    /** GITIGNORE_LINES an existing .gitignore lacks. */
    readonly gitignoreMissing: readonly string[];
}

/**
 * Writes the project's files into the repository. Refuses a folder that is not a kaptain
 * repository or already a Pulumi project; never overwrites a file (each is created
 * exclusively, so one that appears meanwhile is kept too).
 */
export function init(options: InitOptions): InitResult {
    const directory = path.resolve(options.directory);
    const repository = readKaptainRepository(directory, {
        rootNamespace: options.rootNamespace,
        provisionConfigs: options.provisionConfigs,
    });
    const existing = ["Pulumi.yaml", "Pulumi.yml"].find(f => present(path.join(directory, f)));
    if (existing !== undefined) {
        throw new InitError(
            `${directory} is a Pulumi project already (${existing} exists): kaptain init never overwrites a file. ` +
                "Add stacks with their own Pulumi.<namespace>.yaml, or move the project away to start over",
        );
    }
    // Pulumi.yaml would name them as the program and its packages: someone else's index.ts
    // would then run as the deploy, and `npm install` would not bring pulumi-kaptain.
    const taken = ["index.ts", "package.json"].filter(f => present(path.join(directory, f)));
    if (taken.length > 0) {
        throw new InitError(
            `${directory} already has ${taken.join(" and ")}, which the project's Pulumi.yaml would run and install: ` +
                "kaptain init never overwrites a file. Move them away (or into a folder of their own) and run it again",
        );
    }
    if (repository.stacks.length === 0) {
        throw new InitError(`${directory}: no namespace to deploy (${repository.skipped.join("; ")})`);
    }
    const files = projectFiles(repository, projectName(directory), testedVersions(options.packageSpec));
    const written: string[] = [];
    const kept: string[] = [];
    for (const file of files) {
        (writeExclusive(directory, file) ? written : kept).push(file.path);
    }
    return {
        repository,
        written,
        kept,
        gitignoreMissing: kept.includes(".gitignore") ? missingIgnores(directory) : [],
    };
}

/** Whether anything is at the path: a file, a folder, a link (even one that leads nowhere). */
function present(file: string): boolean {
    try {
        fs.lstatSync(file);
        return true;
    } catch {
        return false;
    }
}

/** Creates the file, or leaves what is at its path (a file, a link, a folder): false. */
function writeExclusive(directory: string, file: InitFile): boolean {
    try {
        fs.writeFileSync(path.join(directory, file.path), file.content, { flag: "wx" });
        return true;
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "EEXIST") {
            return false;
        }
        throw new InitError(`cannot write ${path.join(directory, file.path)}: ${(err as Error).message}`);
    }
}

function missingIgnores(directory: string): string[] {
    let lines: string[];
    try {
        lines = fs
            .readFileSync(path.join(directory, ".gitignore"), "utf8")
            .split("\n")
            .map(l => l.trim());
    } catch {
        return [];
    }
    return GITIGNORE_LINES.filter(
        l => !lines.includes(l) && !lines.includes(`/${l}`) && !lines.includes(l.replace(/\/$/, "")),
    );
}

/** What init prints: what it wrote, what it kept, and what to run next. */
export function initReport(result: InitResult): string {
    const { repository, written, kept, gitignoreMissing } = result;
    const first = repository.stacks[0].namespace;
    const lines = [`kaptain init: ${repository.directory} is now a Pulumi project.`, "", "Wrote:"];
    lines.push(...written.map(f => `  ${f}${describeStack(result, f)}`));
    if (kept.length > 0) {
        lines.push("", "Kept as they were (already there):", ...kept.map(f => `  ${f}`));
    }
    if (gitignoreMissing.length > 0) {
        lines.push("", `Add to .gitignore: ${gitignoreMissing.join(" ")}`);
    }
    if (repository.skipped.length > 0) {
        lines.push("", "Skipped:", ...repository.skipped.map(s => `  ${s}`));
    }
    const next: Array<[string, string]> = [
        ["npm install", "pulumi-kaptain and the Pulumi SDKs it is tested with"],
        [`npx kaptain synth --stack ${first}`, "plan offline: no cluster, no Pulumi CLI"],
        ["pulumi login", "where the state goes (a bucket, Pulumi Cloud, or --local)"],
        [`npx kaptain diff ${first}`, "what would change in the cluster"],
        [`npx kaptain install ${first}`, `kaptain install ${first}`],
    ];
    const width = Math.max(...next.map(([command]) => command.length));
    lines.push("", "Next:", ...next.map(([command, why]) => `  ${command.padEnd(width)}  # ${why}`));
    return lines.join("\n");
}

function describeStack(result: InitResult, file: string): string {
    const stack = result.repository.stacks.find(s => `Pulumi.${s.namespace}.yaml` === file);
    if (stack === undefined) {
        return "";
    }
    const from = stack.folder === "." ? "the repository's root" : `${stack.folder}/`;
    const mode =
        stack.provisionConfigs.value.enabled === false
            ? "provision-configs: none or the chart's"
            : stack.provisionConfigs.value.adoptFromChart === true
              ? "provision-configs: taken over from the chart"
              : "provision-configs: native objects";
    return `  (namespace ${stack.namespace} from ${from}; ${mode}${stack.protect ? "; protected" : ""})`;
}
