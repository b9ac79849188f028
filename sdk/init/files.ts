// The files `kaptain init` writes: a Pulumi project around the repository, one stack per namespace.
import * as fs from "node:fs";
import * as path from "node:path";
import { KaptainRepository, NamespaceStack } from "./repository";

/** One file to write, relative to the repository. */
export interface InitFile {
    readonly path: string;
    readonly content: string;
}

/** The packages a generated project installs, at the versions pulumi-kaptain is tested with. */
export interface PackageVersions {
    /** What package.json asks for pulumi-kaptain: a version, a tarball (`file:…`) or a git URL. */
    readonly pulumiKaptain: string;
    readonly tested: Readonly<Record<string, string>>;
}

/** Lines the project's .gitignore needs: installed packages, synth's output, the phases' lock. */
export const GITIGNORE_LINES = ["node_modules/", "out/", ".kaptain-lock"] as const;

/**
 * The project's own files at the repository's top level that helmfile never reads: left
 * out of change detection, so editing the program re-runs no phase. (Pulumi.yaml, the
 * stack files, package.json and tsconfig.json are always left out.)
 */
export const PROGRAM_FILES = ["index.ts", ".gitignore"] as const;

/** The SDKs the tests pin (package.json devDependencies), exact, and typescript for `pulumi up`. */
export const TESTED_PACKAGES = ["@pulumi/pulumi", "@pulumi/kubernetes", "@pulumi/command", "typescript"] as const;

/** Every file of the project, in the order they are reported. */
export function projectFiles(repository: KaptainRepository, name: string, versions: PackageVersions): InitFile[] {
    return [
        { path: "Pulumi.yaml", content: pulumiYaml(name) },
        { path: "index.ts", content: program(name) },
        { path: "package.json", content: packageJson(name, versions) },
        { path: "tsconfig.json", content: TSCONFIG },
        { path: ".gitignore", content: ["# Written by kaptain init", ...GITIGNORE_LINES, ""].join("\n") },
        ...repository.stacks.map(s => ({ path: `Pulumi.${s.namespace}.yaml`, content: stackYaml(s) })),
    ];
}

/** A Pulumi project name (and npm package name) from the repository folder's name. */
export function projectName(directory: string): string {
    const name = path
        .basename(path.resolve(directory))
        .toLowerCase()
        .replace(/[^a-z0-9._-]+/g, "-")
        .replace(/^[-._]+|[-._]+$/g, "");
    return name === "" ? "kaptain-infrastructure" : name;
}

function pulumiYaml(name: string): string {
    return [
        "# A Pulumi project around the kaptain repository in this folder (written by kaptain init).",
        "# One stack per namespace: Pulumi.<namespace>.yaml holds its kaptain:* settings.",
        "# State goes where `pulumi login` points (a bucket, Pulumi Cloud, or --local).",
        `name: ${name}`,
        `description: The kaptain repository ${name}, deployed with pulumi-kaptain.`,
        "runtime:",
        "  name: nodejs",
        "  options:",
        "    typescript: true",
        "main: index.ts",
        "",
    ].join("\n");
}

function program(name: string): string {
    return [
        "// The Pulumi program of this kaptain repository (written by kaptain init): one",
        "// Infrastructure, configured by the stack's Pulumi.<namespace>.yaml.",
        "//   npx kaptain diff dev        what `kaptain install dev` would change",
        "//   npx kaptain install dev     kaptain install dev, through Pulumi",
        'import { Infrastructure, infrastructureArgsFromConfig } from "pulumi-kaptain";',
        "",
        `const infra = new Infrastructure(${JSON.stringify(name)}, infrastructureArgsFromConfig());`,
        "",
        "export const namespace = infra.namespace;",
        "export const phases = Object.keys(infra.phases);",
        "",
    ].join("\n");
}

function packageJson(name: string, versions: PackageVersions): string {
    const dependencies = Object.fromEntries(
        Object.entries({ ...versions.tested, "pulumi-kaptain": versions.pulumiKaptain }).sort(([a], [b]) =>
            a < b ? -1 : 1,
        ),
    );
    const pkg = {
        name,
        private: true,
        description: "Pulumi project of a kaptain repository, written by kaptain init",
        main: "index.ts",
        dependencies,
    };
    return `${JSON.stringify(pkg, null, 2)}\n`;
}

const TSCONFIG = `${JSON.stringify(
    {
        compilerOptions: {
            strict: true,
            target: "es2022",
            module: "commonjs",
            moduleResolution: "node",
            esModuleInterop: true,
            skipLibCheck: true,
        },
        files: ["index.ts"],
    },
    null,
    2,
)}\n`;

/** A stack's settings: every key with the reason it has this value. */
export function stackYaml(stack: NamespaceStack): string {
    const from = stack.folder === "." ? "the repository's root" : `${stack.folder}/`;
    const lines = [
        `# Namespace ${stack.namespace}, deployed from ${from} (written by kaptain init).`,
        "# The cluster is the one of $KUBECONFIG, as with kaptain; to pin it, before the first deploy:",
        `#   pulumi config set --secret kaptain:kubeconfig "$(cat FILE)" --stack ${stack.namespace}`,
        "config:",
        `  kaptain:namespace: ${scalar(stack.namespace)}`,
    ];
    if (stack.hooks === false) {
        lines.push(
            `  # kaptain sources the hooks.sh of ${from} only, and there is none: the repository's does not run.`,
            "  kaptain:hooks: false",
        );
    } else if (stack.hooks !== undefined) {
        lines.push(`  kaptain:hooks: ${scalar(stack.hooks)}`);
    }
    if (stack.helmfileFile !== undefined) {
        lines.push(
            `  # ${from} has no helmfile of its own: the repository's.`,
            "  kaptain:helmfile:",
            `    file: ${scalar(stack.helmfileFile)}`,
        );
    }
    lines.push(`  # ${wrap(stack.provisionConfigs.why, "  # ")}`, "  kaptain:provisionConfigs:");
    for (const [key, value] of Object.entries(stack.provisionConfigs.value)) {
        lines.push(`    ${key}: ${value}`);
    }
    if (stack.provisionConfigs.value.enabled !== false) {
        lines.push(
            "  # Without kaptain:kubeconfig the objects go through Pulumi's default kubernetes provider, which",
            "  # otherwise deletes and re-creates a Secret or ConfigMap whose data changed: update them in place.",
            "  # (Set kaptain:kubeconfig before the first deploy: moving the objects to another provider replaces them.)",
            "  kubernetes:enableSecretMutable: true",
            "  kubernetes:enableConfigMapMutable: true",
        );
    }
    lines.push(
        "  # The program's own files: helmfile never reads them, editing them re-runs no phase.",
        "  kaptain:fingerprintExclude:",
    );
    for (const file of PROGRAM_FILES) {
        lines.push(`    - ${scalar(file)}`);
    }
    if (stack.protect) {
        lines.push(
            "  # A production name: a change that would delete a phase (helmfile destroy) fails until unprotected.",
            "  kaptain:protect: true",
        );
    }
    return `${lines.join("\n")}\n`;
}

/** A YAML scalar: plain when it can only read back as this string, else double-quoted. */
function scalar(value: string): string {
    const plain = /^[A-Za-z_./][A-Za-z0-9_./-]*$/.test(value) && !/^(y|yes|n|no|true|false|on|off|null)$/i.test(value);
    return plain ? value : JSON.stringify(value);
}

/** Wraps a comment at about 100 columns. */
function wrap(text: string, prefix: string): string {
    const lines: string[] = [];
    let line = "";
    for (const word of text.split(" ")) {
        if (line !== "" && line.length + word.length + 1 > 100 - prefix.length) {
            lines.push(line);
            line = word;
        } else {
            line = line === "" ? word : `${line} ${word}`;
        }
    }
    lines.push(line);
    return lines.join(`\n${prefix}`);
}

/** The versions pulumi-kaptain is tested with, from its own package.json. */
export function testedVersions(pulumiKaptain?: string): PackageVersions {
    const pkg = ownPackageJson();
    const tested = Object.fromEntries(
        TESTED_PACKAGES.map(name => {
            const range = pkg.devDependencies?.[name];
            if (range === undefined) {
                throw new Error(`pulumi-kaptain's package.json pins no ${name}`);
            }
            return [name, range.replace(/^[~^]/, "")];
        }),
    );
    return { pulumiKaptain: pulumiKaptain ?? pkg.version, tested };
}

function ownPackageJson(): { version: string; devDependencies?: Record<string, string> } {
    // sdk/init/ in the source, bin/sdk/init/ in the package: the nearest package.json up.
    for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
        const file = path.join(dir, "package.json");
        if (fs.existsSync(file)) {
            const pkg = JSON.parse(fs.readFileSync(file, "utf8")) as { name?: string; version: string };
            if (pkg.name === "pulumi-kaptain") {
                return pkg;
            }
        }
    }
    throw new Error(`no package.json of pulumi-kaptain above ${__dirname}`);
}
